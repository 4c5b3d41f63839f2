/**
 * `GET /metrics` on a real server: Prometheus text with the server's request and phase timings and
 * the domain's gauges and counters, which follow what the table does (a migration, a rerun,
 * ignored reports, a subscriber).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, completeMigration, MIGRATE, migrate, report, REPORT } from '../utils/api.js';
import { startServer, type TestServer } from '../utils/server.js';
import { subscribeWs, wsClient } from '../utils/ws.js';

const METRICS_PATH = '/metrics';
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** Every metric the issue asks for, by its exposed name. */
const EXPECTED_NAMES = [
  // request and phase timings (yoga's Prometheus plugin)
  'graphql_yoga_http_duration_bucket',
  'graphql_envelop_request',
  'graphql_envelop_phase_execute_bucket',
  // the domain's gauges
  'transit_vms',
  'transit_vms_by_status',
  'transit_table_entries',
  'transit_migrations',
  'transit_stalled_entries',
  'transit_hosts',
  'transit_subscribers',
  'transit_evacuations',
  // the domain's counters
  'transit_migration_outcomes_total',
  'transit_migration_reruns_total',
  'transit_transitions_total',
  'transit_events_total',
  'transit_vm_reports_applied_total',
  'transit_vm_reports_ignored_total',
  // the queue and its limits (docs/contract.md §8)
  'transit_migrations_pending',
  'transit_migrations_outgoing',
  'transit_migrations_incoming',
  'transit_migrations_in_flight',
  'transit_migration_duration_seconds_bucket',
  'transit_migration_aborts_total',
  // the process
  'process_cpu_user_seconds_total',
  'nodejs_heap_size_used_bytes',
] as const;

const WATCH = graphql(`
  subscription MetricsWatch {
    transitions {
      cursor
    }
  }
`);

type Samples = ReadonlyMap<string, number>;

