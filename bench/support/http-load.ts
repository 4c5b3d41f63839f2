/**
 * Load generator of benchmark 2, run in its own process (`runWorker('http-load.ts', job)`): `hosts`
 * host agents, each on its own keep-alive connection, each sending a full `reportVmStatuses` of
 * its `vmsPerHost` VMs with a rising `sequence`.
 *
 * 1. Prime: one report per host, `concurrency` at a time (the server learns the hosts and VMs).
 * 2. Open loop: host h sends at t0 + h·interval/hosts + k·interval, whether or not its previous
 *    report was answered (a late answer does not delay the next report, as with real agents), for
 *    `warmupMs` unmeasured then `durationMs` measured. Latency runs from the time the report was
 *    due to the last byte of the answer, so time spent queued anywhere counts (no coordinated
 *    omission).
 * 3. Closed loop: `concurrency` reports always in flight for `saturateMs`: the most the server answers.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { REPORT_VM_STATUSES } from '../../src/agent/operations.js';
import { percentile } from '../report.js';
import { announcePhase, workerMain } from './processes.js';

export interface HttpLoadJob {
  readonly url: string;
  readonly hosts: number;
  readonly vmsPerHost: number;
  readonly intervalMs: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly saturateMs: number;
  readonly concurrency: number;
  /** Where each host's `sequence` starts (0 when absent): a later job against the same server starts above the last. */
  readonly firstSequence?: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface HttpLoadResult {
  readonly requestBytes: number;
  /** Open loop: reports due per second, answered per second, and latency from due time. */
  readonly offeredPerSecond: number;
  readonly achievedPerSecond: number;
  readonly latency: LatencySummary;
  /** Open loop: answers that were not a clean 200 without errors. */
  readonly failures: number;
  readonly firstFailure: string | null;
  /** Open loop: reports answered in the measured time. Closed loop: reports answered. */
  readonly answered: number;
  readonly saturatedCount: number;
  /** Closed loop: answers per second with `concurrency` in flight, and their latency. */
  readonly saturatedPerSecond: number;
  readonly saturatedLatency: LatencySummary;
}

const summary = (samples: Float64Array, count: number): LatencySummary => {
  const used = samples.subarray(0, count);
  return { count, p50Ms: percentile(used, 50), p99Ms: percentile(used, 99), maxMs: count === 0 ? Number.NaN : (used[count - 1] as number) };
};

async function run(job: HttpLoadJob): Promise<HttpLoadResult> {
  const url = new URL(job.url);
  const clients = Array.from({ length: job.hosts }, () => new Client(url.origin, { pipelining: 1, keepAliveTimeout: 120_000, bodyTimeout: 60_000, headersTimeout: 60_000 }));
  const query = JSON.stringify(REPORT_VM_STATUSES);
  // Each body is its host's fixed report with the sequence spliced in: building it costs the generator nothing.
  const bodies = Array.from({ length: job.hosts }, (_, h) => {
    const vms = JSON.stringify(Array.from({ length: job.vmsPerHost }, (_, v) => ({ vmId: `vm-${h}-${v}`, status: 'UP' })));
    return [`{"query":${query},"variables":{"input":{"hostId":"host-${h}","full":true,"bootId":"bench","vms":${vms},"sequence":`, '}}}'] as const;
  });
  const sequence = new Int32Array(job.hosts).fill(job.firstSequence ?? 0);
  let failures = 0;
  let firstFailure: string | null = null;

  const send = async (h: number): Promise<boolean> => {
    const [head, tail] = bodies[h] as readonly [string, string];
    const seq = (sequence[h] = (sequence[h] as number) + 1);
    const { statusCode, body } = await (clients[h] as Client).request({
      path: url.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: `${head}${seq}${tail}`,
    });
    const text = await body.text();
    const clean = statusCode === 200 && text.includes('"errors":[]') && !text.includes('"errors":[{');
    if (!clean) {
      failures++;
      firstFailure ??= `${statusCode} ${text.slice(0, 300)}`;
    }
    return clean;
  };

  // 1. Prime.
  let nextHost = 0;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (nextHost < job.hosts) await send(nextHost++);
    }),
  );
  failures = 0;
  firstFailure = null;

  // 2. Open loop.
  const gapMs = job.intervalMs / job.hosts;
  const warmupSends = Math.round(job.warmupMs / gapMs);
  const measuredSends = Math.round(job.durationMs / gapMs);
  const latencies = new Float64Array(measuredSends);
  let answered = 0;
  let lastAnswerAt = 0;
  const t0 = performance.now();
  const measureFrom = t0 + warmupSends * gapMs;
  setTimeout(() => announcePhase('measure'), measureFrom - t0);
  await new Promise<void>((resolve) => {
    if (warmupSends + measuredSends === 0) return resolve(); // a job with no open loop
    let i = 0;
    let outstanding = 0;
    const fire = (index: number) => {
      const due = t0 + index * gapMs;
      const measured = index >= warmupSends;
      outstanding++;
      void send(index % job.hosts)
        .catch((error: unknown) => {
          failures++;
          firstFailure ??= String(error);
          return false;
        })
        .then((clean) => {
          const now = performance.now();
          if (measured && clean) {
            latencies[answered++] = now - due;
            lastAnswerAt = now;
          }
          if (--outstanding === 0 && i === warmupSends + measuredSends) resolve();
        });
    };
    const tick = () => {
      const now = performance.now();
      while (i < warmupSends + measuredSends && t0 + i * gapMs <= now) fire(i++);
      if (i < warmupSends + measuredSends) setTimeout(tick, Math.max(0, t0 + i * gapMs - performance.now()));
    };
    tick();
  });
  if (failures > 0) console.error(`http-load: ${failures} failed answers, first: ${firstFailure}`);
  const openFailures = failures;
  const openFirstFailure = firstFailure;

  // 3. Closed loop.
  announcePhase('saturate');
  const saturated = new Float64Array(1_000_000);
  let saturatedCount = 0;
  const satStart = performance.now();
  const deadline = satStart + job.saturateMs;
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (performance.now() < deadline) {
        const h = nextHost++ % job.hosts;
        const started = performance.now();
        if ((await send(h)) && saturatedCount < saturated.length) saturated[saturatedCount++] = performance.now() - started;
      }
    }),
  );
  const satSeconds = (performance.now() - satStart) / 1_000;
  await Promise.all(clients.map((c) => c.close()));

  const [head, tail] = bodies[0] as readonly [string, string];
  return {
    requestBytes: Buffer.byteLength(`${head}1${tail}`),
    offeredPerSecond: 1_000 / gapMs,
    achievedPerSecond: answered / ((lastAnswerAt - measureFrom) / 1_000),
    latency: summary(latencies, answered),
    failures: openFailures,
    firstFailure: openFirstFailure,
    answered,
    saturatedCount,
    saturatedPerSecond: saturatedCount / satSeconds,
    saturatedLatency: summary(saturated, saturatedCount),
  };
}

await workerMain(run);
