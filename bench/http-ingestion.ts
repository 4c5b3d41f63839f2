/**
 * Benchmark 2 — host reports over HTTP: 1,000 hosts × 200 VMs, each host sending a full
 * `reportVmStatuses` every 2 s (500 requests/s, 100,000 VM statuses/s), for 30 s measured after
 * 8 s of warm-up at the same rate, the load generator in its own process (`support/http-load.ts`),
 * the server in another. Then each server is saturated (closed loop) to find the most it answers;
 * the server's CPU time over each loop, divided by the reports it answered, is its CPU per report.
 *
 * The same load, in the same run, against the baselines a user could run instead:
 * graphql-yoga with the same input types and a mutation that does nothing, executing with
 * graphql-jit as Transit does (the fair comparison), and the same without graphql-jit; and bare
 * `node:http` parsing the same JSON (the floor).
 *
 * Targets (issue 14): the offered 500 requests/s achieved, with p99 ≤ 50 ms; server CPU per report
 * ≤ 1.25 × yoga + graphql-jit with its no-op resolver. A target is met only when what it needs was
 * measured: the p99 counts only when the offered rate was achieved with no failure.
 *
 *   npm run bench -- http-ingestion      (or: npx tsx bench/http-ingestion.ts)
 *   BENCH_DURATION_MS=10000 npx tsx bench/http-ingestion.ts   (shorter, for trying things)
 *   BENCH_VMS_PER_HOST=1000 BENCH_HTTP_KINDS=transit,yoga-jit npx tsx bench/http-ingestion.ts   (a point of the scale curve)
 */
import os from 'node:os';
import { machine, percentile, printTable, type Row } from './report.js';
import type { HttpLoadJob, HttpLoadResult } from './support/http-load.js';
import { runWorker, startServer } from './support/processes.js';
import type { ServerKind, ServerStats } from './support/servers.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 1_000);
const VMS_PER_HOST = Number(process.env.BENCH_VMS_PER_HOST ?? 200);
const INTERVAL_MS = 2_000;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 30_000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 8_000);
const SATURATE_MS = Number(process.env.BENCH_SATURATE_MS ?? 10_000);
const CONCURRENCY = 16;
/**
 * CPU per report is measured again in rounds that alternate Transit and yoga + graphql-jit, both
 * servers up, after one unmeasured round each, `CPU_ROUNDS` closed loops of `CPU_ROUND_MS` each, each
 * server pinned to one core and the load generator to the other: the median round of each is the
 * figure the target is judged by. One loop per server, minutes apart, varied by ±30 % on this
 * machine (neighbours on its host, not the code): an alternating median is steadier.
 */
const CPU_ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 5);
const CPU_ROUND_MS = Number(process.env.BENCH_CPU_ROUND_MS ?? 4_000);
const SERVER_CPU = 0;
const LOAD_CPU = 1;
const P99_TARGET_MS = 50;
const CPU_TARGET = 1.25;
type Kind = 'transit' | 'yoga-jit' | 'yoga' | 'echo';
const KINDS = (process.env.BENCH_HTTP_KINDS ?? 'transit,yoga-jit,yoga,echo').split(',') as Kind[];
const NAMES: Record<Kind, string> = { transit: 'Transit', 'yoga-jit': 'yoga + graphql-jit, no-op resolver', yoga: 'yoga without graphql-jit, no-op resolver', echo: 'node:http echo' };

/** Transit in open mode, as `npm start` runs it; host timeouts far off so no host times out between phases. */
const TRANSIT_ENV = { TRANSIT_HOST_TIMEOUT_MS: '3600000' };

interface Measured {
  readonly load: HttpLoadResult;
  readonly open: ServerStats;
  readonly saturated: ServerStats;
  /** 1-minute load average when this server's run started and ended. */
  readonly loadAverage: readonly [number, number];
}

const loadNow = () => os.loadavg()[0] as number;

/** The fleet's load against the server on `port`, with its phases' lengths. */
const loadJob = (port: number, phases: Pick<HttpLoadJob, 'warmupMs' | 'durationMs' | 'saturateMs' | 'firstSequence'>): HttpLoadJob => ({
  url: `http://127.0.0.1:${port}/graphql`,
  hosts: HOSTS,
  vmsPerHost: VMS_PER_HOST,
  intervalMs: INTERVAL_MS,
  concurrency: CONCURRENCY,
  ...phases,
});

