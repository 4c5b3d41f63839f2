/**
 * Transit's server: the migration table, the GraphQL schema over it, served by graphql-yoga on one
 * port (HTTP and SSE on `/graphql`, graphql-ws on the same path, GraphiQL in a browser, `/health`),
 * with the engine's clock ticking. `buildApp` assembles; `start` listens; `stop` drains and closes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga } from 'graphql-yoga';
import type { Config } from '../../config.js';
import { DECISION_RULES } from '../../domain/decision-table.js';
import type { Millis } from '../../domain/model.js';
import { MigrationTable, type TableFailedError } from '../../domain/table/table.js';
import { DEFAULT_INPUT_LIMITS } from '../../domain/validation.js';
import type { Context } from '../../schema/builder.js';
import { schema } from '../../schema/index.js';
import { useCompiledExecution } from './compiled-execution.js';
import { TableFeeds } from '../subscriptions/feeds.js';
import { serveHealth } from './health.js';
import { CHECK_INTERVAL_MS, ConnectionGuard } from './connections.js';
import { authenticateAtHeaders } from '../security/authentication.js';
import { createMetrics } from './metrics.js';
import { useUniformBadRequests } from './http-refusals.js';
import { useRequestErrorCodes } from './request-error-codes.js';
import type { ListSizes } from '../security/cost-limit.js';
import { buildSecurity, OPEN_MODE_WARNING } from '../security/security.js';
import { useSharedSubscriptionResults } from '../subscriptions/shared-subscription-results.js';
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
  /**
   * Told once when the table fails stop (a rule failed part-way: docs/decisions.md §3). `npm start`
   * stops the process so that its supervisor restarts it and the table is rebuilt from reports.
   */
  readonly onEngineFailure?: (error: TableFailedError) => void;
}

export interface App {
  /** Listens on the configured host and port (0: a free one). */
  start(): Promise<{ url: string; port: number }>;
  /** Stops accepting, ends every subscription, closes WebSockets with 1001 and HTTP connections. */
  stop(): Promise<void>;
  readonly table: MigrationTable;
  /** Subscriptions currently fed by the table. */
  subscriberCount(): number;
  /** TCP connections open now (docs/contract.md §11: at most `maxConnections`). */
  connectionCount(): number;
  /** Of those, the ones that have not authenticated yet (closed first at the cap). */
  pendingConnectionCount(): number;
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

/** What the unpaged lists hold now, for the cost limit (docs/contract.md §11: lists priced at their real size). */
const listSizesOf = (table: MigrationTable, config: Config): ListSizes => ({
  'Query.hosts': () => table.hostCount(),
  'Host.vms': () => table.mostVmsOnOneHost(),
  'Migration.attempts': () => config.maxAttempts,
  'Query.decisionTable': () => DECISION_RULES.length,
});

export function buildApp({ config, clock = Date.now, logging = 'info', shutdownGraceMs = 5_000, onEngineFailure }: AppOptions): App {
  // The logger exists once yoga does; the table is built first and reports through it.
  let logError = (message: string, error: unknown) => console.error(message, error);
  const table = new MigrationTable({
    epoch: newEpoch(clock()),
    clock,
    hostTimeoutMs: config.hostTimeoutMs,
    migrationStartTimeoutMs: config.migrationStartTimeoutMs,
    maxAttempts: config.maxAttempts,
    historyLimit: config.historyLimit,
    orderGraceMs: config.orderGraceMs,
    maxVmsPerHost: config.maxVmsPerHost,
    maxHosts: config.maxHosts,
    vmRetentionMs: config.vmRetentionMs,
    inputLimits: { ...DEFAULT_INPUT_LIMITS, maxBatchSize: config.maxReportBatch },
    onListenerError: (error) => logError('a listener of the table failed (the command stays applied)', error),
    onFailure: (error) => {
      logError('the migration table failed stop', error);
      onEngineFailure?.(error);
    },
  });
  // Credentials, limits, authorization (throws on a bad credentials file, or open mode off loopback).
  const security = buildSecurity(config, clock, listSizesOf(table, config));
  const feeds = new TableFeeds(table, { bufferItems: config.subscriberBufferItems });
  const context: Context = { table, feeds };
  // `/metrics`: request and phase timings, the table's gauges and counters (no credentials, as `/health`).
  const metrics = createMetrics(table, { subscribers: () => feeds.subscriberCount });

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
    // The origin policy is Transit's own (cors.ts, in the security plugins): yoga's lets every origin in.
    cors: false,
    maxRequestBodySize: config.maxBodyBytes,
    plugins: [metrics.plugin, useCompiledExecution(), useSharedSubscriptionResults(), useRequestErrorCodes(), useUniformBadRequests(), ...security.plugins],
  });

  logError = (message, error) => yoga.logger.error(message, error);

  let stopping = false;
  const server = createServer({ connectionsCheckingInterval: CHECK_INTERVAL_MS }, (req, res) => {
    const report = () => ({ status: table.failedWith !== null ? ('failed' as const) : stopping ? ('stopping' as const) : ('ok' as const), epoch: table.epoch, cursor: table.cursor, subscriptions: feeds.subscriberCount });
    if (serveHealth(req, res, report)) return;
    // Refused at its headers without a valid token: its body is never read (docs/contract.md §11).
    const verdict = authenticateAtHeaders(req, res, security.authenticate, yoga.graphqlEndpoint);
    if (verdict === 'refused') return;
    if (verdict === 'authenticated') connections.authenticated(req.socket);
    void yoga(req, res);
  });
  // Header and request timeouts, the connection cap (connections.ts).
  const connections = new ConnectionGuard(server, config);
  let webSocket: WebSocketEndpoint | null = null;
  let stopTicking: (() => void) | null = null;
  let stopped: Promise<void> | null = null;

  return {
    table,
    subscriberCount: () => feeds.subscriberCount,
    connectionCount: () => connections.count,
    pendingConnectionCount: () => connections.pendingCount,

    async start() {
      if (security.open) yoga.logger.warn(OPEN_MODE_WARNING);
      webSocket = attachWebSocket(yoga, server, { ...security.webSocket, onAuthenticated: (socket) => connections.authenticated(socket) });
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
