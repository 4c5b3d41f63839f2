/**
 * `GET /metrics`, in Prometheus text format, on the server's port:
 *
 * - the server's request and phase timings, from graphql-yoga's Prometheus plugin
 *   (`graphql_yoga_http_duration`, `graphql_envelop_phase_{parse,validate,context,execute,subscribe}`,
 *   `graphql_envelop_request{,_duration}`, `graphql_envelop_error_result`), labelled by operation
 *   type and name;
 * - the domain's own gauges, read from the table when scraped (no cost per report): VMs by
 *   status, the table's size, migrations by state, stalled entries, hosts by status, evacuations
 *   by state, subscribers;
 * - the domain's counters: migration outcomes, reruns, transitions by cause and events by type
 *   (fed by the table's change listener), and VM reports applied and ignored (the table's totals);
 * - Node's process metrics (CPU, memory, event-loop lag, GC), as prom-client collects them.
 *
 * Each app has its own registry, so two servers in one process never share a metric.
 */
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { ChangeSet, MigrationTable } from '../../domain/table/table.js';
import { Cause, EvacuationState, EventType, HostStatus, MigrationState, VmStatus } from '../../domain/vocabulary.js';

export const METRICS_PATH = '/metrics';

export interface Metrics {
  readonly registry: Registry;
  /** The yoga plugin: request and phase timings, and the `/metrics` endpoint itself. */
  readonly plugin: Plugin;
  /** Stops counting the table's changes. */
  close(): void;
}

export interface MetricsOptions {
  /** Subscriptions currently fed by the table. */
  readonly subscribers: () => number;
}

/** Seconds: the default buckets start at 5 ms, too coarse for a parse or a validation. */
const PHASE_BUCKETS: [number, ...number[]] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const OUTCOMES = Object.values(MigrationState).filter((state) => state !== MigrationState.IN_PROGRESS);

/** A gauge per label value, set from `read()` at each scrape; every listed value appears, at 0 when absent. */
function gaugeByLabel<L extends string>(registry: Registry, name: string, help: string, label: string, values: readonly L[], read: () => ReadonlyMap<L, number>): void {
  new Gauge({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      const now = read();
      for (const value of values) this.set({ [label]: value }, now.get(value) ?? 0);
    },
  });
}

/** A counter per label value, its children bound once, so counting costs a map lookup and an add. */
function counterByLabel<L extends string>(registry: Registry, name: string, help: string, label: string, values: readonly L[]): (value: L, by?: number) => void {
  const counter = new Counter({ name, help, labelNames: [label], registers: [registry] });
  const children = new Map(values.map((value) => [value, counter.labels({ [label]: value })]));
  return (value, by = 1) => children.get(value)?.inc(by);
}

