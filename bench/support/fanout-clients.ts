/**
 * Subscribers and driver of benchmark 3, run in one process of their own (so sending a mutation
 * and receiving its transition are timed by one clock): `wsSubscribers` WebSocket and
 * `sseSubscribers` SSE subscribers to every transition, and a driver that runs migrations.
 *
 * Against Transit each subscriber speaks graphql-ws (`subscription { transitions { ... } }`) or
 * SSE, and the driver migrates `vms` VMs back and forth between host pairs: `migrateVm`, then the
 * hosts' reports (source MIGRATING_FROM with rising progress, destination MIGRATING_TO, source
 * DOWN, destination UP). Each of these mutations makes exactly one transition of its VM, and a
 * VM's next mutation goes only once the previous one is answered, so the k-th transition a
 * subscriber receives for a VM is the k-th mutation sent for it: that is how a delivery finds the
 * mutation that caused it (checked at the end: every subscriber got every transition).
 *
 * Against the bare broadcast the subscribers are plain WebSockets and SSE streams, and the driver
 * POSTs, per step, the very message a Transit subscriber received for it, which the server
 * sends to all. Against the peers (`yoga-pubsub`, `mercurius`) the subscribers speak graphql-ws
 * and SSE as against Transit, with the same subscription, and the driver POSTs the same captured
 * messages to `/publish`, which the peer publishes on its pub/sub. Every kind parses messages the
 * same way (only the VM id is read). Before measuring against a kind other than Transit, the
 * driver publishes a probe until every subscriber has received one (their subscriptions are live).
 *
 * Phases: `rate` sends steps at a fixed rate (latency at a given load); `window` keeps at most
 * `window` transitions sent but not yet delivered to every subscriber (the most it delivers).
 */
import { performance } from 'node:perf_hooks';
import { Client, Pool } from 'undici';
import WebSocket from 'ws';
import { announcePhase, workerMain } from './processes.js';
import { TRANSITIONS_SUBSCRIPTION } from './transitions-subscription.js';

export interface FanOutPhase {
  readonly name: string;
  readonly mode: 'rate' | 'window';
  /** Steps per second (`rate`), or transitions in flight (`window`). */
  readonly amount: number;
  readonly durationMs: number;
  /** Sent but not measured at the start of the phase. */
  readonly warmupMs: number;
}

export type FanOutKind = 'transit' | 'broadcast' | 'yoga-pubsub' | 'mercurius';

export interface FanOutJob {
  readonly kind: FanOutKind;
  readonly port: number;
  readonly wsSubscribers: number;
  readonly sseSubscribers: number;
  /** VMs migrating, two per host pair. */
  readonly vms: number;
  readonly phases: readonly FanOutPhase[];
  /** All but Transit: per VM, the messages a Transit subscriber received, replayed in turn. */
  readonly captured?: readonly (readonly string[])[];
}

export interface PhaseResult {
  readonly name: string;
  /** Measured time, s, and the messages delivered in it. */
  readonly seconds: number;
  readonly delivered: number;
  /** Transitions received by every subscriber, per second. */
  readonly transitionsPerSecond: number;
  /** Messages received, all subscribers together, per second. */
  readonly deliveriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Steps the driver could not send on time (`rate`): every VM was still waiting for an answer. */
  readonly late: number;
}

export interface FanOutResult {
  readonly phases: readonly PhaseResult[];
  readonly subscribers: number;
  /** Every subscriber received exactly the transitions the mutations made, in order per VM. */
  readonly complete: boolean;
  readonly problems: readonly string[];
  readonly messageBytes: number;
  /** Per VM, the first messages received (kept to replay against the baseline). */
  readonly captured: readonly (readonly string[])[];
  /** CPU of this process, 1 = one core. */
  readonly clientCpu: number;
}

const MAX_STEPS_PER_VM = 20_000;
/** Latency histogram: 0.1 ms buckets up to 60 s. */
const BUCKET_MS = 0.1;
const BUCKETS = 600_000;
const CAPTURE_PER_VM = 13;

class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  max = 0;
  record(ms: number): void {
    this.counts[Math.min(BUCKETS - 1, Math.max(0, Math.round(ms / BUCKET_MS)))]!++;
    this.count++;
    if (ms > this.max) this.max = ms;
  }
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i] as number;
      if (seen >= rank) return i * BUCKET_MS;
    }
    return Number.NaN;
  }
}

