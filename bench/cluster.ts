/**
 * Benchmark 6 — clustered mode (docs/contract.md §13), with a real `redis-server`:
 *
 * 1. Fan-out: 3,000 graphql-ws subscribers to `transitions`, spread over one, two and three
 *    Transit processes of one cluster (the driver sends its reports to the engine), as many
 *    transitions as the cluster delivers to all of them (`support/cluster-clients.ts`). Baseline:
 *    the same cluster with all 3,000 on one process; also shown, one process without Redis.
 * 2. Takeover: the engine of a cluster of two, driven by the simulated fleet, is killed
 *    (SIGKILL), several times: from the kill to the replica taking the lease (its table's start),
 *    and to the first migration the new engine decides (the `at` of that transition).
 *
 *   npm run bench -- cluster      (or: npx tsx bench/cluster.ts)
 *
 * 3. Routing: a query and a mutation sent to the engine, and to a replica that forwards them.
 *
 * Knobs: BENCH_CLUSTER_PART (fan-out,takeover,routing), BENCH_CLUSTER_SUBSCRIBERS (3000),
 * BENCH_DURATION_MS (20 000), BENCH_CLUSTER_WINDOW (8), BENCH_TAKEOVER_RUNS (5), BENCH_LEASE_TTL_MS (2000; the default
 * setting is 5000), BENCH_ROUTING_REQUESTS (300).
 */
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { Fleet, DEFAULT_FLEET } from '../src/sim/fleet.js';
import { machine, printTable, type Row } from './report.js';
import type { ClusterFanOutJob, ClusterFanOutResult } from './support/cluster-clients.js';
import { health, startRedis, startTransit, untilHealth, type TransitProcess } from './support/cluster-processes.js';
import { runWorker } from './support/processes.js';

const SUBSCRIBERS = Number(process.env.BENCH_CLUSTER_SUBSCRIBERS ?? 3_000);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 20_000);
const RUNS = Number(process.env.BENCH_TAKEOVER_RUNS ?? 5);
const TTL_MS = Number(process.env.BENCH_LEASE_TTL_MS ?? 2_000);
const TICK_MS = 200;
/** No timeouts fire, and 3,000 sockets connecting on a busy machine have time to say hello. */
const QUIET = { TRANSIT_HOST_TIMEOUT_MS: '3600000', TRANSIT_MIGRATION_START_TIMEOUT_MS: '3600000', TRANSIT_WS_INIT_TIMEOUT_MS: '120000' };

/** CPU seconds a Transit process has used, from its `/metrics`. */
async function cpuSeconds(p: TransitProcess): Promise<number> {
  const text = await (await fetch(new URL('/metrics', p.url))).text();
  return Number(/^process_cpu_seconds_total (\S+)$/m.exec(text)?.[1] ?? Number.NaN);
}

type Measured = ClusterFanOutResult & {
  /** CPU per transition delivered to every subscriber, per process of the cluster, in ms. */
  readonly cpuMsPerTransition: readonly number[];
};

async function fanOut(engine: TransitProcess, subscribed: readonly TransitProcess[], all: readonly TransitProcess[] = subscribed): Promise<Measured> {
  const job: ClusterFanOutJob = {
    engineUrl: engine.url,
    wsUrls: subscribed.map((p) => p.url.replace(/^http/, 'ws')),
    subscribers: SUBSCRIBERS,
    // Eight transitions in flight: 3,000 subscribers on one process of a busy two-core machine
    // take seconds to reach; a wider window would measure only its own queue.
    vms: Number(process.env.BENCH_CLUSTER_WINDOW ?? 8),
    hosts: 8,
    warmupMs: 5_000,
    durationMs: DURATION_MS,
  };
  const marks: Promise<number[]>[] = [];
  const result = await runWorker<ClusterFanOutJob, ClusterFanOutResult>('cluster-clients.ts', job, 10 * 60_000, {
    onPhase: () => marks.push(Promise.all(all.map(cpuSeconds))),
  });
  const [from, to] = await Promise.all(marks);
  const transitions = result.transitionsPerSecond * (DURATION_MS / 1_000);
  return { ...result, cpuMsPerTransition: all.map((_, i) => (((to?.[i] ?? Number.NaN) - (from?.[i] ?? Number.NaN)) * 1_000) / transitions) };
}

