/**
 * Benchmark 2 — host reports over HTTP: 1,000 hosts × 200 VMs, each host sending a full
 * `reportVmStatuses` every 2 s (500 requests/s, 100,000 VM statuses/s), for 30 s measured after
 * 8 s of warm-up at the same rate, the load generator in its own process (`support/http-load.ts`),
 * the server in another.
 * The same load, in the same run, against two baselines a user could run instead: graphql-yoga
 * with a mutation that takes the same input and does nothing, and bare `node:http` parsing the
 * same JSON. Then each server is saturated (closed loop) to find the most it answers.
 *
 * Targets: the 500 requests/s sustained with p99 ≤ 50 ms, and throughput ≥ 0.8 × the yoga baseline.
 *
 *   npm run bench -- http-ingestion      (or: npx tsx bench/http-ingestion.ts)
 *   BENCH_DURATION_MS=10000 npx tsx bench/http-ingestion.ts   (shorter, for trying things)
 */
import { machine, printTable, type Row } from './report.js';
import type { HttpLoadJob, HttpLoadResult } from './support/http-load.js';
import { runWorker, startServer } from './support/processes.js';
import type { ServerKind, ServerStats } from './support/servers.js';

const HOSTS = 1_000;
const VMS_PER_HOST = 200;
const INTERVAL_MS = 2_000;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 30_000);
const WARMUP_MS = 8_000;
const SATURATE_MS = Number(process.env.BENCH_SATURATE_MS ?? 10_000);
const CONCURRENCY = 16;
const P99_TARGET_MS = 50;

/** Transit in open mode, as `npm start` runs it; host timeouts far off so no host times out between phases. */
const TRANSIT_ENV = { TRANSIT_HOST_TIMEOUT_MS: '3600000' };

interface Measured {
  readonly load: HttpLoadResult;
  readonly open: ServerStats;
  readonly saturated: ServerStats;
}

async function measure(kind: ServerKind): Promise<Measured> {
  const server = await startServer(kind, kind === 'transit' ? TRANSIT_ENV : {});
  try {
    const job: HttpLoadJob = {
      url: `http://127.0.0.1:${server.port}/graphql`,
      hosts: HOSTS,
      vmsPerHost: VMS_PER_HOST,
      intervalMs: INTERVAL_MS,
      warmupMs: WARMUP_MS,
      durationMs: DURATION_MS,
      saturateMs: SATURATE_MS,
      concurrency: CONCURRENCY,
    };
    // The server's CPU is read as the measured open loop starts and ends, and after the closed loop.
    let open: Promise<ServerStats> | null = null;
    const load = await runWorker<HttpLoadJob, HttpLoadResult>('http-load.ts', job, 10 * 60_000, {
      onPhase: (phase) => {
        if (phase === 'measure') void server.stats();
        if (phase === 'saturate') open = server.stats();
      },
    });
    const saturated = await server.stats();
    if (open === null) throw new Error('the load generator never reached its closed loop');
    return { load, open: await open, saturated };
  } finally {
    await server.stop();
  }
}

const pct = (x: number) => `${Math.round(x * 100)} %`;

export async function run(): Promise<Row[]> {
  const results = {} as Record<ServerKind, Measured>;
  for (const kind of ['transit', 'yoga', 'echo'] as const) {
    results[kind] = await measure(kind);
    const { load, open, saturated } = results[kind];
    console.log(
      `${kind}: open loop ${load.achievedPerSecond.toFixed(1)}/${load.offeredPerSecond.toFixed(0)} req/s, p50 ${load.latency.p50Ms.toFixed(1)} ms, p99 ${load.latency.p99Ms.toFixed(1)} ms, max ${load.latency.maxMs.toFixed(1)} ms, ${load.failures} failed, server CPU ${pct(open.cpu)} (event loop ${pct(open.elu)}); ` +
        `saturated ${load.saturatedPerSecond.toFixed(0)} req/s (p99 ${load.saturatedLatency.p99Ms.toFixed(1)} ms), server CPU ${pct(saturated.cpu)}; request ${load.requestBytes} B`,
    );
    if (load.firstFailure !== null) console.log(`  first failure: ${load.firstFailure}`);
  }
  const t = results.transit.load;
  const y = results.yoga.load;
  const e = results.echo.load;
  const sustained = t.achievedPerSecond >= 0.99 * t.offeredPerSecond && t.failures === 0;
  return [
    { name: `achieved rate, ${t.offeredPerSecond.toFixed(0)} req/s offered (${HOSTS} hosts × ${VMS_PER_HOST} VMs every ${INTERVAL_MS / 1000} s, ${DURATION_MS / 1000} s)`, value: t.achievedPerSecond, unit: 'req/s', baseline: y.achievedPerSecond, baselineName: 'yoga, trivial mutation', target: { text: 'sustained', met: sustained } },
    { name: '… same, against bare node:http JSON', value: t.achievedPerSecond, unit: 'req/s', baseline: e.achievedPerSecond, baselineName: 'node:http echo' },
    { name: 'p50 latency at 500 req/s', value: t.latency.p50Ms, unit: 'ms', baseline: y.latency.p50Ms, baselineName: 'yoga, trivial mutation', lowerIsBetter: true },
    { name: '… same, against bare node:http JSON', value: t.latency.p50Ms, unit: 'ms', baseline: e.latency.p50Ms, baselineName: 'node:http echo', lowerIsBetter: true },
    { name: 'p99 latency at 500 req/s', value: t.latency.p99Ms, unit: 'ms', baseline: y.latency.p99Ms, baselineName: 'yoga, trivial mutation', lowerIsBetter: true, target: { text: `≤ ${P99_TARGET_MS} ms`, met: t.latency.p99Ms <= P99_TARGET_MS } },
    { name: '… same, against bare node:http JSON', value: t.latency.p99Ms, unit: 'ms', baseline: e.latency.p99Ms, baselineName: 'node:http echo', lowerIsBetter: true },
    { name: `most answered (closed loop, ${CONCURRENCY} in flight, ${SATURATE_MS / 1000} s)`, value: t.saturatedPerSecond, unit: 'req/s', baseline: y.saturatedPerSecond, baselineName: 'yoga, trivial mutation', target: { text: '≥ 0.8 × yoga', met: t.saturatedPerSecond >= 0.8 * y.saturatedPerSecond } },
    { name: '… same, against bare node:http JSON', value: t.saturatedPerSecond, unit: 'req/s', baseline: e.saturatedPerSecond, baselineName: 'node:http echo' },
    { name: '… as VM statuses per second', value: t.saturatedPerSecond * VMS_PER_HOST, unit: 'VM statuses/s', baseline: y.saturatedPerSecond * VMS_PER_HOST, baselineName: 'yoga, trivial mutation' },
    { name: 'server CPU at 500 req/s (1 = one core)', value: results.transit.open.cpu, unit: 'cores', baseline: results.yoga.open.cpu, baselineName: 'yoga, trivial mutation', lowerIsBetter: true },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(machine());
  printTable('host reports over HTTP', await run());
}
