/**
 * Benchmark 6 — hostile clients (issue 12, docs/contract.md §11): items 1, 2, 4 and 5 of the
 * hostile-client review replayed against a real Transit at its default limits (with a credentials
 * file), each beside an idle baseline of the same server:
 *
 * - `fragments` (item 1): 20 documents a second whose fragments spread each other exponentially;
 * - `vm-flood` (item 2): one host credential floods VMs at the rate (4 batches a second),
 *   and its VMs are marked UNKNOWN and back;
 * - `slow-connections` (item 4): 11,000 connections without a token sending headers slowly,
 *   2,000 sending bodies slowly;
 * - `subscriptions` (item 5): one viewer asks for 5,100 subscriptions while ~20 transitions/s flow.
 *
 * Each scenario runs on a fresh server (its own process) for `BENCH_DURATION_MS` (default 20 s)
 * with three processes: the server, the attacker (support/hostile-attack.ts, bounded loops,
 * loopback only) and a probe (support/hostile-probe.ts) asking `{ engine { cursor } }` every
 * 20 ms as a viewer and `GET /health` every 100 ms on a new connection. Reported: the longest
 * event-loop delay in the server after the first 2 s (the warm-up's own, when cold code first
 * runs, printed apart), the probe's p99, /health answered, peak RSS, and what the
 * server answered the attacker, by code.
 *
 * Targets: probe p99 ≤ 100 ms and no event-loop delay over 100 ms for items 1 and 2; every
 * /health answered within 5 s (a load balancer's usual timeout) in items 4 and 5; peak RSS
 * ≤ 512 MiB in every scenario.
 *
 *   npm run bench -- hostile      (or: npx tsx bench/hostile.ts [scenario ...])
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentialLine, newToken, Role } from '../src/server/security/credentials.js';
import { machine } from './report.js';
import type { AttackJob, AttackResult, AttackTokens, Scenario } from './support/hostile-attack.js';
import type { ProbeJob, ProbeResult } from './support/hostile-probe.js';
import { runWorker, startServer } from './support/processes.js';
import type { ServerStats } from './support/servers.js';

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 20_000);
const FLOOD_HOST = 'host-flood';
const CHURN_HOST = 'host-churn';
const LOOP_TARGET_MS = 100;
/** The start of each scenario whose event-loop delay is printed but not judged (cold code). */
const WARMUP_MS = 2_000;
const P99_TARGET_MS = 100;
const RSS_TARGET_BYTES = 512 * 2 ** 20;
/** A load balancer's usual health-check timeout (AWS's and Kubernetes' defaults are 5 s and 1 s). */
const HEALTH_DEADLINE_MS = 5_000;
const SCENARIOS: readonly { scenario: Scenario; label: string; timing: boolean; health: boolean }[] = [
  { scenario: 'idle', label: 'idle (baseline)', timing: false, health: false },
  { scenario: 'fragments', label: '1. exponential fragments', timing: true, health: false },
  { scenario: 'vm-flood', label: '2. VM flood from one host', timing: true, health: false },
  { scenario: 'slow-connections', label: '4. slow connections without a token', timing: false, health: true },
  { scenario: 'subscriptions', label: '5. one viewer, 5,100 subscriptions', timing: false, health: true },
];

interface Measured {
  readonly label: string;
  readonly timing: boolean;
  readonly health: boolean;
  readonly server: ServerStats;
  /** The longest event-loop delay in the first `WARMUP_MS` (not judged). */
  readonly warmupLoopDelayMs: number;
  readonly probe: ProbeResult;
  readonly attack: AttackResult;
}

