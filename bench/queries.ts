/**
 * Benchmark 5 — queries: `migrations(hostId, first: 100)` and `vms(status, first: 100)` latency
 * with 1,000,000 VMs known and 100,000 entries in the table (1,000 hosts × 1,000 VMs, 100 of each
 * host's migrating to the next host, so a host has 200 migrations and a full page).
 *
 * Over HTTP, one request at a time, from a client in its own process, pages starting at random
 * cursors; baseline, same run: graphql-yoga answering the same query with a fixed page of the
 * same shape (the cost of GraphQL over HTTP alone). In process: the table's index-served page
 * against a scan that finds the same page by walking every VM or migration in order.
 *
 * Target: p99 ≤ 5 ms, filters served by indexes, not scans.
 *
 *   npm run bench -- queries      (or: npx tsx bench/queries.ts)
 */
import { performance } from 'node:perf_hooks';
import { MigrationTable } from '../src/domain/table/table.js';
import type { Migration, Vm } from '../src/domain/model.js';
import { machine, percentile, printTable, type Row } from './report.js';
import { hostId, preload, type FleetShape } from './support/preload.js';
import { runWorker, startServer } from './support/processes.js';
import type { QueryJob, QueryResult } from './support/query-load.js';

const FLEET: FleetShape = { hosts: 1_000, vmsPerHost: 1_000, migrating: 100 };
const VMS = FLEET.hosts * FLEET.vmsPerHost;
const PAGE = 100;
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2_000);
const P99_TARGET_MS = 5;

