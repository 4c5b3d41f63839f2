/**
 * A real Transit server on an ephemeral port with a manual clock, and an HTTP client for typed
 * documents. The clock's tick is off unless a test asks for it: tests move time and call
 * `app.table.tick()` or let the server tick, as they need.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type FormattedExecutionResult } from 'graphql';
import { Agent, fetch } from 'undici';
import { ManualClock } from './clock.js';
import { perTest } from './per-test.js';
import { readConfig, type Config } from '../../src/config.js';
import { buildApp, type App } from '../../src/server/http/app.js';

export interface TestServer {
  readonly app: App;
  readonly clock: ManualClock;
  readonly port: number;
  /** `http://127.0.0.1:<port>/graphql` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/graphql` */
  readonly wsUrl: string;
  /** POSTs a document; returns the HTTP status and the parsed result. */
  request<R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<{ status: number; result: FormattedExecutionResult<R> }>;
  /** POSTs a query text that need not be valid (for tests of what the schema refuses). */
  requestText(query: string, variables?: Record<string, unknown>): Promise<{ status: number; result: FormattedExecutionResult<Record<string, unknown>> }>;
  /** POSTs a document and returns its data, failing on any error. */
  data<R, V>(document: TypedDocumentNode<R, V>, variables?: V): Promise<R>;
  /** Resolves once exactly `count` subscriptions are fed by the table (a subscription has started, or ended). */
  untilSubscribers(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** An hour: effectively "never" for the server's own tick in tests that drive time by hand. */
const NO_TICK_MS = 3_600_000;

export async function startServer(overrides: Partial<Config> = {}, clock = new ManualClock()): Promise<TestServer> {
  const config: Config = { ...readConfig({}), host: '127.0.0.1', port: 0, tickIntervalMs: NO_TICK_MS, ...overrides };
  const app = buildApp({ config, clock: clock.read, logging: 'error', shutdownGraceMs: 500 });
  const { url, port } = await app.start();
  // This server's own connection pool, closed with it: a kept-alive connection never outlives its
  // server, so a server started later on the same port (an engine restart) is never sent a request
  // over a connection the previous one closed.
  const connections = new Agent();
  let stopped: Promise<void> | null = null;
  const post = async <R>(query: string, variables: unknown) => {
    const response = await fetch(url, {
      dispatcher: connections,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return { status: response.status, result: (await response.json()) as FormattedExecutionResult<R> };
  };
  const request = <R, V>(document: TypedDocumentNode<R, V>, variables?: V) => post<R>(print(document), variables);
  return {
    app,
    clock,
    port,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    request,
    requestText: (query, variables) => post(query, variables),
    async data(document, variables) {
      const { result } = await request(document, variables);
      if (result.errors !== undefined || result.data == null) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
      return result.data;
    },
    async untilSubscribers(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (app.subscriberCount() !== count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} subscriptions, the table feeds ${app.subscriberCount()}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    stop() {
      stopped ??= app.stop().then(() => connections.close());
      return stopped;
    },
  };
}

/** A fresh server for each test of the enclosing suite; the getter returns the current one. */
export function serverPerTest(overrides: Partial<Config> = {}): () => TestServer {
  return perTest(() => startServer(overrides));
}