/** Scrapes `/metrics`: each sample by its name and labels as printed (`transit_hosts{status="UP"}`). */
async function scrape(server: TestServer): Promise<Samples> {
  const response = await fetch(new URL(METRICS_PATH, server.url));
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe(PROMETHEUS_TEXT);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

const value = (samples: Samples, sample: string): number => {
  const found = samples.get(sample);
  if (found === undefined) throw new Error(`no sample ${sample} in /metrics`);
  return found;
};

/** How much each named sample grew between two scrapes. */
const growth = (before: Samples, after: Samples, names: readonly string[]) => Object.fromEntries(names.map((n) => [n, value(after, n) - value(before, n)]));

describe('/metrics', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    await server.stop();
  });

  it('should serve Prometheus text with the request and phase timings and the domain’s gauges and counters', async () => {
    await arrange(server, { 'host-a': ['vm-1'] });
    const samples = await scrape(server);
    const names = new Set([...samples.keys()].map((sample) => sample.replace(/\{.*$/, '')));
    expect(EXPECTED_NAMES.filter((name) => !names.has(name))).toEqual([]);
    expect(value(samples, 'transit_vms')).toBe(1);
    expect(value(samples, 'transit_hosts{status="UP"}')).toBe(1);
    expect(value(samples, 'graphql_envelop_request{operationType="mutation"}')).toBe(1);
  });

  it('should keep as many series however many operation names clients make up (a name is no label)', async () => {
    const ask = (name: string) =>
      fetch(new URL('/graphql', server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `query ${name} { engine { cursor } }` }) });
    const requestSeries = (samples: Samples) => [...samples.keys()].filter((sample) => sample.startsWith('graphql_'));
    await ask('Warm');
    const before = requestSeries(await scrape(server));
    for (let i = 0; i < 20; i++) expect((await ask(`Made_up_${i}`)).status).toBe(200);
    const after = await scrape(server);
    expect(requestSeries(after)).toEqual(before);
    expect([...after.keys()].filter((sample) => sample.includes('Made_up'))).toEqual([]);
    expect(value(after, 'graphql_envelop_request{operationType="query"}')).toBe(21);
  });

  it('should move the table size, migrations by state and the outcome counter with a migration', async () => {
    await arrange(server, { 'host-a': ['vm-1'], 'host-b': [] });
    const before = await scrape(server);
    await migrate(server, 'vm-1', 'host-b');
    const during = await scrape(server);
    expect(value(during, 'transit_table_entries')).toBe(1);
    expect(value(during, 'transit_migrations{state="IN_PROGRESS"}')).toBe(1);
    expect(value(during, 'transit_vms_by_status{status="MIGRATING_FROM"}')).toBe(1);
    expect(growth(before, during, ['transit_transitions_total{cause="MIGRATE_COMMAND"}', 'transit_events_total{type="MIGRATION_STARTED"}'])).toEqual({
      'transit_transitions_total{cause="MIGRATE_COMMAND"}': 1,
      'transit_events_total{type="MIGRATION_STARTED"}': 1,
    });

    await completeMigration(server, 'vm-1', 'host-a', 'host-b');
    const after = await scrape(server);
    expect(value(after, 'transit_table_entries')).toBe(0);
    expect(value(after, 'transit_migrations{state="IN_PROGRESS"}')).toBe(0);
    expect(value(after, 'transit_migrations{state="SUCCEEDED"}')).toBe(1);
    expect(
      growth(before, after, ['transit_migration_outcomes_total{outcome="SUCCEEDED"}', 'transit_migration_outcomes_total{outcome="FAILED"}', 'transit_migration_reruns_total', 'transit_vm_reports_applied_total']),
    ).toEqual({
      'transit_migration_outcomes_total{outcome="SUCCEEDED"}': 1,
      'transit_migration_outcomes_total{outcome="FAILED"}': 0,
      'transit_migration_reruns_total': 0,
      // completeMigration: five reports of one VM each
      'transit_vm_reports_applied_total': 5,
    });
  });

  it('should count a rerun, not an outcome, when an attempt Transit placed fails', async () => {
    await arrange(server, { 'host-a': ['vm-1'], 'host-b': [], 'host-c': [] });
    const { migrateVm } = await server.data(MIGRATE, { input: { vmId: 'vm-1' } });
    const destination = (migrateVm.migration as { destination: { id: string } }).destination.id;
    const before = await scrape(server);
    await report(server, 'host-a', [{ vmId: 'vm-1', status: 'MIGRATING_FROM', progress: 10 }]);
    await report(server, 'host-a', [{ vmId: 'vm-1', status: 'UP' }]);
    await report(server, destination, [{ vmId: 'vm-1', status: 'DOWN', exitReason: 'MIGRATION_FAILED' }]);
    const after = await scrape(server);
    expect(growth(before, after, ['transit_migration_reruns_total', 'transit_migration_outcomes_total{outcome="FAILED"}'])).toEqual({
      'transit_migration_reruns_total': 1,
      'transit_migration_outcomes_total{outcome="FAILED"}': 0,
    });
    expect(value(after, 'transit_table_entries')).toBe(1);
  });

  it('should count stalled entries and hosts by status while a side does not respond', async () => {
    await arrange(server, { 'host-a': ['vm-1'], 'host-b': [] });
    await migrate(server, 'vm-1', 'host-b');
    const { reportHostStatus } = await server.data(
      graphql(`
        mutation MetricsHostDown($input: ReportHostStatusInput!) {
          reportHostStatus(input: $input) {
            errors { code }
          }
        }
      `),
      { input: { hostId: 'host-b', status: 'NON_RESPONSIVE' } },
    );
    expect(reportHostStatus.errors).toEqual([]);
    const samples = await scrape(server);
    expect(value(samples, 'transit_stalled_entries')).toBe(1);
    expect(value(samples, 'transit_hosts{status="NON_RESPONSIVE"}')).toBe(1);
    expect(value(samples, 'transit_hosts{status="UP"}')).toBe(1);
  });

  it('should count reports ignored by reason: from a host no side of the migration, and in a stale batch', async () => {
    await arrange(server, { 'host-a': ['vm-1'], 'host-b': [], 'host-c': [] });
    await migrate(server, 'vm-1', 'host-b');
    await report(server, 'host-c', [{ vmId: 'vm-1', status: 'MIGRATING_TO' }]);
    await server.data(REPORT, { input: { hostId: 'host-c', vms: [], sequence: 7, bootId: 'boot-1' } });
    const before = await scrape(server);
    const { reportVmStatuses } = await server.data(REPORT, { input: { hostId: 'host-c', vms: [{ vmId: 'vm-9', status: 'UP' }, { vmId: 'vm-8', status: 'UP' }], sequence: 7, bootId: 'boot-1' } });
    expect(reportVmStatuses.errors.map((e) => e.code)).toEqual(['STALE_REPORT']);
    const after = await scrape(server);
    expect(value(before, 'transit_vm_reports_ignored_total{reason="not_applicable"}')).toBe(1);
    expect(growth(before, after, ['transit_vm_reports_ignored_total{reason="stale_batch"}', 'transit_vm_reports_applied_total'])).toEqual({
      'transit_vm_reports_ignored_total{reason="stale_batch"}': 2,
      'transit_vm_reports_applied_total': 0,
    });
  });

  it('should show the queue and the attempts in flight per host and per cluster against the limits', async () => {
    await arrange(server, { 'host-a': ['vm-1', 'vm-2', 'vm-3'], 'host-b': [], 'host-c': [] });
    for (const vmId of ['vm-1', 'vm-2', 'vm-3']) await server.data(MIGRATE, { input: { vmId } });
    const samples = await scrape(server);
    expect(value(samples, 'transit_migrations_pending')).toBe(1);
    expect(value(samples, 'transit_migrations{state="PENDING"}')).toBe(1);
    expect(value(samples, 'transit_migrations_outgoing{host="host-a"}')).toBe(2);
    expect(value(samples, 'transit_migrations_outgoing{host="host-b"}')).toBe(0);
    expect(value(samples, 'transit_migrations_incoming{host="host-b"}')).toBe(1);
    expect(value(samples, 'transit_migrations_incoming{host="host-c"}')).toBe(1);
    expect(value(samples, 'transit_migrations_in_flight{cluster="default"}')).toBe(2);
    expect(growth(new Map([['transit_events_total{type="MIGRATION_QUEUED"}', 0]]), samples, ['transit_events_total{type="MIGRATION_QUEUED"}'])).toEqual({
      'transit_events_total{type="MIGRATION_QUEUED"}': 1,
    });
  });

  it('should observe how long each decided migration took, by outcome, and count aborts by reason', async () => {
    await arrange(server, { 'host-a': ['vm-1', 'vm-2'], 'host-b': [] });
    await migrate(server, 'vm-1', 'host-b');
    server.clock.advance(42_000);
    await completeMigration(server, 'vm-1', 'host-a', 'host-b');
    await migrate(server, 'vm-2', 'host-b');
    for (let step = 0; step < 3; step++) {
      // Both hosts keep reporting (no host timeout), but the progress stays at 5% for the default 150 s.
      await report(server, 'host-a', [{ vmId: 'vm-2', status: 'MIGRATING_FROM', progress: 5 }]);
      await report(server, 'host-b', [{ vmId: 'vm-2', status: 'MIGRATING_TO' }]);
      server.clock.advance(50_000);
      server.app.table.tick();
    }
    const samples = await scrape(server);
    expect(value(samples, 'transit_migration_duration_seconds_count{outcome="SUCCEEDED"}')).toBe(1);
    expect(value(samples, 'transit_migration_duration_seconds_sum{outcome="SUCCEEDED"}')).toBe(42);
    expect(value(samples, 'transit_migration_duration_seconds_bucket{le="30",outcome="SUCCEEDED"}')).toBe(0);
    expect(value(samples, 'transit_migration_duration_seconds_bucket{le="60",outcome="SUCCEEDED"}')).toBe(1);
    expect(value(samples, 'transit_migration_duration_seconds_count{outcome="FAILED"}')).toBe(0);
    expect(value(samples, 'transit_migration_aborts_total{reason="progress_timeout"}')).toBe(1);
    expect(value(samples, 'transit_migration_aborts_total{reason="completion_timeout"}')).toBe(0);
    expect(value(samples, 'transit_migration_aborts_total{reason="cancel_requested"}')).toBe(0);
  });

  it('should count the subscriptions the table feeds', async () => {
    const ws = wsClient(server.wsUrl);
    try {
      subscribeWs(ws, WATCH);
      await server.untilSubscribers(1);
      expect(value(await scrape(server), 'transit_subscribers')).toBe(1);
    } finally {
      await ws.dispose();
    }
  });

  it('should count evacuations by state, and hosts preparing for maintenance (docs/contract.md §9)', async () => {
    await arrange(server, { 'host-a': ['vm-1'], 'host-b': [], 'host-c': [] });
    const EVACUATE = graphql(`
      mutation MetricsEvacuate($input: EvacuateHostInput!) {
        evacuateHost(input: $input) { errors { code } }
      }
    `);
    await server.data(EVACUATE, { input: { hostId: 'host-c' } }); // empty: completes at once
    await server.data(EVACUATE, { input: { hostId: 'host-a' } });
    const samples = await scrape(server);
    expect(value(samples, 'transit_evacuations{state="IN_PROGRESS"}')).toBe(1);
    expect(value(samples, 'transit_evacuations{state="COMPLETED"}')).toBe(1);
    expect(value(samples, 'transit_evacuations{state="FAILED"}')).toBe(0);
    expect(value(samples, 'transit_hosts{status="PREPARING_FOR_MAINTENANCE"}')).toBe(1);
    expect(value(samples, 'transit_hosts{status="MAINTENANCE"}')).toBe(1);
    expect(value(samples, 'transit_transitions_total{cause="EVACUATION"}')).toBeGreaterThanOrEqual(3);
    expect(value(samples, 'transit_events_total{type="EVACUATION_STARTED"}')).toBe(2);
  });
});