/** One VM's migrations as a cycle of steps; each step is one mutation making one transition. */
function transitSteps(vm: string, a: string, b: string): { readonly query: string; readonly variables: unknown }[] {
  const report = (hostId: string, line: Record<string, unknown>) => ({
    query: 'mutation Step($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { errors { code message } } }',
    variables: { input: { hostId, vms: [{ vmId: vm, ...line }] } },
  });
  const oneWay = (source: string, destination: string) => [
    { query: 'mutation Go($input: MigrateVmInput!) { migrateVm(input: $input) { errors { code message } } }', variables: { input: { vmId: vm, destinationHostId: destination } } },
    report(source, { status: 'MIGRATING_FROM', progress: 10, peerHostId: destination }),
    report(destination, { status: 'MIGRATING_TO', peerHostId: source }),
    ...[20, 30, 40, 50, 60, 70, 80, 90].map((progress) => report(source, { status: 'MIGRATING_FROM', progress, peerHostId: destination })),
    report(source, { status: 'DOWN', exitReason: 'MIGRATION_SUCCEEDED' }),
    report(destination, { status: 'UP' }),
  ];
  return [...oneWay(a, b), ...oneWay(b, a)];
}

const vmName = (v: number) => `fan-vm-${v}`;
const PROBE_VM = 'fan-probe';
const hostName = (v: number, side: 'a' | 'b') => `fan-host-${Math.floor(v / 2)}-${side}`;

