/**
 * Benchmark 3 — fan-out: 1,000 graphql-ws subscribers and 100 SSE subscribers to `transitions`
 * while migrations run (100 VMs migrating back and forth between host pairs: migrate, progress
 * reports, completion), the server in its own process, subscribers and driver in another
 * (`support/fanout-clients.ts`). Baseline, same run: a bare `ws` (and SSE) broadcast of the same
 * messages, the very ones Transit's subscribers received, to as many clients.
 *
 * Two phases each: a fixed rate of mutations (latency at a steady load), then as many
 * as the server delivers with at most `WINDOW` transitions not yet received by every subscriber
 * (the most it delivers). Latency runs from sending the mutation (or the broadcast POST) to the
 * subscriber reading the transition.
 *
 * Targets: transitions delivered ≥ 0.5 × the bare broadcast; p99 delivery ≤ 100 ms at 1,000 subscribers.
 *
 *   npm run bench -- fan-out      (or: npx tsx bench/fan-out.ts)
 */
import { machine, printTable, type Row } from './report.js';
import type { FanOutJob, FanOutPhase, FanOutResult, PhaseResult } from './support/fanout-clients.js';
import { runWorker, startServer } from './support/processes.js';
import type { ServerStats } from './support/servers.js';

const WS_SUBSCRIBERS = 1_000;
const SSE_SUBSCRIBERS = 100;
const VMS = 100;
const RATE = Number(process.env.BENCH_FANOUT_RATE ?? 20);
const WINDOW = Number(process.env.BENCH_FANOUT_WINDOW ?? 64);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 15_000);
const WARMUP_MS = 3_000;
const P99_TARGET_MS = 100;

const PHASES: readonly FanOutPhase[] = [
  { name: 'rate', mode: 'rate', amount: RATE, durationMs: DURATION_MS, warmupMs: WARMUP_MS },
  { name: 'window', mode: 'window', amount: WINDOW, durationMs: DURATION_MS, warmupMs: WARMUP_MS },
];

/**
 * Host timeouts far off; the migration limits off (docs/contract.md §8): the driver moves every VM
 * pair at once to measure the fan-out of their transitions, not the queue.
 */
const TRANSIT_ENV = {
  TRANSIT_HOST_TIMEOUT_MS: '3600000',
  TRANSIT_MAX_OUTGOING_MIGRATIONS_PER_HOST: '0',
  TRANSIT_MAX_INCOMING_MIGRATIONS_PER_HOST: '0',
  TRANSIT_MAX_MIGRATIONS_PER_CLUSTER: '0',
};

interface Measured {
  readonly result: FanOutResult;
  readonly cpu: Record<string, ServerStats>;
}

async function measure(kind: FanOutJob['kind'], captured?: FanOutResult['captured']): Promise<Measured> {
  const server = await startServer(kind === 'transit' ? 'transit' : 'broadcast', kind === 'transit' ? TRANSIT_ENV : {});
  try {
    const cpu: Record<string, ServerStats> = {};
    let previous: string | null = null;
    const job: FanOutJob = { kind, port: server.port, wsSubscribers: WS_SUBSCRIBERS, sseSubscribers: SSE_SUBSCRIBERS, vms: VMS, phases: PHASES, ...(captured ? { captured } : {}) };
    const result = await runWorker<FanOutJob, FanOutResult>('fanout-clients.ts', job, 10 * 60_000, {
      onPhase: (phase) => {
        const ended = previous;
        previous = phase;
        void server.stats().then((stats) => {
          if (ended !== null) cpu[ended] = stats;
        });
      },
    });
    if (previous !== null) cpu[previous] = await server.stats();
    return { result, cpu };
  } finally {
    await server.stop();
  }
}

const phase = (m: Measured, name: string) => m.result.phases.find((p) => p.name === name) as PhaseResult;
const pct = (x: number | undefined) => (x === undefined ? '?' : `${Math.round(x * 100)} %`);

export async function run(): Promise<Row[]> {
  const transit = await measure('transit');
  const broadcast = await measure('broadcast', transit.result.captured);
  for (const [name, m] of [['transit', transit], ['bare ws broadcast', broadcast]] as const) {
    for (const p of m.result.phases) {
      console.log(
        `${name}, ${p.name} phase: ${p.transitionsPerSecond.toFixed(1)} transitions/s to all ${m.result.subscribers}, ${Math.round(p.deliveriesPerSecond)} deliveries/s, ` +
          `p50 ${p.p50Ms.toFixed(1)} ms, p99 ${p.p99Ms.toFixed(1)} ms, max ${p.maxMs.toFixed(1)} ms, late steps ${p.late}; server CPU ${pct(m.cpu[p.name]?.cpu)} (event loop ${pct(m.cpu[p.name]?.elu)})`,
      );
    }
    console.log(`${name}: message ${m.result.messageBytes} B, every subscriber got every transition: ${m.result.complete}, client process CPU ${pct(m.result.clientCpu)}`);
    for (const problem of m.result.problems) console.log(`  problem: ${problem}`);
  }
  const tRate = phase(transit, 'rate');
  const bRate = phase(broadcast, 'rate');
  const tMax = phase(transit, 'window');
  const bMax = phase(broadcast, 'window');
  const subscribers = `${WS_SUBSCRIBERS} graphql-ws + ${SSE_SUBSCRIBERS} SSE`;
  return [
    { name: `transitions delivered to every subscriber (${subscribers}), most per second`, value: tMax.transitionsPerSecond, unit: 'transitions/s', baseline: bMax.transitionsPerSecond, baselineName: 'bare ws broadcast', target: { text: '≥ 0.5 × bare ws', met: transit.result.complete && tMax.transitionsPerSecond >= 0.5 * bMax.transitionsPerSecond } },
    { name: '… as messages delivered per second', value: tMax.deliveriesPerSecond, unit: 'messages/s', baseline: bMax.deliveriesPerSecond, baselineName: 'bare ws broadcast' },
    { name: `p50 mutation → delivery at ${RATE} transitions/s (${Math.round(RATE * (WS_SUBSCRIBERS + SSE_SUBSCRIBERS)).toLocaleString('en')} messages/s)`, value: tRate.p50Ms, unit: 'ms', baseline: bRate.p50Ms, baselineName: 'bare ws broadcast', lowerIsBetter: true },
    { name: `p99 mutation → delivery at ${RATE} transitions/s`, value: tRate.p99Ms, unit: 'ms', baseline: bRate.p99Ms, baselineName: 'bare ws broadcast', lowerIsBetter: true, target: { text: `≤ ${P99_TARGET_MS} ms`, met: tRate.p99Ms <= P99_TARGET_MS } },
    { name: `p99 mutation → delivery at the most delivered (window of ${WINDOW})`, value: tMax.p99Ms, unit: 'ms', baseline: bMax.p99Ms, baselineName: 'bare ws broadcast', lowerIsBetter: true },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(machine());
  printTable('fan-out', await run());
}
