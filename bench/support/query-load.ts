/**
 * Query client of benchmark 5, run in its own process: each query in turn, one request at a time
 * (latency, not throughput), with its variable sets taken in rotation, `warmup` unmeasured
 * requests first. Every answer must be a 200 without errors.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'undici';
import { percentile } from '../report.js';
import { workerMain } from './processes.js';
import type { LatencySummary } from './http-load.js';

export interface QueryJob {
  readonly url: string;
  readonly warmup: number;
  readonly count: number;
  readonly queries: readonly { readonly name: string; readonly query: string; readonly variables: readonly Record<string, unknown>[] }[];
}

export type QueryResult = Record<string, LatencySummary & { readonly meanItems: number }>;

async function run(job: QueryJob): Promise<QueryResult> {
  const url = new URL(job.url);
  const client = new Client(url.origin, { pipelining: 1 });
  const result: Record<string, LatencySummary & { meanItems: number }> = {};
  for (const { name, query, variables } of job.queries) {
    const samples = new Float64Array(job.count);
    let items = 0;
    for (let i = 0; i < job.warmup + job.count; i++) {
      const started = performance.now();
      const { statusCode, body } = await client.request({
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
        body: JSON.stringify({ query, variables: variables[i % variables.length] }),
      });
      const text = await body.text();
      const elapsed = performance.now() - started;
      if (statusCode !== 200 || text.includes('"errors"')) throw new Error(`${name}: ${statusCode} ${text.slice(0, 300)}`);
      if (i < job.warmup) continue;
      samples[i - job.warmup] = elapsed;
      items += text.split('"cursor"').length - 1;
    }
    result[name] = { count: job.count, p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: samples[samples.length - 1] as number, meanItems: items / job.count };
  }
  await client.close();
  return result;
}

await workerMain(run);
