/**
 * The probe of the hostile-client benchmark, in its own process: while an attack runs, a viewer
 * asks `{ engine { cursor } }` every `probeEveryMs` (without waiting for the previous answer, so a
 * blocked server shows as latency, not as fewer samples), and a load balancer asks `GET /health`
 * every `healthEveryMs` on a new connection each time (as a load balancer does), with a deadline.
 */
import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { percentile } from '../report.js';
import { workerMain } from './processes.js';

export interface ProbeJob {
  readonly url: string;
  readonly token: string;
  readonly durationMs: number;
  readonly probeEveryMs: number;
  readonly healthEveryMs: number;
  /** A /health answer later than this counts as failed. */
  readonly healthDeadlineMs: number;
}

export interface Latencies {
  readonly sent: number;
  readonly ok: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export interface ProbeResult {
  readonly probe: Latencies;
  readonly health: Latencies;
}

const summary = (samples: number[], sent: number, failed: number): Latencies => {
  const max = samples.reduce((a, b) => Math.max(a, b), 0);
  return { sent, ok: samples.length, failed, p50Ms: percentile(samples.slice(), 50), p99Ms: percentile(samples.slice(), 99), maxMs: max };
};

function health(url: URL, deadlineMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = httpRequest({ host: url.hostname, port: url.port, path: '/health', agent: false, timeout: deadlineMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - started : null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

async function run(job: ProbeJob): Promise<ProbeResult> {
  const url = new URL(job.url);
  const pool = new Pool(url.origin, { connections: 16 });
  const probeSamples: number[] = [];
  const healthSamples: number[] = [];
  let probeSent = 0;
  let probeFailed = 0;
  let healthSent = 0;
  let healthFailed = 0;
  const inFlight: Promise<void>[] = [];
  const body = JSON.stringify({ query: '{ engine { cursor } }' });
  const probeOnce = async () => {
    probeSent++;
    const started = performance.now();
    try {
      const { statusCode, body: answer } = await pool.request({
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', authorization: `Bearer ${job.token}` },
        body,
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      const text = await answer.text();
      if (statusCode === 200 && text.includes('"cursor"')) probeSamples.push(performance.now() - started);
      else probeFailed++;
    } catch {
      probeFailed++;
    }
  };
  const healthOnce = async () => {
    healthSent++;
    const ms = await health(url, job.healthDeadlineMs);
    if (ms === null) healthFailed++;
    else healthSamples.push(ms);
  };
  const end = performance.now() + job.durationMs;
  const probeTimer = setInterval(() => inFlight.push(probeOnce()), job.probeEveryMs);
  const healthTimer = setInterval(() => inFlight.push(healthOnce()), job.healthEveryMs);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - performance.now())));
  clearInterval(probeTimer);
  clearInterval(healthTimer);
  await Promise.all(inFlight);
  await pool.close();
  return { probe: summary(probeSamples, probeSent, probeFailed), health: summary(healthSamples, healthSent, healthFailed) };
}

await workerMain(run);
