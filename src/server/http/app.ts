/**
 * Transit's server: the migration table, the GraphQL schema over it, served by graphql-yoga on one
 * port (HTTP and SSE on `/graphql`, graphql-ws on the same path, GraphiQL in a browser, `/health`),
 * with the engine's clock ticking. `buildApp` assembles; `start` listens; `stop` drains and closes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createYoga, maskError } from 'graphql-yoga';
import { ClusterNode } from '../../cluster/cluster-node.js';
import { clusterMetricsSource, registerClusterMetrics } from '../../cluster/cluster-metrics.js';
import { useClusterRouting } from '../../cluster/routing.js';
import type { Config } from '../../config.js';
import { DECISION_RULES } from '../../domain/decision-table.js';
import { DecisionBlockerCode } from '../../domain/vocabulary.js';
import type { Millis } from '../../domain/model.js';
import { MigrationTable, type TableFailedError } from '../../domain/table/table.js';
import { DEFAULT_INPUT_LIMITS } from '../../domain/validation.js';
import type { Context } from '../../schema/builder.js';
import { schema } from '../../schema/index.js';
import { useBodyLimit } from './body-limit.js';
import { useCompiledExecution } from './compiled-execution.js';
import { createDashboard } from './dashboard.js';
import { renderTransitGraphiQL } from './graphiql.js';
import { TableFeeds } from '../subscriptions/feeds.js';
import { serveHealth, type HealthReport } from './health.js';
import { CHECK_INTERVAL_MS, ConnectionGuard } from './connections.js';
import { authenticateAtHeaders } from '../security/authentication.js';
import { createMetrics } from './metrics.js';
import { useUniformBadRequests } from './http-refusals.js';
import { useRequestErrorCodes } from './request-error-codes.js';
import type { ListSizes } from '../security/cost-limit.js';
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
  /** The migration table; in clustered mode the one this process owns while it is the engine (throws on a replica). */
  readonly table: MigrationTable;
  /** Clustered mode (docs/contract.md §13): this process's place in the cluster; null in one process. */
  readonly cluster: ClusterNode | null;
  /** Subscriptions currently fed by the table. */
  subscriberCount(): number;
  /** Bundles the dashboard now instead of on its first request. */
  prepareDashboard(): Promise<void>;
  /** TCP connections open now (docs/contract.md §11: at most `maxConnections`). */
  connectionCount(): number;
  /** Of those, the ones that have not authenticated yet (closed first at the cap). */
  pendingConnectionCount(): number;
}

/** Whether `host` listens on every interface (the others cannot reach it by that name). */
const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '[::]';

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

/**
 * What the unpaged lists hold now, for the cost limit (docs/contract.md §11: lists priced at their real
 * size). A replica holds no table: it prices them at the default bounds (the engine checks again).
 */
const listSizesOf = (table: () => MigrationTable | null, config: Config): ListSizes => ({
  'Query.hosts': () => table()?.hostCount() ?? 10_000,
  'Host.vms': () => table()?.mostVmsOnOneHost() ?? 2_000,
  'Migration.attempts': () => config.maxAttempts,
  // One blocker per condition at most (docs/contract.md §10): its codes bound the list.
  'Migration.blockedBy': () => Object.keys(DecisionBlockerCode).length,
  'Query.decisionTable': () => DECISION_RULES.length,
});