const describe = (name: string, r: Measured) =>
  `${name}: ${r.transitionsPerSecond.toFixed(1)} transitions/s to all ${SUBSCRIBERS} (${Math.round(r.deliveriesPerSecond).toLocaleString('en')} messages/s), ` +
  `p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, complete ${r.complete}, client CPU ${Math.round(r.clientCpu * 100)} %; ` +
  `server CPU per transition ${r.cpuMsPerTransition.map((ms) => `${ms.toFixed(1)} ms`).join(' / ')} (engine first)` +
  `${r.problems.length > 0 ? `; problems: ${r.problems.join(' | ')}` : ''}`;

/** Transitions per second the busiest process could deliver with a core of its own: what the cluster scales to. */
const capacity = (r: Measured) => 1_000 / Math.max(...r.cpuMsPerTransition.filter((ms) => Number.isFinite(ms)));

async function fanOutRows(): Promise<Row[]> {
  const single = await startTransit(QUIET);
  let alone: Measured;
  try {
    alone = await fanOut(single, [single]);
    console.log(describe('one process, no Redis', alone));
  } finally {
    await single.kill();
  }
  const redis = await startRedis();
  // A long lease: a busy machine must not cause a takeover in the middle of a fan-out measurement.
  const env = { ...QUIET, TRANSIT_REDIS_URL: redis.url, TRANSIT_LEASE_TTL_MS: '30000' };
  const processes: TransitProcess[] = [];
  try {
    processes.push(await startTransit(env));
    await untilHealth(processes, ([h]) => h?.role === 'engine');
    processes.push(...(await Promise.all([startTransit(env), startTransit(env)])));
    await untilHealth(processes, (all) => all.every((h) => h.epoch !== null && h.epoch === all[0]?.epoch));
    const [engine] = processes as [TransitProcess];
    const results: Measured[] = [];
    for (const n of [1, 2, 3]) {
      const result = await fanOut(engine, processes.slice(0, n), processes);
      console.log(describe(`cluster, subscribers on ${n} process${n > 1 ? 'es' : ''}`, result));
      results.push(result);
    }
    const [one, two, three] = results as [Measured, Measured, Measured];
    const rows: Row[] = [
      { name: `transitions delivered to all ${SUBSCRIBERS.toLocaleString('en')} subscribers, one process of a cluster`, value: one.transitionsPerSecond, unit: 'transitions/s', baseline: alone.transitionsPerSecond, baselineName: 'one process, no Redis' },
      { name: '… subscribers spread over two processes', value: two.transitionsPerSecond, unit: 'transitions/s', baseline: one.transitionsPerSecond, baselineName: 'one process of the cluster' },
      { name: '… subscribers spread over three processes', value: three.transitionsPerSecond, unit: 'transitions/s', baseline: one.transitionsPerSecond, baselineName: 'one process of the cluster' },
      { name: 'p99 report → delivery, subscribers on one process', value: one.p99Ms, unit: 'ms', baseline: alone.p99Ms, baselineName: 'one process, no Redis', lowerIsBetter: true },
      { name: 'p99 report → delivery, subscribers on three processes', value: three.p99Ms, unit: 'ms', baseline: one.p99Ms, baselineName: 'one process of the cluster', lowerIsBetter: true },
      { name: 'transitions/s with a core per process (1 / CPU per transition of the busiest process), one process', value: capacity(one), unit: 'transitions/s', baseline: capacity(alone), baselineName: 'one process, no Redis' },
      { name: '… with a core per process, subscribers over two processes', value: capacity(two), unit: 'transitions/s', baseline: capacity(one), baselineName: 'one process of the cluster' },
      { name: '… with a core per process, subscribers over three processes', value: capacity(three), unit: 'transitions/s', baseline: capacity(one), baselineName: 'one process of the cluster' },
    ];
    if (![alone, ...results].every((r) => r.complete)) console.log('NOT COMPLETE: some subscriber missed a transition (see problems above)');
    return rows;
  } finally {
    for (const p of processes) await p.kill();
    await redis.stop();
  }
}

/** The first transition of `epoch` that decides a migration, by the engine's clock; resolves with its `at`. */
function firstDecision(url: string, epoch: () => string | null): { at: Promise<number>; stop: () => Promise<void> } {
  const client = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  const at = new Promise<number>((resolve) => {
    const subscribe = () =>
      client.subscribe<{ transitions: { cursor: string; at: string; migration: { state: string } | null } }>(
        { query: 'subscription { transitions { cursor at migration { state } } }' },
        {
          next: ({ data }) => {
            const t = data?.transitions;
            if (t && t.migration !== null && t.migration.state !== 'IN_PROGRESS' && t.cursor.startsWith(`${epoch()}:`)) resolve(Date.parse(t.at));
          },
          error: () => setTimeout(subscribe, 50),
          complete: () => setTimeout(subscribe, 50), // RESYNC_REQUIRED at the takeover: watch the new run
        },
      );
    subscribe();
  });
  return { at, stop: async () => client.dispose() };
}

