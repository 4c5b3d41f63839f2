/**
 * Transit's server: the migration table, the GraphQL schema over it, served by graphql-yoga on one
 * port (HTTP and SSE on `/graphql`, graphql-ws on the same path, GraphiQL in a browser, `/health`),
 * with the engine's clock ticking. `buildApp` assembles; `start` listens; `stop` drains and closes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, maskError } from 'graphql-yoga';
import type { Config } from '../../config.js';
import type { Millis } from '../../domain/model.js';
import { MigrationTable } from '../../domain/table/table.js';
import { DEFAULT_INPUT_LIMITS } from '../../domain/validation.js';
import type { Context } from '../../schema/builder.js';
import { schema } from '../../schema/index.js';
import { useBodyLimit } from './body-limit.js';
import { useCompiledExecution } from './compiled-execution.js';
import { TableFeeds } from '../subscriptions/feeds.js';
import { serveHealth } from './health.js';
import { createMetrics } from './metrics.js';
import { useRequestErrorCodes } from './request-error-codes.js';
import { buildSecurity, OPEN_MODE_WARNING } from '../security/security.js';
import { sharedSubscriptionResults } from '../subscriptions/shared-subscription-results.js';
import { useSseBroadcast } from '../subscriptions/sse.js';
import { startTicking } from '../tick.js';
import { attachWebSocket, type WebSocketEndpoint } from '../subscriptions/websocket.js';

export interface AppOptions {
  readonly config: Config;
  /** The engine's clock (milliseconds since the Unix epoch); tests inject a manual one. */
  readonly clock?: () => Millis;
  /** yoga's log level; unexpected errors are logged at `error`. */
  readonly logging?: 'debug' | 'info' | 'warn' | 'error' | false;
  /** How long `stop` lets open requests finish before closing their connections. */
  readonly shutdownGraceMs?: number;
}

export interface App {
  /** Listens on the configured host and port (0: a free one). */
  start(): Promise<{ url: string; port: number }>;
  /** Stops accepting, ends every subscription, closes WebSockets with 1001 and HTTP connections. */
  stop(): Promise<void>;
  readonly table: MigrationTable;
  /** Subscriptions currently fed by the table. */
  subscriberCount(): number;
}

/** A fresh engine epoch: the start time in base 36 and random characters, so two runs never share one. */
export const newEpoch = (now: Millis): string => `${now.toString(36)}${randomBytes(4).readUInt32BE(0).toString(36).padStart(7, '0')}`;

/** What GraphiQL opens with. */
export const GRAPHIQL_QUERY = /* GraphQL */ `# Transit: hosts, VMs and the migrations between them.
# Subscriptions run over WebSocket here: try \`subscription { transitions { cursor cause vmId to { status hostId } } }\`.
query Overview {
  engine { epoch cursor version }
  hosts { id cluster status vms { id status } }
  migrations(state: IN_PROGRESS) { edges { node { id vm { id } source { id } destination { id } progress stalled } } }
}
`;

export function buildApp({ config, clock = Date.now, logging = 'info', shutdownGraceMs = 5_000 }: AppOptions): App {
  const table = new MigrationTable({
    epoch: newEpoch(clock()),
    clock,
    hostTimeoutMs: config.hostTimeoutMs,
    migrationStartTimeoutMs: config.migrationStartTimeoutMs,
    maxAttempts: config.maxAttempts,
    historyLimit: config.historyLimit,
    inputLimits: { ...DEFAULT_INPUT_LIMITS, maxBatchSize: config.maxReportBatch },
  });
  // Credentials, limits, authorization (throws on a bad credentials file, or open mode off loopback).
  const security = buildSecurity(config, clock);
  const feeds = new TableFeeds(table, { bufferItems: config.subscriberBufferItems });
  const context: Context = { table, feeds };
  // `/metrics`: request and phase timings, the table's gauges and counters (no credentials, as `/health`).
  const metrics = createMetrics(table, { subscribers: () => feeds.subscriberCount });
  // Subscription results executed and serialized once per item and operation, written by the
  // broadcast path to graphql-ws and SSE subscribers; their resolvers may read only the shared context.
  const subscriptions = sharedSubscriptionResults({
    sharedContextKeys: Object.keys(context),
    // As yoga masks every other result (`maskedErrors: { isDev: false }`, its default message), and logs what it masks.
    maskError: (error) => {
      const masked = maskError(error, 'Unexpected error.', false);
      if (masked !== error) yoga.logger.error(error);
      return masked;
    },
  });

  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }, Context>({
    schema,
    context: () => context,
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'Transit', subscriptionsProtocol: 'WS', defaultQuery: GRAPHIQL_QUERY },
    // GraphiQL's assets are served from this package, not a CDN: operator networks are often closed.
    renderGraphiQL,
    // Expected refusals carry their `extensions.code`; anything else is masked and logged.
    maskedErrors: { isDev: false },
    logging,
    landingPage: false,
    // The body limit is `useBodyLimit`'s: yoga's streams every body through a counter (body-limit.ts).
    maxRequestBodySize: false,
    plugins: [metrics.plugin, useBodyLimit(config.maxBodyBytes), useCompiledExecution(), subscriptions.plugin, useSseBroadcast(subscriptions), useRequestErrorCodes(), ...security.plugins],
  });

  let stopping = false;
  const server = createServer((req, res) => {
    const report = () => ({ status: stopping ? ('stopping' as const) : ('ok' as const), epoch: table.epoch, cursor: table.cursor, subscriptions: feeds.subscriberCount });
    if (serveHealth(req, res, report)) return;
    void yoga(req, res);
  });
  let webSocket: WebSocketEndpoint | null = null;
  let stopTicking: (() => void) | null = null;
  let stopped: Promise<void> | null = null;

  return {
    table,
    subscriberCount: () => feeds.subscriberCount,

    async start() {
      if (security.open) yoga.logger.warn(OPEN_MODE_WARNING);
      webSocket = attachWebSocket(yoga, server, security.webSocket, subscriptions);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      stopTicking = startTicking(table, config.tickIntervalMs, (error) => yoga.logger.error('tick failed', error));
      const { port } = server.address() as AddressInfo;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      return { url: `http://${host}:${port}${yoga.graphqlEndpoint}`, port };
    },

    stop() {
      stopped ??= (async () => {
        stopping = true;
        stopTicking?.();
        metrics.close();
        // No new connections; resolves once every connection is gone (at once when never started).
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        feeds.closeAll(); // every subscription completes: SSE responses end, graphql-ws sends `complete`
        await webSocket?.close(); // 1001 Going Away
        server.closeIdleConnections();
        const grace = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
        grace.unref();
        await closed;
        clearTimeout(grace);
      })();
      return stopped;
    },
  };
}