export function createMetrics(table: MigrationTable, { subscribers }: MetricsOptions): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // ---- gauges, read from the table at scrape time ----
  let stats = table.stats();
  // One read of the table per scrape: the first gauge collected refreshes it for the others.
  new Gauge({
    name: 'transit_vms',
    help: 'VMs known to Transit.',
    registers: [registry],
    collect() {
      stats = table.stats();
      this.set(stats.vms);
    },
  });
  gaugeByLabel(registry, 'transit_vms_by_status', 'VMs known to Transit, by status.', 'status', Object.values(VmStatus), () => stats.vmsByStatus);
  new Gauge({ name: 'transit_table_entries', help: 'Migrations in flight: the migration table’s size.', registers: [registry], collect() { this.set(stats.entries); } });
  new Gauge({ name: 'transit_stalled_entries', help: 'Migrations in flight that are stalled (a side not responding, not registered or not known).', registers: [registry], collect() { this.set(stats.stalledEntries); } });
  gaugeByLabel(registry, 'transit_migrations', 'Migrations kept (in flight, and decided ones up to the history limit), by state.', 'state', Object.values(MigrationState), () => stats.migrationsByState);
  gaugeByLabel(registry, 'transit_hosts', 'Hosts, by status.', 'status', Object.values(HostStatus), () => stats.hostsByStatus);
  gaugeByLabel(registry, 'transit_evacuations', 'Evacuations of hosts kept (running, and ended ones up to the history limit), by state.', 'state', Object.values(EvacuationState), () => stats.evacuationsByState);
  new Gauge({ name: 'transit_subscribers', help: 'Subscriptions (graphql-ws and SSE) currently fed by the table.', registers: [registry], collect() { this.set(subscribers()); } });

  // ---- counters the table keeps (monotonic totals), brought up to date at scrape time ----
  let appliedSeen = 0;
  new Counter({
    name: 'transit_vm_reports_applied_total',
    help: 'VM reports of accepted batches that the table applied.',
    registers: [registry],
    collect() {
      this.inc(stats.reports.applied - appliedSeen);
      appliedSeen = stats.reports.applied;
    },
  });
  const IGNORED = { not_applicable: 'ignored', stale_batch: 'outOfOrderBatch', invalid_batch: 'invalidBatch' } as const;
  const ignoredSeen = { not_applicable: 0, stale_batch: 0, invalid_batch: 0 };
  new Counter({
    name: 'transit_vm_reports_ignored_total',
    help: 'VM reports not applied, by reason: not_applicable (REPORT_IGNORED: from a host that is no side of the migration, or contradicting its role), stale_batch (STALE_REPORT), invalid_batch (INVALID_INPUT).',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, total] of Object.entries(IGNORED) as [keyof typeof IGNORED, (typeof IGNORED)[keyof typeof IGNORED]][]) {
        this.inc({ reason }, stats.reports[total] - ignoredSeen[reason]);
        ignoredSeen[reason] = stats.reports[total];
      }
    },
  });

  // ---- counters fed by the table's changes ----
  const outcome = counterByLabel(registry, 'transit_migration_outcomes_total', 'Migrations decided, by outcome.', 'outcome', OUTCOMES);
  const reruns = new Counter({ name: 'transit_migration_reruns_total', help: 'Failed attempts tried again on another host.', registers: [registry] });
  const transitions = counterByLabel(registry, 'transit_transitions_total', 'Transitions (changes to a VM, an entry or a host), by cause.', 'cause', Object.values(Cause));
  const events = counterByLabel(registry, 'transit_events_total', 'Events of the operator’s log, by type.', 'type', Object.values(EventType));
  for (const value of OUTCOMES) outcome(value, 0);
  for (const value of Object.values(Cause)) transitions(value, 0);
  for (const value of Object.values(EventType)) events(value, 0);
  const unsubscribe = table.subscribe((changes: ChangeSet) => {
    for (const t of changes.transitions) {
      transitions(t.cause);
      if (t.cause === Cause.RERUN) reruns.inc();
      // A migration leaves the table on exactly one transition, carrying its decided snapshot.
      if (t.migration !== null && t.migration.state !== MigrationState.IN_PROGRESS) outcome(t.migration.state);
    }
    for (const e of changes.events) events(e.type);
  });

  const plugin = usePrometheus({
    registry,
    endpoint: METRICS_PATH,
    metrics: {
      graphql_yoga_http_duration: PHASE_BUCKETS,
      graphql_envelop_request: true,
      graphql_envelop_request_duration: PHASE_BUCKETS,
      graphql_envelop_phase_parse: PHASE_BUCKETS,
      graphql_envelop_phase_validate: PHASE_BUCKETS,
      graphql_envelop_phase_context: PHASE_BUCKETS,
      graphql_envelop_phase_execute: PHASE_BUCKETS,
      graphql_envelop_phase_subscribe: PHASE_BUCKETS,
      graphql_envelop_error_result: true,
      // A summary costs more per request than the histogram it repeats; no field is deprecated; the schema never changes.
      graphql_envelop_request_time_summary: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
    },
    // Bounded label values only: a request URL or an error's path could take any value.
    labels: { url: false, path: false },
  });

  return { registry, plugin, close: unsubscribe };
}