function credentials(): { path: string; tokens: AttackTokens; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'transit-hostile-'));
  const tokens: AttackTokens = { viewer: newToken(), floodHost: newToken(), churnHost: newToken(), fencer: newToken() };
  const lines = [
    credentialLine({ name: 'bench-viewer', roles: [Role.VIEWER] }, tokens.viewer),
    credentialLine({ name: 'bench-flood', roles: [Role.HOST], hostId: FLOOD_HOST }, tokens.floodHost),
    credentialLine({ name: 'bench-churn', roles: [Role.HOST], hostId: CHURN_HOST }, tokens.churnHost),
    credentialLine({ name: 'bench-fencer', roles: [Role.FENCER] }, tokens.fencer),
  ];
  const path = join(dir, 'credentials');
  writeFileSync(path, `${lines.join('\n')}\n`);
  return { path, tokens, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

async function measure(which: (typeof SCENARIOS)[number], file: string, tokens: AttackTokens): Promise<Measured> {
  const server = await startServer('transit', { TRANSIT_CREDENTIALS_FILE: file });
  try {
    const url = `http://127.0.0.1:${server.port}/graphql`;
    const probeJob: ProbeJob = { url, token: tokens.viewer, durationMs: DURATION_MS, probeEveryMs: 20, healthEveryMs: 100, healthDeadlineMs: HEALTH_DEADLINE_MS };
    const attackJob: AttackJob = { scenario: which.scenario, url, durationMs: DURATION_MS, tokens, hosts: { flood: FLOOD_HOST, churn: CHURN_HOST } };
    await server.stats(); // from here on
    const running = Promise.all([
      runWorker<ProbeJob, ProbeResult>('hostile-probe.ts', probeJob, DURATION_MS + 180_000),
      runWorker<AttackJob, AttackResult>('hostile-attack.ts', attackJob, DURATION_MS + 180_000),
    ]);
    // The first requests of a new process run cold code (V8 compiles it as it goes): the loop's
    // longest delay is judged after the warm-up, and the warm-up's own is printed beside it.
    await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
    const warmup = await server.stats();
    const [probe, attack] = await running;
    const after = await server.stats();
    const judged = { ...after, peakRssBytes: Math.max(warmup.peakRssBytes, after.peakRssBytes) };
    return { label: which.label, timing: which.timing, health: which.health, server: judged, warmupLoopDelayMs: warmup.maxLoopDelayMs, probe, attack };
  } finally {
    await server.stop();
  }
}

const ms = (n: number) => (Number.isNaN(n) ? '—' : n >= 100 ? `${Math.round(n).toLocaleString('en')} ms` : `${n.toFixed(1)} ms`);
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;
const met = (ok: boolean) => (ok ? 'met' : '**missed**');

function targets(m: Measured): string[] {
  const out: string[] = [];
  if (m.timing) {
    out.push(`loop ≤ ${LOOP_TARGET_MS} ms: ${met(m.server.maxLoopDelayMs <= LOOP_TARGET_MS)}`);
    out.push(`p99 ≤ ${P99_TARGET_MS} ms: ${met(m.probe.probe.p99Ms <= P99_TARGET_MS)}`);
  }
  if (m.health) out.push(`every /health answered within ${HEALTH_DEADLINE_MS / 1_000} s: ${met(m.probe.health.failed === 0)}`);
  out.push(`RSS ≤ ${mib(RSS_TARGET_BYTES)}: ${met(m.server.peakRssBytes <= RSS_TARGET_BYTES)}`);
  return out;
}

function print(results: readonly Measured[]): void {
  console.log('\n## hostile clients (default limits, with credentials)');
  console.log(`| scenario | longest event-loop delay | probe p50 / p99 / max | probe failed | /health answered within ${HEALTH_DEADLINE_MS / 1_000} s (p99) | peak RSS | server answered the attacker | targets |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const m of results) {
    const { probe, health } = m.probe;
    const answers = Object.entries(m.attack.answers)
      .sort((a, b) => b[1] - a[1])
      .map(([code, n]) => `${code} × ${n.toLocaleString('en')}`)
      .join(', ');
    console.log(
      `| ${m.label} | ${ms(m.server.maxLoopDelayMs)} | ${ms(probe.p50Ms)} / ${ms(probe.p99Ms)} / ${ms(probe.maxMs)} | ${probe.failed} of ${probe.sent} | ` +
        `${health.ok} of ${health.sent} (${ms(health.p99Ms)}) | ${mib(m.server.peakRssBytes)} | ${answers === '' ? '—' : answers} | ${targets(m).join('; ')} |`,
    );
  }
  for (const m of results) {
    for (const note of m.attack.notes) {
      console.log(
        `- ${m.label}: ${note}; server CPU ${Math.round(m.server.cpu * 100)} %, event loop busy ${Math.round(m.server.elu * 100)} %; ` +
          `longest event-loop delay in the first ${WARMUP_MS / 1_000} s (warm-up, not judged) ${ms(m.warmupLoopDelayMs)}`,
      );
    }
  }
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.scenario === w));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; available: ${SCENARIOS.map((s) => s.scenario).join(', ')}`);
  process.exit(2);
}
console.log(machine());
const { path, tokens, cleanup } = credentials();
try {
  const results: Measured[] = [];
  for (const which of SCENARIOS.filter((s) => wanted.length === 0 || s.scenario === 'idle' || wanted.includes(s.scenario))) {
    console.log(`running ${which.label} for ${DURATION_MS / 1_000} s ...`);
    results.push(await measure(which, path, tokens));
  }
  print(results);
} finally {
  cleanup();
}
