/**
 * Subscribers and driver of the clustered-mode fan-out benchmark, in one process of their own (so
 * sending a mutation and receiving its transition are timed by one clock): `subscribers`
 * graphql-ws subscribers to every transition, spread evenly over the processes of the cluster
 * (`wsUrls`), and a driver that sends its mutations to the engine (`engineUrl`).
 *
 * Each VM is switched DOWN and UP again on its host by partial reports, one at a time: every
 * report makes exactly one transition of its VM, so the k-th transition a subscriber receives for
 * a VM is the k-th report sent for it. `window` VMs are switched at once; a VM's next report goes
 * once every subscriber received its previous transition: the most the cluster delivers to all.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { announcePhase, workerMain } from './processes.js';
import { TRANSITIONS_SUBSCRIPTION } from './transitions-subscription.js';

export interface ClusterFanOutJob {
  readonly engineUrl: string;
  /** graphql-ws endpoints; subscriber i connects to `wsUrls[i % length]`. */
  readonly wsUrls: readonly string[];
  readonly subscribers: number;
  readonly vms: number;
  readonly hosts: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

export interface ClusterFanOutResult {
  readonly transitionsPerSecond: number;
  readonly deliveriesPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Every subscriber got every transition, in order per VM. */
  readonly complete: boolean;
  readonly problems: readonly string[];
  /** CPU of this process, 1 = one core. */
  readonly clientCpu: number;
}

/** A transition not delivered to every subscriber within this long ends its VM's part of the run. */
const STEP_TIMEOUT_MS = 60_000;

const percentile = (sorted: Float64Array, p: number) => (sorted.length === 0 ? Number.NaN : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number));

