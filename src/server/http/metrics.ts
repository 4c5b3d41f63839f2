/**
 * `GET /metrics`, in Prometheus text format, on the server's port:
 *
 * - the server's request and phase timings, from graphql-yoga's Prometheus plugin
 *   (`graphql_yoga_http_duration`, `graphql_envelop_phase_{execute,subscribe}`,
 *   `graphql_envelop_request`, `graphql_envelop_error_result`), labelled by operation type, never
 *   by operation name (a client chooses it: each new one would be a series kept for ever);
 * - the domain's own gauges, read from the table when scraped (no cost per report): VMs by
 *   status, the table's size, migrations by state, stalled entries, hosts by status, evacuations
 *   by state, subscribers;
 * - the domain's counters: migration outcomes, reruns, transitions by cause and events by type
 *   (fed by the table's change listener), and VM reports applied and ignored (the table's totals);
 * - the queue and its limits (docs/contract.md §8): migrations pending, attempts in flight per host
 *   (outgoing, incoming) and per cluster, a histogram of migration durations by outcome (accepted
 *   to decided, queue included), and aborts by reason;
 * - Node's process metrics (CPU, memory, event-loop lag, GC), as prom-client collects them.
 *
 * Each app has its own registry, so two servers in one process never share a metric.
 */
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ChangeSet, MigrationTable } from '../../domain/table/table.js';
import { Cause, EvacuationState, EventType, HostStatus, MigrationState, VmStatus } from '../../domain/vocabulary.js';

/** What the table's gauges and counters are read from: the table itself, or (clustered mode) whichever table this process owns. */
export type MetricsSource = Pick<MigrationTable, 'stats' | 'subscribe' | 'hosts'>;

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
  /** Registers more metrics in the app's registry (clustered mode: lease, takeovers, stream lag). */
  readonly register?: (registry: Registry) => void;
}

/** Seconds: the default buckets start at 5 ms, too coarse for a parse or a validation. */
const PHASE_BUCKETS: [number, ...number[]] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const OUTCOMES = Object.values(MigrationState).filter((state) => state !== MigrationState.IN_PROGRESS && state !== MigrationState.PENDING);

/** Seconds, from a migration accepted to its outcome: seconds for a small VM, up to hours in a long queue. */
const DURATION_BUCKETS: [number, ...number[]] = [1, 5, 10, 30, 60, 120, 300, 600, 1_800, 3_600, 7_200];

/** Why Transit ordered a source to abort: a deadline (§8), or a cancel of a migration in flight. */
const ABORT_REASONS = { [Cause.PROGRESS_TIMEOUT]: 'progress_timeout', [Cause.COMPLETION_TIMEOUT]: 'completion_timeout', [Cause.CANCEL]: 'cancel_requested' } as const;
type AbortCause = keyof typeof ABORT_REASONS;
const isAbortCause = (cause: Cause): cause is AbortCause => cause in ABORT_REASONS;

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

export function createMetrics(table: MetricsSource, { subscribers, register }: MetricsOptions): Metrics {
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
  new Gauge({ name: 'transit_migrations_pending', help: 'Migrations waiting in the queue for a free slot (PENDING).', registers: [registry], collect() { this.set(stats.pending); } });
  const perHost = (direction: 'outgoing' | 'incoming') =>
    new Gauge({
      name: `transit_migrations_${direction}`,
      help: `Attempts in flight ${direction === 'outgoing' ? 'leaving' : 'heading to'} each host (discovered ones included), against TRANSIT_MAX_${direction.toUpperCase()}_MIGRATIONS_PER_HOST.`,
      labelNames: ['host'],
      registers: [registry],
      collect() {
        this.reset();
        for (const host of table.hosts()) this.set({ host: host.id }, stats.inFlightByHost.get(host.id)?.[direction] ?? 0);
      },
    });
  perHost('outgoing');
  perHost('incoming');
  new Gauge({
    name: 'transit_migrations_in_flight',
    help: 'Attempts in flight in each cluster (discovered ones included), against TRANSIT_MAX_MIGRATIONS_PER_CLUSTER.',
    labelNames: ['cluster'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [cluster, count] of stats.inFlightByCluster) this.set({ cluster }, count);
    },
  });

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
  const durations = new Histogram({
    name: 'transit_migration_duration_seconds',
    help: 'Migrations decided, from accepted to decided (the queue included), by outcome.',
    labelNames: ['outcome'],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const aborts = counterByLabel(
    registry,
    'transit_migration_aborts_total',
    'Attempts in flight whose source Transit ordered to abort, by reason: progress_timeout, completion_timeout (deadlines), cancel_requested (cancelMigration).',
    'reason',
    Object.values(ABORT_REASONS),
  );
  for (const value of Object.values(ABORT_REASONS)) aborts(value, 0);
  for (const value of OUTCOMES) durations.zero({ outcome: value });
  for (const value of OUTCOMES) outcome(value, 0);
  for (const value of Object.values(Cause)) transitions(value, 0);
  for (const value of Object.values(EventType)) events(value, 0);
  const unsubscribe = table.subscribe((changes: ChangeSet) => {
    for (const t of changes.transitions) {
      transitions(t.cause);
      if (t.cause === Cause.RERUN) reruns.inc();
      const m = t.migration;
      if (m === null) continue;
      // A migration is decided on exactly one transition, carrying its decided snapshot.
      if (m.endedAt !== null && m.state !== MigrationState.IN_PROGRESS && m.state !== MigrationState.PENDING) {
        outcome(m.state);
        durations.observe({ outcome: m.state }, Math.max(0, m.endedAt - m.startedAt) / 1000);
      }
      // An abort is ordered on exactly one transition of an attempt in flight: the deadline's, or the cancel's.
      if (m.state === MigrationState.IN_PROGRESS && isAbortCause(t.cause)) aborts(ABORT_REASONS[t.cause]);
    }
    for (const e of changes.events) events(e.type);
  });

  register?.(registry);

  const plugin = usePrometheus({
    registry,
    endpoint: METRICS_PATH,
    metrics: {
      graphql_yoga_http_duration: PHASE_BUCKETS,
      graphql_envelop_request: true,
      graphql_envelop_phase_execute: PHASE_BUCKETS,
      graphql_envelop_phase_subscribe: PHASE_BUCKETS,
      graphql_envelop_error_result: true,
      // Each metric costs every request (about 10 µs a histogram). Parse and validation hit yoga's
      // caches for every document sent again (a host's report every 2 s), so their timings say
      // little that the HTTP duration does not; building the context is constant; the request
      // duration repeats the HTTP one. A summary costs more than the histogram it repeats; no
      // field is deprecated; the schema never changes.
      graphql_envelop_request_duration: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_request_time_summary: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
    },
    // Bounded label values only: a request URL, an error's path or an operation's name could take
    // any value a client sends, and each new value would be a new series kept for ever.
    labels: { url: false, path: false, operationName: false },
  });

  return { registry, plugin, close: unsubscribe };
}