export function buildApp({ config, clock = Date.now, logging = 'info', shutdownGraceMs = 5_000, onEngineFailure }: AppOptions): App {
  // The logger exists once yoga does; the table is built first and reports through it.
  let logError = (message: string, error: unknown) => console.error(message, error);
  const newTable = (epoch: string) =>
    new MigrationTable({
      epoch,
      clock,
      hostTimeoutMs: config.hostTimeoutMs,
      migrationStartTimeoutMs: config.migrationStartTimeoutMs,
      maxAttempts: config.maxAttempts,
      historyLimit: config.historyLimit,
      limits: {
        maxOutgoingPerHost: config.maxOutgoingMigrationsPerHost,
        maxIncomingPerHost: config.maxIncomingMigrationsPerHost,
        maxPerCluster: config.maxMigrationsPerCluster,
      },
      migrationQueueTimeoutMs: config.migrationQueueTimeoutMs,
      migrationProgressTimeoutMs: config.migrationProgressTimeoutMs,
      migrationCompletionTimeoutPerGibMs: config.migrationCompletionTimeoutPerGibMs,
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
  const security = buildSecurity(config, clock, listSizesOf(() => single ?? cluster?.table ?? null, config));
  if (config.redisUrl !== null && config.advertisedUrl === null && isWildcard(config.host)) {
    throw new Error(`HOST=${config.host} in clustered mode needs TRANSIT_ADVERTISED_URL: the address the other processes reach this one's /graphql at`);
  }
  // Clustered mode: the table belongs to whichever process holds the lease; subscriptions read the
  // change stream; queries and mutations go to the engine. One process: the table is here, always.
  const cluster =
    config.redisUrl === null
      ? null
      : new ClusterNode({
          config,
          newTable,
          log: {
            info: (message) => yoga.logger.info(message),
            warn: (message) => yoga.logger.warn(message),
            error: (message, error) => yoga.logger.error(message, error),
          },
        });
  const single = cluster === null ? newTable(newEpoch(clock())) : null;
  const feeds = cluster?.feeds ?? new TableFeeds(single as MigrationTable, { bufferItems: config.subscriberBufferItems });
  const contextTable = () => (cluster === null ? (single as MigrationTable) : (cluster.table ?? cluster.mirror.view));
  // `/metrics`: request and phase timings, the table's gauges and counters (no credentials, as `/health`).
  const metrics = createMetrics(cluster === null ? (single as MigrationTable) : clusterMetricsSource(cluster), {
    subscribers: () => feeds.subscriberCount,
    register: cluster === null ? undefined : registerClusterMetrics(cluster),
  });
  const routing = cluster === null ? [] : [useClusterRouting(cluster, { forwardTimeoutMs: Math.max(config.leaseTtlMs, 5_000), firstCheckWaitMs: config.leaseTtlMs })];
  // Subscription results executed and serialized once per item and operation, written by the
  // broadcast path to graphql-ws and SSE subscribers; their resolvers may read only the shared context.
  const sharedContextKeys: (keyof Context)[] = ['table', 'feeds'];
  const subscriptions = sharedSubscriptionResults({
    sharedContextKeys,
    // As yoga masks every other result (`maskedErrors: { isDev: false }`, its default message), and logs what it masks.
    maskError: (error) => {
      const masked = maskError(error, 'Unexpected error.', false);
      if (masked !== error) yoga.logger.error(error);
      return masked;
    },
  });

  const yoga = createYoga<{ req: IncomingMessage; res: ServerResponse }, Context>({
    schema,
    context: (): Context => ({ table: contextTable(), feeds }),
    graphqlEndpoint: '/graphql',
    graphiql: { title: 'Transit', subscriptionsProtocol: 'WS', defaultQuery: GRAPHIQL_QUERY },
    // GraphiQL's assets are served from this package, not a CDN: operator networks are often closed.
    // Its fetcher sends the Authorization header as graphql-ws connectionParams (src/dashboard/graphiql-fetcher.ts).
    renderGraphiQL: renderTransitGraphiQL,
    // Expected refusals carry their `extensions.code`; anything else is masked and logged.
    maskedErrors: { isDev: false },
    logging,
    landingPage: false,
    // The origin policy is Transit's own (cors.ts, in the security plugins): yoga's lets every origin in.
    cors: false,
    // The body limit is `useBodyLimit`'s: yoga's streams every body through a counter (body-limit.ts).
    maxRequestBodySize: false,
    // The cluster's routing comes last: it wraps the compiled executor, after security said yes.
    plugins: [
      metrics.plugin,
      useBodyLimit(config.maxBodyBytes),
      useCompiledExecution(),
      subscriptions.plugin,
      useSseBroadcast(subscriptions),
      useRequestErrorCodes(),
      useUniformBadRequests(),
      ...security.plugins,
      ...routing,
    ],
  });

  logError = (message, error) => yoga.logger.error(message, error);
  // `GET /`: the live dashboard (docs/contract.md §12), bundled on first request.
  const dashboard = createDashboard((message, error) => yoga.logger.error(message, error));

  let stopping = false;
  const server = createServer({ connectionsCheckingInterval: CHECK_INTERVAL_MS }, (req, res) => {
    const report = (): HealthReport => {
      const status = stopping ? ('stopping' as const) : ('ok' as const);
      if (cluster === null) {
        const table = single as MigrationTable;
        const state = table.failedWith !== null ? ('failed' as const) : status;
        return { status: state, role: 'engine', epoch: table.epoch, cursor: table.cursor, subscriptions: feeds.subscriberCount };
      }
      const source = cluster.table ?? cluster.mirror;
      return {
        status: cluster.table?.failedWith != null ? 'failed' : status,
        role: cluster.role,
        epoch: cluster.epoch === null ? null : String(cluster.epoch),
        cursor: source.cursor,
        subscriptions: feeds.subscriberCount,
        redis: cluster.reachable === null ? 'connecting' : cluster.reachable ? 'reachable' : 'unreachable',
        ...(cluster.role === 'replica' ? { engine: cluster.engineUrl } : {}),
      };
    };
    if (serveHealth(req, res, report)) return;
    if (dashboard.serve(req, res)) return;
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
    get table(): MigrationTable {
      const table = single ?? cluster?.table ?? null;
      if (table === null) throw new Error('this process is a replica: the table is the engine’s');
      return table;
    },
    cluster,
    subscriberCount: () => feeds.subscriberCount,
    prepareDashboard: () => dashboard.prepare(),
    connectionCount: () => connections.count,
    pendingConnectionCount: () => connections.pendingCount,

    async start() {
      if (security.open) yoga.logger.warn(OPEN_MODE_WARNING);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // Attached once listening: a busy port is then one error for `start` to reject with, not
      // also an unhandled 'error' the WebSocket server re-emits (a stack trace before the message).
      webSocket = attachWebSocket(yoga, server, { ...security.webSocket, onAuthenticated: (socket) => connections.authenticated(socket) }, subscriptions);
      const { port } = server.address() as AddressInfo;
      const host = config.host.includes(':') ? `[${config.host}]` : config.host;
      const url = `http://${host}:${port}${yoga.graphqlEndpoint}`;
      if (single !== null) stopTicking = startTicking(single, config.tickIntervalMs, (error) => yoga.logger.error('tick failed', error));
      cluster?.start(config.advertisedUrl ?? url);
      return { url, port };
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
        // A replica takes over at its next tick: the lease is given back, not left to run out.
        await Promise.all([closed, cluster?.stop()]);
        clearTimeout(grace);
      })();
      return stopped;
    },
  };
}