async function run(job: FanOutJob): Promise<FanOutResult> {
  const origin = `http://127.0.0.1:${job.port}`;
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 20) problems.push(text);
  };
  const http = new Pool(origin, { connections: 8, pipelining: 1 });
  const post = async (path: string, body: string): Promise<string> => {
    const { statusCode, body: answer } = await http.request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await answer.text();
    if (statusCode !== 200) throw new Error(`${path}: ${statusCode} ${text.slice(0, 300)}`);
    return text;
  };
  const vmIndex = new Map(Array.from({ length: job.vms }, (_, v) => [vmName(v), v]));

  // ---- the world: each VM UP on its pair's host a ----
  if (job.kind === 'transit') {
    for (let v = 0; v < job.vms; v += 2) {
      const vms = [v, v + 1].filter((x) => x < job.vms).map((x) => ({ vmId: vmName(x), status: 'UP' }));
      for (const [hostId, list] of [[hostName(v, 'a'), vms], [hostName(v, 'b'), []]] as const) {
        const text = await post('/graphql', JSON.stringify({ query: 'mutation Setup($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { errors { code } } }', variables: { input: { hostId, vms: list, full: true } } }));
        if (!text.includes('"errors":[]')) throw new Error(`setup: ${text}`);
      }
    }
  }

  // ---- subscribers ----
  const graphqlServer = job.kind !== 'broadcast';
  const sentAt = Array.from({ length: job.vms }, () => new Float64Array(MAX_STEPS_PER_VM));
  const sent = new Int32Array(job.vms);
  const fullyDelivered = Array.from({ length: job.vms }, () => new Int32Array(MAX_STEPS_PER_VM));
  const captured: string[][] = Array.from({ length: job.vms }, () => []);
  let messageBytes = 0;
  let deliveries = 0;
  let measuring: Histogram | null = null;
  let measureFrom = Number.POSITIVE_INFINITY;
  let outstanding = 0; // sent, not yet received by every subscriber
  let wake: (() => void) | null = null;
  const nudge = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  const total = job.wsSubscribers + job.sseSubscribers;
  const probed = new Uint8Array(total);
  let probedCount = 0;
  const receive = (received: Int32Array, text: string, capture: boolean, s: number) => {
    const at = text.indexOf('"vmId":"');
    if (at < 0) {
      if (text.includes('"errors"')) problem(`error delivered: ${text.slice(0, 300)}`);
      return;
    }
    const now = performance.now();
    const vm = text.slice(at + 8, text.indexOf('"', at + 8));
    const v = vmIndex.get(vm);
    if (v === undefined) {
      if (vm === PROBE_VM && probed[s] === 0) {
        probed[s] = 1;
        probedCount++;
      }
      return;
    }
    const k = received[v]!++;
    deliveries++;
    if (k >= sent[v]!) {
      problem(`a transition of ${vmName(v)} arrived before its mutation was sent (#${k})`);
      return;
    }
    const since = sentAt[v]![k]!;
    if (measuring !== null && since >= measureFrom) measuring.record(now - since);
    if (capture && captured[v]!.length < CAPTURE_PER_VM) {
      captured[v]!.push(text);
      messageBytes = Buffer.byteLength(text);
    }
    if (++fullyDelivered[v]![k]! === total) {
      outstanding--;
      nudge();
    }
  };

  const received = Array.from({ length: total }, () => new Int32Array(job.vms));
  let ready = 0;
  const allReady = new Promise<void>((resolve) => {
    const one = () => {
      if (++ready === total) resolve();
    };
    for (let s = 0; s < job.wsSubscribers; s++) {
      const mine = received[s] as Int32Array;
      const capture = s === 0;
      if (graphqlServer) {
        const socket = new WebSocket(`ws://127.0.0.1:${job.port}/graphql`, 'graphql-transport-ws');
        socket.on('open', () => socket.send('{"type":"connection_init"}'));
        socket.on('message', (data: Buffer) => {
          const text = data.toString('utf8');
          if (text.includes('"type":"next"')) return receive(mine, payloadOf(text), capture, s);
          if (text.includes('"connection_ack"')) {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: TRANSITIONS_SUBSCRIPTION } }));
            one();
          } else if (text.includes('"ping"')) socket.send('{"type":"pong"}');
          else if (!text.includes('"pong"')) problem(`ws ${s}: ${text.slice(0, 200)}`);
        });
        socket.on('close', (code) => problem(`ws ${s} closed ${code}`));
      } else {
        const socket = new WebSocket(`ws://127.0.0.1:${job.port}/ws`);
        socket.on('open', one);
        socket.on('message', (data: Buffer) => receive(mine, payloadOf(data.toString('utf8')), capture, s));
        socket.on('close', (code) => problem(`ws ${s} closed ${code}`));
      }
    }
    for (let s = job.wsSubscribers; s < total; s++) {
      const mine = received[s] as Int32Array;
      const client = new Client(origin, { bodyTimeout: 0, headersTimeout: 60_000 });
      const request =
        graphqlServer
          ? { path: '/graphql', method: 'POST' as const, headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: JSON.stringify({ query: TRANSITIONS_SUBSCRIPTION }) }
          : { path: '/sse', method: 'GET' as const, headers: { accept: 'text/event-stream' } };
      void client.request(request).then(async ({ statusCode, body }) => {
        if (statusCode !== 200) problem(`sse ${s}: ${statusCode}`);
        one();
        let buffered = '';
        for await (const chunk of body) {
          buffered += (chunk as Buffer).toString('utf8');
          let end: number;
          while ((end = buffered.indexOf('\n\n')) >= 0) {
            const event = buffered.slice(0, end);
            buffered = buffered.slice(end + 2);
            if (event.includes('event: next')) receive(mine, event.slice(event.indexOf('data: ') + 6), false, s);
          }
        }
      }, (error: unknown) => problem(`sse ${s}: ${String(error)}`));
    }
  });
  await allReady;
  // Subscriptions are registered with the table once the server has read the subscribe messages.
  await waitForSubscribers(http, job.kind, total);
  if (job.kind !== 'transit') {
    // Publish a probe until every subscriber has had one: then every subscription is live.
    const sample = job.captured?.[0]?.[0];
    if (sample === undefined) throw new Error('nothing captured to publish');
    const probe = sample.replace(/"vmId":"[^"]*"/, `"vmId":"${PROBE_VM}"`);
    const deadline = performance.now() + 120_000;
    while (probedCount < total) {
      if (performance.now() > deadline) throw new Error(`${probedCount} of ${total} subscribers received a probe after 120 s`);
      await post('/publish', probe);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  // ---- the driver ----
  const steps = Array.from({ length: job.vms }, (_, v) => transitSteps(vmName(v), hostName(v, 'a'), hostName(v, 'b')));
  const busy = new Uint8Array(job.vms);
  let cursor = 0;
  /** Sends the next step of the next VM not waiting for an answer; false when all are waiting. */
  const sendOne = (): boolean => {
    for (let tried = 0; tried < job.vms; tried++) {
      const v = cursor;
      cursor = (cursor + 1) % job.vms;
      if (busy[v] === 1) continue;
      const k = sent[v]!;
      if (k >= MAX_STEPS_PER_VM) continue;
      busy[v] = 1;
      sentAt[v]![k] = performance.now();
      sent[v] = k + 1;
      outstanding++;
      const body =
        job.kind === 'transit'
          ? JSON.stringify(steps[v]![k % steps[v]!.length])
          : (job.captured?.[v]?.[k % (job.captured[v]?.length ?? 1)] ?? '{}');
      void post(job.kind === 'transit' ? '/graphql' : '/publish', body).then(
        (text) => {
          if (job.kind === 'transit' && !text.includes('"errors":[]')) problem(`step ${k} of ${vmName(v)}: ${text.slice(0, 300)}`);
          busy[v] = 0;
          nudge();
        },
        (error: unknown) => {
          problem(`step ${k} of ${vmName(v)}: ${String(error)}`);
          busy[v] = 0;
        },
      );
      return true;
    }
    return false;
  };

  const results: PhaseResult[] = [];
  for (const phase of job.phases) {
    announcePhase(phase.name);
    const histogram = new Histogram();
    const start = performance.now();
    measureFrom = start + phase.warmupMs;
    const end = measureFrom + phase.durationMs;
    let deliveriesAtMeasure = -1;
    let fullAtMeasure = 0;
    const fullNow = () => {
      let n = 0;
      for (let v = 0; v < job.vms; v++) for (let k = 0; k < sent[v]!; k++) if (fullyDelivered[v]![k] === total) n++;
      return n;
    };
    let late = 0;
    let due = 0;
    while (performance.now() < end) {
      const now = performance.now();
      if (deliveriesAtMeasure < 0 && now >= measureFrom) {
        announcePhase(`measure:${phase.name}`);
        measuring = histogram;
        deliveriesAtMeasure = deliveries;
        fullAtMeasure = fullNow();
      }
      if (phase.mode === 'rate') {
        const target = Math.floor(((now - start) / 1_000) * phase.amount);
        while (due < target) {
          due++;
          if (!sendOne()) late++;
        }
        await new Promise((resolve) => setTimeout(resolve, 1));
      } else {
        while (outstanding < phase.amount && sendOne());
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 5);
        });
      }
    }
    announcePhase(`end:${phase.name}`);
    const seconds = (performance.now() - measureFrom) / 1_000;
    const deliveredInPhase = deliveries - deliveriesAtMeasure;
    const fullInPhase = fullNow() - fullAtMeasure;
    measuring = null;
    // Drain: everything sent reaches every subscriber before the next phase (or give up after 30 s).
    const drainUntil = performance.now() + 30_000;
    while (outstanding > 0 && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 10));
    if (outstanding > 0) problem(`${outstanding} transitions never reached every subscriber after phase ${phase.name}`);
    results.push({
      name: phase.name,
      seconds,
      delivered: deliveredInPhase,
      transitionsPerSecond: fullInPhase / seconds,
      deliveriesPerSecond: deliveredInPhase / seconds,
      p50Ms: histogram.percentile(50),
      p99Ms: histogram.percentile(99),
      maxMs: histogram.max,
      late,
    });
  }

  let complete = true;
  for (let s = 0; s < total; s++) {
    for (let v = 0; v < job.vms; v++) {
      if (received[s]![v] !== sent[v]) {
        complete = false;
        problem(`subscriber ${s} got ${received[s]![v]} transitions of ${vmName(v)}, ${sent[v]} were made`);
        break;
      }
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  return {
    phases: results,
    subscribers: total,
    complete,
    problems,
    messageBytes,
    captured,
    clientCpu: (cpu.user + cpu.system) / 1_000 / (performance.now() - wallStart),
  };
}

/** A graphql-ws `next` message's payload as it came (`{"data":...}`), without parsing it. */
function payloadOf(message: string): string {
  const at = message.indexOf('"payload":');
  return at < 0 ? message : message.slice(at + 10, message.length - 1);
}

/** Until `/health` counts every subscription as fed by the table. */
async function waitForSubscribers(http: Pool, kind: FanOutKind, total: number): Promise<void> {
  if (kind !== 'transit') return;
  const deadline = performance.now() + 60_000;
  for (;;) {
    const { body } = await http.request({ path: '/health', method: 'GET' });
    const { subscriptions } = (await body.json()) as { subscriptions: number };
    if (subscriptions >= total) return;
    if (performance.now() > deadline) throw new Error(`${subscriptions} of ${total} subscriptions after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

await workerMain(run);