const MIGRATIONS_BY_HOST = /* GraphQL */ `
  query MigrationsOfHost($hostId: ID!) {
    migrations(hostId: $hostId, first: ${PAGE}) {
      edges { cursor node { id vmId sourceHostId destinationHostId state progress stalled startedAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const VMS_BY_STATUS = /* GraphQL */ `
  query VmsByStatus($status: VmStatus, $after: String) {
    vms(status: $status, first: ${PAGE}, after: $after) {
      edges { cursor node { id status hostId } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

/** Deterministic pseudo-random numbers, so every run asks the same pages. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

/** A page cursor as Transit hands them out (`pageCursor` in src/schema/cursors.ts). */
const pageCursor = (epoch: string, ordinal: number) => Buffer.from(`${epoch}:${ordinal}`, 'utf8').toString('base64url');

function jobFor(url: string, epoch: string): QueryJob {
  const next = random(42);
  const hosts = Array.from({ length: 64 }, () => ({ hostId: hostId(Math.floor(next() * FLEET.hosts)) }));
  // Pages start anywhere among the million ordinals: the first page and the last are the same price.
  const pages = (status: string) => Array.from({ length: 64 }, () => ({ status, after: pageCursor(epoch, Math.floor(next() * VMS * 0.9)) }));
  return {
    url,
    warmup: 200,
    count: REQUESTS,
    queries: [
      { name: 'migrations', query: MIGRATIONS_BY_HOST, variables: hosts },
      { name: 'vms UP', query: VMS_BY_STATUS, variables: pages('UP') },
      { name: 'vms MIGRATING_FROM', query: VMS_BY_STATUS, variables: pages('MIGRATING_FROM') },
    ],
  };
}

async function overHttp(kind: 'transit' | 'yoga'): Promise<QueryResult> {
  const env: Record<string, string> =
    kind === 'transit'
      ? { TRANSIT_HOST_TIMEOUT_MS: '3600000', TRANSIT_MIGRATION_PROGRESS_TIMEOUT_MS: '0', TRANSIT_MIGRATION_COMPLETION_TIMEOUT_PER_GIB_MS: '0', BENCH_PRELOAD_HOSTS: String(FLEET.hosts), BENCH_PRELOAD_VMS: String(FLEET.vmsPerHost), BENCH_PRELOAD_MIGRATING: String(FLEET.migrating) }
      : {};
  // The server on one core, the client on the other (processes.ts, `Cpu`).
  const server = await startServer(kind, env, undefined, 0);
  try {
    const url = `http://127.0.0.1:${server.port}/graphql`;
    let epoch = 'baseline';
    if (kind === 'transit') {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ engine { epoch } }' }) });
      epoch = ((await response.json()) as { data: { engine: { epoch: string } } }).data.engine.epoch;
    }
    return await runWorker<QueryJob, QueryResult>('query-load.ts', jobFor(url, epoch), 5 * 60_000, { cpu: 1 });
  } finally {
    await server.stop();
  }
}

interface InProcess {
  readonly index: { p50: number; p99: number };
  readonly scan: { p50: number; p99: number };
}

function time(runs: number, body: (i: number) => void): { p50: number; p99: number } {
  const samples = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    body(i);
    samples[i] = performance.now() - started;
  }
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

/** The same pages from the table's indexes, and from a scan of every record in order. */
function inProcess(): Record<'migrations' | 'vms UP' | 'vms MIGRATING_FROM', InProcess> {
  const table = new MigrationTable({
    epoch: 'bench',
    clock: Date.now,
    hostTimeoutMs: 3_600_000,
    migrationStartTimeoutMs: 3_600_000,
    maxAttempts: 3,
    historyLimit: 100_000,
    // The preloaded migrations never progress: no deadline may abort them mid-measure.
    migrationProgressTimeoutMs: 0,
    migrationCompletionTimeoutPerGibMs: 0,
  });
  preload(table, FLEET);
  // What a table without indexes would walk: every VM and every migration, in ordinal order.
  const allVms: Vm[] = table.vms({}, 0, VMS).items.slice();
  const allMigrations: Migration[] = table.migrations({}, 0, 1_000_000).items.slice();
  const scanPage = <T>(all: readonly T[], after: number, ordinal: (t: T) => number, keep: (t: T) => boolean) => {
    const page: T[] = [];
    for (const item of all) if (ordinal(item) > after && keep(item) && page.push(item) > PAGE) break;
    return page;
  };
  const runs = 200;
  const next = random(7);
  const hosts = Array.from({ length: runs }, () => hostId(Math.floor(next() * FLEET.hosts)));
  const afters = Array.from({ length: runs }, () => Math.floor(next() * VMS * 0.9));
  const check = (a: number, b: number, what: string) => {
    if (a !== b) throw new Error(`${what}: the index gives ${a} items, the scan ${b}`);
  };
  const byHost = (h: string) => (m: Migration) => m.source.hostId === h || m.destination.hostId === h;
  check(table.migrations({ hostId: hosts[0] }, 0, PAGE).items.length, Math.min(PAGE, scanPage(allMigrations, 0, (m) => m.ordinal, byHost(hosts[0] as string)).length), 'migrations');
  const result = {} as Record<'migrations' | 'vms UP' | 'vms MIGRATING_FROM', InProcess>;
  result.migrations = {
    index: time(runs, (i) => table.migrations({ hostId: hosts[i] }, 0, PAGE)),
    scan: time(runs, (i) => scanPage(allMigrations, 0, (m) => m.ordinal, byHost(hosts[i] as string))),
  };
  for (const status of ['UP', 'MIGRATING_FROM'] as const) {
    check(table.vms({ status }, afters[0], PAGE).items.length, Math.min(PAGE, scanPage(allVms, afters[0] as number, (vm) => vm.ordinal, (vm) => vm.status === status).length), `vms ${status}`);
    result[`vms ${status}`] = {
      index: time(runs, (i) => table.vms({ status }, afters[i], PAGE)),
      scan: time(runs, (i) => scanPage(allVms, afters[i] as number, (vm) => vm.ordinal, (vm) => vm.status === status)),
    };
  }
  return result;
}

export async function run(): Promise<Row[]> {
  const local = inProcess();
  const transit = await overHttp('transit');
  const yoga = await overHttp('yoga');
  const label: Record<string, string> = {
    migrations: `migrations(hostId, first: ${PAGE})`,
    'vms UP': `vms(status: UP, first: ${PAGE}, after: random) — ${Math.round(0.9 * VMS).toLocaleString('en')} match`,
    'vms MIGRATING_FROM': `vms(status: MIGRATING_FROM, first: ${PAGE}, after: random) — ${(FLEET.hosts * FLEET.migrating).toLocaleString('en')} match`,
  };
  const rows: Row[] = [];
  for (const name of Object.keys(label) as (keyof typeof local)[]) {
    const t = transit[name] as QueryResult[string];
    const y = yoga[name] as QueryResult[string];
    console.log(`${name}: Transit p50 ${t.p50Ms.toFixed(2)} ms, p99 ${t.p99Ms.toFixed(2)} ms (${t.meanItems} items a page); yoga fixed page p50 ${y.p50Ms.toFixed(2)}, p99 ${y.p99Ms.toFixed(2)} ms (${y.meanItems} items)`);
    rows.push(
      { name: `${label[name]}, HTTP p50`, value: t.p50Ms, unit: 'ms', baseline: y.p50Ms, baselineName: 'yoga, fixed page', lowerIsBetter: true },
      { name: `${label[name]}, HTTP p99`, value: t.p99Ms, unit: 'ms', baseline: y.p99Ms, baselineName: 'yoga, fixed page', lowerIsBetter: true, target: { text: `≤ ${P99_TARGET_MS} ms`, met: t.p99Ms <= P99_TARGET_MS } },
      { name: `${label[name]}, in process p99`, value: local[name].index.p99, unit: 'ms', baseline: local[name].scan.p99, baselineName: 'scan in order', lowerIsBetter: true },
    );
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(machine());
  printTable('queries', await run());
}