async function run(job: ClusterFanOutJob): Promise<ClusterFanOutResult> {
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 20) problems.push(text);
  };
  // A connection the busy machine let time out is a finding to report, not a reason to stop measuring.
  process.on('uncaughtException', (error) => problem(`uncaught: ${error.stack ?? error.message}`));
  const origin = new URL(job.engineUrl).origin;
  const http = new Pool(origin, { connections: 8 });
  const post = async (query: string, variables: unknown): Promise<string> => {
    const { statusCode, body } = await http.request({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    const text = await body.text();
    if (statusCode !== 200 || !text.includes('"errors":[]')) throw new Error(`${statusCode} ${text.slice(0, 300)}`);
    return text;
  };
  const REPORT = 'mutation Toggle($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { errors { code } } }';
  const vmName = (v: number) => `cf-vm-${v}`;
  const hostOf = (v: number) => `cf-host-${v % job.hosts}`;
  const vmIndex = new Map(Array.from({ length: job.vms }, (_, v) => [vmName(v), v]));
  for (let h = 0; h < job.hosts; h++) {
    const vms = Array.from({ length: job.vms }, (_, v) => v)
      .filter((v) => v % job.hosts === h)
      .map((v) => ({ vmId: vmName(v), status: 'UP' }));
    await post(REPORT, { input: { hostId: `cf-host-${h}`, vms, full: true } });
  }

  // ---- subscribers ----
  const sentAt: number[][] = Array.from({ length: job.vms }, () => []);
  const sent = new Int32Array(job.vms);
  const everyone: Int32Array[] = [];
  const fully = Array.from({ length: job.vms }, () => new Map<number, number>());
  const latencies: number[] = [];
  let measureFrom = Number.POSITIVE_INFINITY;
  let measureUntil = Number.POSITIVE_INFINITY;
  /** Messages received between the two marks: a transition counts for a subscriber when it reaches it. */
  let delivered = 0;
  const waiting = new Map<string, () => void>();
  let finished = false;
  const sockets: WebSocket[] = [];
  const connect = (i: number) => {
      const received = new Int32Array(job.vms);
      everyone.push(received);
      return new Promise<void>((resolve, reject) => {
        const socket = new WebSocket(job.wsUrls[i % job.wsUrls.length] as string, 'graphql-transport-ws', { perMessageDeflate: false });
        sockets.push(socket);
        socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
        socket.on('error', (error) => {
          problem(`subscriber ${i}: ${error.message}`);
          reject(error);
        });
        socket.on('close', (code) => {
          if (!finished) problem(`subscriber ${i} closed with ${code}`);
        });
        socket.on('message', (data: Buffer) => {
          const text = data.toString();
          if (text.startsWith('{"type":"connection_ack"')) {
            socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: TRANSITIONS_SUBSCRIPTION } }));
            // The server registers the subscription before it reads the next message: a ping answered means it is live.
            socket.send(JSON.stringify({ type: 'ping' }));
            return;
          }
          if (text.startsWith('{"type":"pong"')) return resolve();
          const at = text.indexOf('"vmId":"');
          if (at < 0) {
            if (text.includes('error')) problem(text.slice(0, 300));
            return;
          }
          const v = vmIndex.get(text.slice(at + 8, text.indexOf('"', at + 8)));
          if (v === undefined) return;
          const k = received[v]!++;
          const since = sentAt[v]![k];
          if (since === undefined) return problem(`a transition of ${vmName(v)} arrived before its report (#${k})`);
          const now = performance.now();
          if (since >= measureFrom) latencies.push(now - since);
          if (now >= measureFrom && now < measureUntil) delivered++;
          const count = (fully[v]!.get(k) ?? 0) + 1;
          if (count < job.subscribers) fully[v]!.set(k, count);
          else {
            fully[v]!.delete(k);
            waiting.get(`${v}/${k}`)?.();
          }
        });
      });
  };
  // A hundred at a time: a busy machine answers thousands of handshakes at once slowly.
  for (let from = 0; from < job.subscribers; from += 100) {
    await Promise.all(Array.from({ length: Math.min(100, job.subscribers - from) }, (_, i) => connect(from + i)));
  }

  // ---- driver: `vms` VMs toggled at once, each waiting for its previous transition to reach everyone ----
  const cpuStart = process.cpuUsage();
  const wallStart = performance.now();
  measureFrom = wallStart + job.warmupMs;
  const stopAt = measureFrom + job.durationMs;
  measureUntil = stopAt;
  // The benchmark reads the servers' CPU at these two moments.
  setTimeout(() => announcePhase('measuring'), job.warmupMs);
  setTimeout(() => announcePhase('measured'), job.warmupMs + job.durationMs);
  await Promise.all(
    Array.from({ length: job.vms }, async (_, v) => {
      let up = true;
      while (performance.now() < stopAt) {
        const k = sent[v]!;
        const delivered = new Promise<void>((resolve) => waiting.set(`${v}/${k}`, resolve));
        sentAt[v]!.push(performance.now());
        sent[v] = k + 1;
        up = !up;
        await post(REPORT, { input: { hostId: hostOf(v), vms: [{ vmId: vmName(v), status: up ? 'UP' : 'DOWN' }] } });
        const late = await Promise.race([delivered.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), STEP_TIMEOUT_MS))]);
        if (late) {
          problem(`transition ${k + 1} of ${vmName(v)} did not reach every subscriber within ${STEP_TIMEOUT_MS / 1_000} s`);
          return;
        }
        waiting.delete(`${v}/${k}`);
      }
    }),
  );
  const seconds = job.durationMs / 1_000;
  const cpu = process.cpuUsage(cpuStart);
  const sorted = Float64Array.from(latencies).sort();
  const complete = problems.length === 0 && everyone.every((received) => received.every((n, v) => n === sent[v]));
  finished = true;
  for (const socket of sockets) socket.terminate();
  await http.close();
  return {
    transitionsPerSecond: delivered / job.subscribers / seconds,
    deliveriesPerSecond: delivered / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    complete,
    problems,
    clientCpu: (cpu.user + cpu.system) / 1_000 / (performance.now() - wallStart),
  };
}

await workerMain(run);