async function measure(kind: ServerKind): Promise<Measured> {
  const loadFrom = loadNow();
  // Not pinned here: on one core, the server's GC threads took turns with it and its p99 doubled
  // (pinned 53.3 and 32.9 ms, not pinned 13.7 and 26.6 ms, Transit alone, 30 s). The CPU rounds
  // (`alternatingCpu`) are pinned: there steadiness matters, not latency.
  const server = await startServer(kind, kind === 'transit' ? TRANSIT_ENV : {});
  try {
    const job = loadJob(server.port, { warmupMs: WARMUP_MS, durationMs: DURATION_MS, saturateMs: SATURATE_MS });
    // The server's CPU is read as the measured open loop starts and ends, and after the closed loop.
    let chain: Promise<unknown> = Promise.resolve();
    let open: Promise<ServerStats> | null = null;
    const load = await runWorker<HttpLoadJob, HttpLoadResult>('http-load.ts', job, 10 * 60_000, {
      onPhase: (phase) => {
        if (phase === 'measure') chain = chain.then(() => server.stats());
        if (phase === 'saturate') chain = open = chain.then(() => server.stats());
      },
    });
    if (open === null) throw new Error('the load generator never reached its closed loop');
    const openStats = await open;
    const saturated = await server.stats();
    return { load, open: openStats, saturated, loadAverage: [loadFrom, loadNow()] };
  } finally {
    await server.stop();
  }
}

/** Server CPU per report answered (µs) in each of `CPU_ROUNDS` closed loops, Transit's and yoga + graphql-jit's alternating. */
async function alternatingCpu(): Promise<{ transit: number[]; jit: number[]; loadAverage: readonly [number, number] }> {
  const loadFrom = loadNow();
  const servers = { transit: await startServer('transit', TRANSIT_ENV, undefined, SERVER_CPU), jit: await startServer('yoga-jit', {}, undefined, SERVER_CPU) };
  const perReport = { transit: [] as number[], jit: [] as number[] };
  try {
    // Round -1 warms both up unmeasured: each host's first batches after the start are applied
    // item by item (and, with 1,000 VMs per report, Transit's heap is still growing).
    for (let round = -1; round < CPU_ROUNDS; round++) {
      for (const key of ['transit', 'jit'] as const) {
        const server = servers[key];
        // A closed loop only; each round's sequences above the last round's: no batch is stale.
        const job = loadJob(server.port, { warmupMs: 0, durationMs: 0, saturateMs: CPU_ROUND_MS, firstSequence: (round + 1) * 1_000_000 });
        let before: Promise<ServerStats> | null = null;
        const load = await runWorker<HttpLoadJob, HttpLoadResult>('http-load.ts', job, 10 * 60_000, {
          cpu: LOAD_CPU,
          onPhase: (phase) => {
            if (phase === 'saturate') before = server.stats();
          },
        });
        if (before === null) throw new Error('the load generator never reached its closed loop');
        await before;
        const during = await server.stats();
        if (round >= 0) perReport[key].push(during.cpuMicros / load.saturatedCount);
      }
    }
  } finally {
    await Promise.all([servers.transit.stop(), servers.jit.stop()]);
  }
  return { ...perReport, loadAverage: [loadFrom, loadNow()] };
}

const median = (values: readonly number[]) => percentile([...values].sort((a, b) => a - b), 50);

const pct = (x: number) => `${Math.round(x * 100)} %`;
/** Server CPU per report answered, µs: in the open loop and at saturation. */
const openCpu = (m: Measured) => m.open.cpuMicros / m.load.answered;
const saturatedCpu = (m: Measured) => m.saturated.cpuMicros / m.load.saturatedCount;
const loadText = (m: Measured) => `load ${m.loadAverage[0].toFixed(1)}→${m.loadAverage[1].toFixed(1)}`;