async function takeoverRows(): Promise<Row[]> {
  const redis = await startRedis();
  const env = { TRANSIT_REDIS_URL: redis.url, TRANSIT_LEASE_TTL_MS: String(TTL_MS), TRANSIT_TICK_INTERVAL_MS: String(TICK_MS), TRANSIT_HOST_TIMEOUT_MS: '10000', TRANSIT_MIGRATION_START_TIMEOUT_MS: '10000' };
  const first = await startTransit(env);
  await untilHealth([first], ([h]) => h?.role === 'engine');
  const pair: TransitProcess[] = [first, await startTransit(env)];
  const fleet = new Fleet({
    ...DEFAULT_FLEET,
    url: first.url,
    urls: pair.map((p) => p.url),
    hosts: 8,
    vms: 64,
    clusters: 1,
    migrationsPerSecond: 4,
    progressPerSecond: 50,
    fullReportIntervalMs: 1_000,
    agentKeepAliveMs: 1_000,
    agentReportTimeoutMs: 1_000,
    seed: 6,
    faults: { ...DEFAULT_FLEET.faults, cancel: 0, vmCrashesPerMinute: 0, hostHangsPerMinute: 0, duplicateReport: 0, reorderReport: 0 },
  });
  await fleet.start();
  const takeovers: number[] = [];
  const decisions: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const states = await untilHealth(pair, (all) => all.filter((h) => h.role === 'engine').length === 1 && all.every((h) => h.epoch === all[0]?.epoch));
      const engineAt = states.findIndex((h) => h.role === 'engine');
      const engine = pair[engineAt] as TransitProcess;
      const replica = pair[1 - engineAt] as TransitProcess;
      const before = states[0]?.epoch as string;
      // Let it run: migrations in flight when the engine dies.
      const decided = fleet.checker.decided;
      const deadline = Date.now() + 60_000;
      while ((fleet.checker.decided < decided + 3 || fleet.summary.inFlight < 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      let epoch: string | null = null;
      const watch = firstDecision(replica.url, () => epoch);
      await new Promise((r) => setTimeout(r, 200));
      const killedAt = Date.now();
      await engine.kill();
      const [after] = await untilHealth([replica], ([h]) => h?.role === 'engine' && h.epoch !== before);
      epoch = after?.epoch ?? null;
      const started = await (await fetch(replica.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ engine { startedAt } }' }) })).json() as { data: { engine: { startedAt: string } } };
      takeovers.push(Date.parse(started.data.engine.startedAt) - killedAt);
      const decidedAt = await Promise.race([watch.at, new Promise<number>((r) => setTimeout(() => r(Number.NaN), 60_000))]);
      decisions.push(decidedAt - killedAt);
      await watch.stop();
      console.log(`run ${run + 1}: took over ${takeovers.at(-1)} ms after the kill, first decision ${decisions.at(-1)} ms after (epoch ${epoch})`);
      // The killed process comes back on its port, as a replica: the fleet's addresses stay valid.
      pair[engineAt] = await startTransit(env, Number(new URL(engine.url).port));
      await health(pair[engineAt]!.url);
    }
  } finally {
    await fleet.stop();
    for (const p of pair) await p.kill();
    await redis.stop();
  }
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)] as number;
  console.log(`takeover after SIGKILL (ms): ${takeovers.join(', ')}; first decision (ms): ${decisions.join(', ')}`);
  return [
    { name: `kill → replica holds the lease, median of ${RUNS} (lease ${TTL_MS} ms, tick ${TICK_MS} ms)`, value: median(takeovers), unit: 'ms', baseline: TTL_MS + TICK_MS, baselineName: 'lease TTL + one tick', lowerIsBetter: true, target: { text: '≤ TTL + 1 s', met: Math.max(...takeovers) <= TTL_MS + 1_000 } },
    { name: `… worst of ${RUNS}`, value: Math.max(...takeovers), unit: 'ms', baseline: TTL_MS + TICK_MS, baselineName: 'lease TTL + one tick', lowerIsBetter: true },
    { name: `kill → first migration decided by the new engine, median of ${RUNS}`, value: median(decisions), unit: 'ms' },
    { name: `… worst of ${RUNS}`, value: Math.max(...decisions), unit: 'ms' },
  ];
}