export async function run(): Promise<Row[]> {
  const results = new Map<Kind, Measured>();
  for (const kind of KINDS) {
    const m = await measure(kind);
    results.set(kind, m);
    const { load, open, saturated } = m;
    console.log(
      `${NAMES[kind]}: open loop ${load.achievedPerSecond.toFixed(1)} of ${load.offeredPerSecond.toFixed(0)} req/s offered, p50 ${load.latency.p50Ms.toFixed(1)} ms, p99 ${load.latency.p99Ms.toFixed(1)} ms, max ${load.latency.maxMs.toFixed(1)} ms, ${load.failures} failed, ` +
        `server CPU ${pct(open.cpu)} (event loop ${pct(open.elu)}), ${openCpu(m).toFixed(0)} µs per report; ` +
        `saturated ${load.saturatedPerSecond.toFixed(0)} req/s (p99 ${load.saturatedLatency.p99Ms.toFixed(1)} ms), server CPU ${pct(saturated.cpu)}, ${saturatedCpu(m).toFixed(0)} µs per report; request ${load.requestBytes} B; ${loadText(m)}`,
    );
    if (load.firstFailure !== null) console.log(`  first failure: ${load.firstFailure}`);
  }
  const transit = results.get('transit');
  if (transit === undefined) return [];
  const alternating = results.has('yoga-jit') && CPU_ROUNDS > 0 ? await alternatingCpu() : null;
  if (alternating !== null) {
    const list = (values: readonly number[]) => values.map((v) => v.toFixed(0)).join(', ');
    const ratios = alternating.transit.map((t, i) => (t / (alternating.jit[i] as number)).toFixed(2)).join(', ');
    console.log(
      `CPU per report in ${CPU_ROUNDS} alternating closed loops of ${CPU_ROUND_MS / 1000} s (after one unmeasured each): Transit ${list(alternating.transit)} µs (median ${median(alternating.transit).toFixed(0)}); ` +
        `yoga + graphql-jit ${list(alternating.jit)} µs (median ${median(alternating.jit).toFixed(0)}); ratio by round ${ratios}; load ${alternating.loadAverage[0].toFixed(1)}→${alternating.loadAverage[1].toFixed(1)}`,
    );
  }
  const t = transit.load;
  const sustained = t.achievedPerSecond >= 0.99 * t.offeredPerSecond && t.failures === 0;
  const baselines = [...results].filter(([kind]) => kind !== 'transit') as [Kind, Measured][];
  const beside = (value: (m: Measured) => number) => baselines.map(([kind, m]) => ({ baseline: value(m), baselineName: NAMES[kind] }));
  const rows: Row[] = [];
  const shape = `${HOSTS.toLocaleString('en')} hosts × ${VMS_PER_HOST} VMs every ${INTERVAL_MS / 1000} s, ${DURATION_MS / 1000} s; ${loadText(transit)}`;
  rows.push({ name: `achieved rate, ${t.offeredPerSecond.toFixed(0)} req/s offered (${shape})`, value: t.achievedPerSecond, unit: 'req/s', target: { text: `= ${t.offeredPerSecond.toFixed(0)} offered, no failure (${t.failures} failed)`, met: sustained } });
  for (const b of beside((m) => m.load.achievedPerSecond)) rows.push({ name: '… same load', value: t.achievedPerSecond, unit: 'req/s', ...b });
  for (const [i, b] of beside((m) => m.load.latency.p99Ms).entries()) {
    rows.push({
      name: `p99 latency at ${t.offeredPerSecond.toFixed(0)} req/s offered, ${t.achievedPerSecond.toFixed(0)} achieved`,
      value: t.latency.p99Ms,
      unit: 'ms',
      ...b,
      lowerIsBetter: true,
      ...(i === 0 ? { target: { text: `≤ ${P99_TARGET_MS} ms at the offered rate`, met: sustained && t.latency.p99Ms <= P99_TARGET_MS } } : {}),
    });
  }
  for (const b of beside((m) => m.load.latency.p50Ms)) rows.push({ name: 'p50 latency, same load', value: t.latency.p50Ms, unit: 'ms', ...b, lowerIsBetter: true });
  if (alternating !== null) {
    const [transitCpu, jitCpu] = [median(alternating.transit), median(alternating.jit)];
    rows.push({
      name: `server CPU per ${VMS_PER_HOST}-VM report, saturated: median of ${CPU_ROUNDS} closed loops of ${CPU_ROUND_MS / 1000} s alternating with the baseline's (${CONCURRENCY} in flight; load ${alternating.loadAverage[0].toFixed(1)}→${alternating.loadAverage[1].toFixed(1)})`,
      value: transitCpu,
      unit: 'µs',
      baseline: jitCpu,
      baselineName: NAMES['yoga-jit'],
      lowerIsBetter: true,
      target: { text: `≤ ${CPU_TARGET} × yoga + graphql-jit`, met: transitCpu <= CPU_TARGET * jitCpu },
    });
  }
  for (const b of beside(saturatedCpu)) {
    rows.push({
      name: `server CPU per ${VMS_PER_HOST}-VM report, one closed loop per server (${CONCURRENCY} in flight, ${SATURATE_MS / 1000} s)`,
      value: saturatedCpu(transit),
      unit: 'µs',
      ...b,
      lowerIsBetter: true,
    });
  }
  for (const b of beside(openCpu)) rows.push({ name: `server CPU per report at ${t.offeredPerSecond.toFixed(0)} req/s offered`, value: openCpu(transit), unit: 'µs', ...b, lowerIsBetter: true });
  for (const b of beside((m) => m.load.saturatedPerSecond)) rows.push({ name: `most answered (closed loop)`, value: t.saturatedPerSecond, unit: 'req/s', ...b });
  rows.push({ name: '… as VM statuses per second', value: t.saturatedPerSecond * VMS_PER_HOST, unit: 'VM statuses/s' });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(machine());
  printTable('host reports over HTTP', await run());
  console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}