/** Latencies of `count` requests sent one after the other, in ms, sorted. */
async function latencies(url: string, body: () => string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body() });
    const text = await response.text();
    if (response.status !== 200 || text.includes('"code":"')) throw new Error(`${response.status} ${text.slice(0, 200)}`);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

/**
 * 3. Where a replica's queries and mutations go: the same query (a page of 100 VMs with their
 *    hosts and migrations, 1,000 VMs known) and the same mutation (a report of one VM) sent to
 *    the engine and to a replica, which forwards them over HTTP. A read model on the replica would
 *    answer the query about as fast as the engine does (the same structures in memory); the
 *    difference is what forwarding costs.
 */
async function routingRows(): Promise<Row[]> {
  const redis = await startRedis();
  const env = { ...QUIET, TRANSIT_REDIS_URL: redis.url, TRANSIT_LEASE_TTL_MS: '30000' };
  const engine = await startTransit(env);
  await untilHealth([engine], ([h]) => h?.role === 'engine');
  const replica = await startTransit(env);
  try {
    await untilHealth([engine, replica], (all) => all.every((h) => h.epoch !== null && h.epoch === all[0]?.epoch));
    const report = (hostId: string, vms: { vmId: string; status: string }[], full = false) =>
      JSON.stringify({ query: 'mutation R($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { errors { code } } }', variables: { input: { hostId, vms, full } } });
    for (let h = 0; h < 10; h++) {
      await latencies(engine.url, () => report(`rt-host-${h}`, Array.from({ length: 100 }, (_, v) => ({ vmId: `rt-vm-${h}-${v}`, status: 'UP' })), true), 1);
    }
    const query = () => JSON.stringify({ query: '{ vms(first: 100) { edges { node { id status host { id status } migration { id } } } } }' });
    let sent = 0;
    const mutation = () => report('rt-host-0', [{ vmId: 'rt-vm-0-0', status: ++sent % 2 === 1 ? 'DOWN' : 'UP' }]);
    const N = Number(process.env.BENCH_ROUTING_REQUESTS ?? 300);
    await latencies(replica.url, query, 30); // warm both paths
    await latencies(engine.url, query, 30);
    const q = { engine: await latencies(engine.url, query, N), replica: await latencies(replica.url, query, N) };
    const m = { engine: await latencies(engine.url, mutation, N), replica: await latencies(replica.url, mutation, N) };
    const p = (xs: number[], pct: number) => xs[Math.min(xs.length - 1, Math.ceil((pct / 100) * xs.length) - 1)] as number;
    console.log(`query p50 engine ${p(q.engine, 50).toFixed(2)} ms, replica ${p(q.replica, 50).toFixed(2)} ms; mutation p50 engine ${p(m.engine, 50).toFixed(2)} ms, replica ${p(m.replica, 50).toFixed(2)} ms`);
    return [
      { name: 'query (100 VMs with hosts) through a replica, p50', value: p(q.replica, 50), unit: 'ms', baseline: p(q.engine, 50), baselineName: 'at the engine (≈ a read model)', lowerIsBetter: true },
      { name: '… p99', value: p(q.replica, 99), unit: 'ms', baseline: p(q.engine, 99), baselineName: 'at the engine', lowerIsBetter: true },
      { name: 'mutation (report of one VM) through a replica, p50', value: p(m.replica, 50), unit: 'ms', baseline: p(m.engine, 50), baselineName: 'at the engine', lowerIsBetter: true },
      { name: '… p99', value: p(m.replica, 99), unit: 'ms', baseline: p(m.engine, 99), baselineName: 'at the engine', lowerIsBetter: true },
    ];
  } finally {
    await replica.kill();
    await engine.kill();
    await redis.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(machine());
  const which = (process.env.BENCH_CLUSTER_PART ?? 'fan-out,takeover,routing').split(',');
  const rows = [
    ...(which.includes('fan-out') ? await fanOutRows() : []),
    ...(which.includes('takeover') ? await takeoverRows() : []),
    ...(which.includes('routing') ? await routingRows() : []),
  ];
  printTable('cluster', rows);
  process.exit(0);
}
