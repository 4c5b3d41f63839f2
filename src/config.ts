/**
 * Transit's settings, read once from the environment into a typed, frozen object.
 * This is the only module that reads `process.env`; everything else receives a `Config`.
 * Every default serves one machine (docs/contract.md §7) and carries its unit in its name.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_TABLE_SETTINGS } from './domain/table/table.js';
import { DEFAULT_INPUT_LIMITS } from './domain/validation.js';
import { canonicalOrigin } from './server/http/cors.js';

export interface Config {
  /** Interface to listen on (`HOST`). Default `127.0.0.1`: reachable from this machine only. */
  readonly host: string;
  /** TCP port (`PORT`); 0 picks a free one. Default 4000. */
  readonly port: number;
  /** A host that has not reported for this long becomes NON_RESPONSIVE (`TRANSIT_HOST_TIMEOUT_MS`). Default 60 000. */
  readonly hostTimeoutMs: number;
  /** An attempt its source has not confirmed within this long ends FAILED (`TRANSIT_MIGRATION_START_TIMEOUT_MS`). Default 30 000. */
  readonly migrationStartTimeoutMs: number;
  /** At most this many hosts are tried for one migration (`TRANSIT_MAX_ATTEMPTS`). Default 3. */
  readonly maxAttempts: number;
  /** Transitions, events and decided migrations kept, each, for queries and resume (`TRANSIT_HISTORY_LIMIT`). Default 100 000. */
  readonly historyLimit: number;
  /**
   * How often the engine's clock is read to fire host and start timeouts (`TRANSIT_TICK_INTERVAL_MS`).
   * A timeout fires at most this late. Default 1 000.
   */
  readonly tickIntervalMs: number;
  /**
   * Live items one subscriber may have waiting (not yet written to its connection) before it is
   * ended with SUBSCRIBER_TOO_SLOW (`TRANSIT_SUBSCRIBER_BUFFER_ITEMS`). Counted in items, so a
   * client that stops reading costs at most this many references. It must hold the largest burst
   * one command makes (a full report of a big host) and stay below the history limit, so that the
   * ended subscriber can still resume from its cursor. Default 10 000.
   */
  readonly subscriberBufferItems: number;
  /**
   * The credentials file (`TRANSIT_CREDENTIALS_FILE`): one credential per line, tokens stored as
   * SHA-256 hashes (docs/security.md). Null (the default): open mode, every caller may do
   * everything, and Transit listens on a loopback address only.
   */
  readonly credentialsFile: string | null;
  /** Deepest selection an operation may nest, in fields (`TRANSIT_MAX_DEPTH`); introspection is exempt. Default 10. */
  readonly maxDepth: number;
  /** Most aliased fields in one operation (`TRANSIT_MAX_ALIASES`). Default 15. */
  readonly maxAliases: number;
  /** Most lexical tokens in one document (`TRANSIT_MAX_TOKENS`); pass big inputs as variables. Default 2 000. */
  readonly maxTokens: number;
  /** Most directives in one operation (`TRANSIT_MAX_DIRECTIVES`). Default 50. */
  readonly maxDirectives: number;
  /** Most values the response of one operation may be estimated to hold (`TRANSIT_MAX_COST`; lists count 100, pages their `first`). Default 100 000. */
  readonly maxCost: number;
  /** Largest HTTP request body, in bytes (`TRANSIT_MAX_BODY_BYTES`). Default 4 MiB: a full batch of 2 000 VMs is about 0.2 MB, with room for long ids. */
  readonly maxBodyBytes: number;
  /** Largest graphql-ws message, in bytes (`TRANSIT_WS_MAX_PAYLOAD_BYTES`); a bigger one closes the socket with 1009. Default 4 MiB. */
  readonly wsMaxPayloadBytes: number;
  /** A graphql-ws connection that has not sent `connection_init` within this long is closed with 4408 (`TRANSIT_WS_INIT_TIMEOUT_MS`). Default 3 000. */
  readonly wsInitTimeoutMs: number;
  /** Operations one graphql-ws connection may have open at once (`TRANSIT_MAX_SUBSCRIPTIONS_PER_CONNECTION`). Default 100. */
  readonly maxSubscriptionsPerConnection: number;
  /**
   * Mutations (root mutation fields) one credential may run per second, sustained
   * (`TRANSIT_MUTATIONS_PER_SECOND`). Not applied in open mode. Default 100.
   */
  readonly mutationsPerSecond: number;
  /** Mutations one credential may run in a burst above the sustained rate (`TRANSIT_MUTATION_BURST`). Default 200. */
  readonly mutationBurst: number;
  /** Whether the schema may be introspected (`TRANSIT_INTROSPECTION`: `on` or `off`). GraphiQL needs it. Default on. */
  readonly introspection: boolean;
  /**
   * Most VMs in one `reportVmStatuses` batch (`TRANSIT_MAX_REPORT_BATCH`). Default 2 000: a full report
   * of a host at `TRANSIT_MAX_VMS_PER_HOST`, and a step of the engine well under 100 ms.
   */
  readonly maxReportBatch: number;
  // ---- docs/contract.md §11: what one client can make Transit hold or do ----
  /**
   * Origins of web pages that may call Transit from a browser besides its own
   * (`TRANSIT_CORS_ORIGINS`, comma-separated, e.g. `https://ops.example`). Default none.
   */
  readonly corsOrigins: readonly string[];
  /** Time a client has to send a request's headers, in ms (`TRANSIT_HEADERS_TIMEOUT_MS`); then 408 and the connection closes. Default 10 000. */
  readonly headersTimeoutMs: number;
  /**
   * Time a client has to send a whole request, headers and body, in ms (`TRANSIT_REQUEST_TIMEOUT_MS`);
   * then 408 and the connection closes. Not the time to answer: subscriptions stream for as long as they
   * last. Default 30 000 (a full report of 2 000 VMs is about 0.2 MB).
   */
  readonly requestTimeoutMs: number;
  /**
   * TCP connections open at once, HTTP, SSE and WebSocket (`TRANSIT_MAX_CONNECTIONS`). At the cap, the
   * oldest connection that has not yet authenticated is closed for the new one; when every one has,
   * the new one is answered 503 TOO_MANY_CONNECTIONS. Keep it below the process's descriptor limit
   * (`ulimit -n`). Default 10 000.
   */
  readonly maxConnections: number;
  /** graphql-ws connections one credential may hold open (`TRANSIT_MAX_WS_CONNECTIONS_PER_CREDENTIAL`; close 4029). Not applied in open mode. Default 50. */
  readonly maxWsConnectionsPerCredential: number;
  /** Subscriptions one credential may hold open, SSE and graphql-ws together (`TRANSIT_MAX_SUBSCRIPTIONS_PER_CREDENTIAL`). Not applied in open mode. Default 200. */
  readonly maxSubscriptionsPerCredential: number;
  /** Subscriptions open at once, all clients together (`TRANSIT_MAX_SUBSCRIPTIONS`). Default 5 000. */
  readonly maxSubscriptions: number;
  /**
   * Clustered mode (docs/contract.md §13): the Redis every Transit process of the cluster shares
   * (`TRANSIT_REDIS_URL`, `redis://host:port/db`). Null (the default): one process, no dependency.
   */
  readonly redisUrl: string | null;
  /** How long the engine's lease in Redis lasts unless renewed (`TRANSIT_LEASE_TTL_MS`); renewed every quarter of it. Default 5 000. */
  readonly leaseTtlMs: number;
  /**
   * The URL of this process's `/graphql` as the other processes of the cluster reach it
   * (`TRANSIT_ADVERTISED_URL`): replicas forward queries and mutations there while this process is
   * the engine. Null (the default): `http://HOST:PORT/graphql`, with the port actually bound.
   */
  readonly advertisedUrl: string | null;
  /** Prefix of every Redis key of the cluster (`TRANSIT_REDIS_KEY_PREFIX`), so two clusters can share one Redis. Default `transit`. */
  readonly redisKeyPrefix: string;
  /**
   * Attempts in flight leaving one host (`TRANSIT_MAX_OUTGOING_MIGRATIONS_PER_HOST`), as VDSM's
   * `max_outgoing_migrations`; 0: no limit. Discovered migrations count but are never refused. Default 2.
   */
  readonly maxOutgoingMigrationsPerHost: number;
  /** Attempts in flight heading to one host (`TRANSIT_MAX_INCOMING_MIGRATIONS_PER_HOST`), as VDSM's `max_incoming_migrations`; 0: no limit. Default 2. */
  readonly maxIncomingMigrationsPerHost: number;
  /** Attempts in flight in one cluster (`TRANSIT_MAX_MIGRATIONS_PER_CLUSTER`), as KubeVirt's `parallelMigrationsPerCluster`; 0: no limit. Default 5. */
  readonly maxMigrationsPerCluster: number;
  /** A migration pending this long ends FAILED (`TRANSIT_MIGRATION_QUEUE_TIMEOUT_MS`); 0: no queue deadline (the reason stays visible). Default 0. */
  readonly migrationQueueTimeoutMs: number;
  /**
   * An attempt whose source confirmed but whose progress has not risen for this long is aborted
   * (`TRANSIT_MIGRATION_PROGRESS_TIMEOUT_MS`), as KubeVirt's and oVirt's 150 s; 0: never. Default 150 000.
   */
  readonly migrationProgressTimeoutMs: number;
  /**
   * An attempt not completed within this long per GiB of the VM's memory (at least 2 GiB) is aborted
   * (`TRANSIT_MIGRATION_COMPLETION_TIMEOUT_PER_GIB_MS`), as KubeVirt's `completionTimeoutPerGiB`; 0: never. Default 150 000.
   */
  readonly migrationCompletionTimeoutPerGibMs: number;
  /**
   * How long the CANCEL order of an attempt that timed out before its source started it is
   * still handed to a host agent that subscribes again (`TRANSIT_ORDER_GRACE_MS`). Default 300 000.
   */
  readonly orderGraceMs: number;
  /**
   * VMs one host may hold, running there or migrating to it (`TRANSIT_MAX_VMS_PER_HOST`): a report
   * batch that would exceed it is refused whole with TOO_MANY_VMS. Default 2 000.
   */
  readonly maxVmsPerHost: number;
  /** Hosts Transit knows at once (`TRANSIT_MAX_HOSTS`): a new one beyond it is refused with TOO_MANY_HOSTS. Default 10 000. */
  readonly maxHosts: number;
  /** A VM DOWN on no host that no report has named for this long is forgotten (`TRANSIT_VM_RETENTION_MS`). Default 86 400 000 (a day). */
  readonly vmRetentionMs: number;
}

export const DEFAULT_CONFIG: Config = Object.freeze({
  host: '127.0.0.1',
  port: 4000,
  hostTimeoutMs: DEFAULT_TABLE_SETTINGS.hostTimeoutMs,
  migrationStartTimeoutMs: DEFAULT_TABLE_SETTINGS.migrationStartTimeoutMs,
  maxAttempts: DEFAULT_TABLE_SETTINGS.maxAttempts,
  historyLimit: DEFAULT_TABLE_SETTINGS.historyLimit,
  tickIntervalMs: 1_000,
  subscriberBufferItems: 10_000,
  credentialsFile: null,
  maxDepth: 10,
  maxAliases: 15,
  maxTokens: 2_000,
  maxDirectives: 50,
  maxCost: 100_000,
  maxBodyBytes: 4 * 1_024 * 1_024,
  wsMaxPayloadBytes: 4 * 1_024 * 1_024,
  wsInitTimeoutMs: 3_000,
  maxSubscriptionsPerConnection: 100,
  mutationsPerSecond: 100,
  mutationBurst: 200,
  introspection: true,
  maxReportBatch: DEFAULT_INPUT_LIMITS.maxBatchSize,
  corsOrigins: Object.freeze([]),
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  maxConnections: 10_000,
  maxWsConnectionsPerCredential: 50,
  maxSubscriptionsPerCredential: 200,
  maxSubscriptions: 5_000,
  redisUrl: null,
  leaseTtlMs: 5_000,
  advertisedUrl: null,
  redisKeyPrefix: 'transit',
  maxOutgoingMigrationsPerHost: DEFAULT_TABLE_SETTINGS.limits.maxOutgoingPerHost,
  maxIncomingMigrationsPerHost: DEFAULT_TABLE_SETTINGS.limits.maxIncomingPerHost,
  maxMigrationsPerCluster: DEFAULT_TABLE_SETTINGS.limits.maxPerCluster,
  migrationQueueTimeoutMs: DEFAULT_TABLE_SETTINGS.migrationQueueTimeoutMs,
  migrationProgressTimeoutMs: DEFAULT_TABLE_SETTINGS.migrationProgressTimeoutMs,
  migrationCompletionTimeoutPerGibMs: DEFAULT_TABLE_SETTINGS.migrationCompletionTimeoutPerGibMs,
  orderGraceMs: DEFAULT_TABLE_SETTINGS.orderGraceMs,
  maxVmsPerHost: DEFAULT_TABLE_SETTINGS.maxVmsPerHost,
  maxHosts: DEFAULT_TABLE_SETTINGS.maxHosts,
  vmRetentionMs: DEFAULT_TABLE_SETTINGS.vmRetentionMs,
});

/**
 * Whether `host` names this machine only: `localhost`, 127.0.0.0/8, `::1` (or 127.x mapped into
 * IPv6). Open mode (no credentials file) listens on such an address only.
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost') return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  if (isIP(name) !== 6) return false;
  // WHATWG URL parsing canonicalizes IPv6: `0:0:0:0:0:0:0:1` → `[::1]`, `::ffff:127.0.0.1` → `[::ffff:7f00:1]`.
  const canonical = new URL(`http://[${name}]/`).hostname;
  return canonical === '[::1]' || canonical.startsWith('[::ffff:7f');
}

const onOff = z.enum(['on', 'off', 'true', 'false', '1', '0']).transform((value) => value === 'on' || value === 'true' || value === '1');

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** A comma-separated list of origins (`https://host[:port]`): no path, no wildcard. */
const origins = z
  .string()
  .transform((value) => value.split(',').map((o) => o.trim()).filter((o) => o !== ''))
  .refine((list) => list.every((o) => canonicalOrigin(o) !== null), { message: 'expected origins such as https://ops.example or http://127.0.0.1:8080, separated by commas (no path, no wildcard)' })
  .transform((list) => list.map((o) => canonicalOrigin(o) as string));

const ENVIRONMENT = z
  .object({
    HOST: z.string().min(1).default(DEFAULT_CONFIG.host),
    PORT: integer(0, 65_535).default(DEFAULT_CONFIG.port),
    TRANSIT_HOST_TIMEOUT_MS: integer(1).default(DEFAULT_CONFIG.hostTimeoutMs),
    TRANSIT_MIGRATION_START_TIMEOUT_MS: integer(1).default(DEFAULT_CONFIG.migrationStartTimeoutMs),
    TRANSIT_MAX_ATTEMPTS: integer(1).default(DEFAULT_CONFIG.maxAttempts),
    TRANSIT_HISTORY_LIMIT: integer(1).default(DEFAULT_CONFIG.historyLimit),
    TRANSIT_TICK_INTERVAL_MS: integer(1).default(DEFAULT_CONFIG.tickIntervalMs),
    TRANSIT_SUBSCRIBER_BUFFER_ITEMS: integer(1).default(DEFAULT_CONFIG.subscriberBufferItems),
    TRANSIT_CREDENTIALS_FILE: z.string().min(1).optional(),
    TRANSIT_MAX_DEPTH: integer(1).default(DEFAULT_CONFIG.maxDepth),
    TRANSIT_MAX_ALIASES: integer(0).default(DEFAULT_CONFIG.maxAliases),
    TRANSIT_MAX_TOKENS: integer(1).default(DEFAULT_CONFIG.maxTokens),
    TRANSIT_MAX_DIRECTIVES: integer(0).default(DEFAULT_CONFIG.maxDirectives),
    TRANSIT_MAX_COST: integer(1).default(DEFAULT_CONFIG.maxCost),
    TRANSIT_MAX_BODY_BYTES: integer(1).default(DEFAULT_CONFIG.maxBodyBytes),
    TRANSIT_WS_MAX_PAYLOAD_BYTES: integer(1).default(DEFAULT_CONFIG.wsMaxPayloadBytes),
    TRANSIT_WS_INIT_TIMEOUT_MS: integer(1).default(DEFAULT_CONFIG.wsInitTimeoutMs),
    TRANSIT_MAX_SUBSCRIPTIONS_PER_CONNECTION: integer(1).default(DEFAULT_CONFIG.maxSubscriptionsPerConnection),
    TRANSIT_MUTATIONS_PER_SECOND: integer(1).default(DEFAULT_CONFIG.mutationsPerSecond),
    TRANSIT_MUTATION_BURST: integer(1).default(DEFAULT_CONFIG.mutationBurst),
    TRANSIT_INTROSPECTION: onOff.default(DEFAULT_CONFIG.introspection),
    TRANSIT_MAX_REPORT_BATCH: integer(1).default(DEFAULT_CONFIG.maxReportBatch),
    TRANSIT_CORS_ORIGINS: origins.optional(),
    TRANSIT_HEADERS_TIMEOUT_MS: integer(1).default(DEFAULT_CONFIG.headersTimeoutMs),
    TRANSIT_REQUEST_TIMEOUT_MS: integer(1).default(DEFAULT_CONFIG.requestTimeoutMs),
    TRANSIT_MAX_CONNECTIONS: integer(1).default(DEFAULT_CONFIG.maxConnections),
    TRANSIT_MAX_WS_CONNECTIONS_PER_CREDENTIAL: integer(1).default(DEFAULT_CONFIG.maxWsConnectionsPerCredential),
    TRANSIT_MAX_SUBSCRIPTIONS_PER_CREDENTIAL: integer(1).default(DEFAULT_CONFIG.maxSubscriptionsPerCredential),
    TRANSIT_MAX_SUBSCRIPTIONS: integer(1).default(DEFAULT_CONFIG.maxSubscriptions),
    TRANSIT_REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\/[^\s]+$/, 'must be a redis:// or rediss:// URL')
      .optional(),
    TRANSIT_LEASE_TTL_MS: integer(100).default(DEFAULT_CONFIG.leaseTtlMs),
    TRANSIT_ADVERTISED_URL: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL')
      .optional(),
    TRANSIT_REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits or _.:-')
      .default(DEFAULT_CONFIG.redisKeyPrefix),
    TRANSIT_MAX_OUTGOING_MIGRATIONS_PER_HOST: integer(0).default(DEFAULT_CONFIG.maxOutgoingMigrationsPerHost),
    TRANSIT_MAX_INCOMING_MIGRATIONS_PER_HOST: integer(0).default(DEFAULT_CONFIG.maxIncomingMigrationsPerHost),
    TRANSIT_MAX_MIGRATIONS_PER_CLUSTER: integer(0).default(DEFAULT_CONFIG.maxMigrationsPerCluster),
    TRANSIT_MIGRATION_QUEUE_TIMEOUT_MS: integer(0).default(DEFAULT_CONFIG.migrationQueueTimeoutMs),
    TRANSIT_MIGRATION_PROGRESS_TIMEOUT_MS: integer(0).default(DEFAULT_CONFIG.migrationProgressTimeoutMs),
    TRANSIT_MIGRATION_COMPLETION_TIMEOUT_PER_GIB_MS: integer(0).default(DEFAULT_CONFIG.migrationCompletionTimeoutPerGibMs),
    TRANSIT_ORDER_GRACE_MS: integer(0).default(DEFAULT_CONFIG.orderGraceMs),
    TRANSIT_MAX_VMS_PER_HOST: integer(1).default(DEFAULT_CONFIG.maxVmsPerHost),
    TRANSIT_MAX_HOSTS: integer(1).default(DEFAULT_CONFIG.maxHosts),
    TRANSIT_VM_RETENTION_MS: integer(1).default(DEFAULT_CONFIG.vmRetentionMs),
  })
  .refine((env) => env.TRANSIT_HEADERS_TIMEOUT_MS <= env.TRANSIT_REQUEST_TIMEOUT_MS, {
    message: 'must not be above TRANSIT_REQUEST_TIMEOUT_MS (the headers are part of the request)',
    path: ['TRANSIT_HEADERS_TIMEOUT_MS'],
  })
  .refine((env) => env.TRANSIT_SUBSCRIBER_BUFFER_ITEMS < env.TRANSIT_HISTORY_LIMIT, {
    message: 'must be below TRANSIT_HISTORY_LIMIT, or a subscriber ended as too slow could not resume from its cursor',
    path: ['TRANSIT_SUBSCRIBER_BUFFER_ITEMS'],
  });

/** Reads the settings from `env` (the process environment by default); throws naming each bad variable. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= command`.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = ENVIRONMENT.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    hostTimeoutMs: e.TRANSIT_HOST_TIMEOUT_MS,
    migrationStartTimeoutMs: e.TRANSIT_MIGRATION_START_TIMEOUT_MS,
    maxAttempts: e.TRANSIT_MAX_ATTEMPTS,
    historyLimit: e.TRANSIT_HISTORY_LIMIT,
    tickIntervalMs: e.TRANSIT_TICK_INTERVAL_MS,
    subscriberBufferItems: e.TRANSIT_SUBSCRIBER_BUFFER_ITEMS,
    credentialsFile: e.TRANSIT_CREDENTIALS_FILE ?? null,
    maxDepth: e.TRANSIT_MAX_DEPTH,
    maxAliases: e.TRANSIT_MAX_ALIASES,
    maxTokens: e.TRANSIT_MAX_TOKENS,
    maxDirectives: e.TRANSIT_MAX_DIRECTIVES,
    maxCost: e.TRANSIT_MAX_COST,
    maxBodyBytes: e.TRANSIT_MAX_BODY_BYTES,
    wsMaxPayloadBytes: e.TRANSIT_WS_MAX_PAYLOAD_BYTES,
    wsInitTimeoutMs: e.TRANSIT_WS_INIT_TIMEOUT_MS,
    maxSubscriptionsPerConnection: e.TRANSIT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
    mutationsPerSecond: e.TRANSIT_MUTATIONS_PER_SECOND,
    mutationBurst: e.TRANSIT_MUTATION_BURST,
    introspection: e.TRANSIT_INTROSPECTION,
    maxReportBatch: e.TRANSIT_MAX_REPORT_BATCH,
    corsOrigins: Object.freeze(e.TRANSIT_CORS_ORIGINS ?? []),
    headersTimeoutMs: e.TRANSIT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.TRANSIT_REQUEST_TIMEOUT_MS,
    maxConnections: e.TRANSIT_MAX_CONNECTIONS,
    maxWsConnectionsPerCredential: e.TRANSIT_MAX_WS_CONNECTIONS_PER_CREDENTIAL,
    maxSubscriptionsPerCredential: e.TRANSIT_MAX_SUBSCRIPTIONS_PER_CREDENTIAL,
    maxSubscriptions: e.TRANSIT_MAX_SUBSCRIPTIONS,
    redisUrl: e.TRANSIT_REDIS_URL ?? null,
    leaseTtlMs: e.TRANSIT_LEASE_TTL_MS,
    advertisedUrl: e.TRANSIT_ADVERTISED_URL ?? null,
    redisKeyPrefix: e.TRANSIT_REDIS_KEY_PREFIX,
    maxOutgoingMigrationsPerHost: e.TRANSIT_MAX_OUTGOING_MIGRATIONS_PER_HOST,
    maxIncomingMigrationsPerHost: e.TRANSIT_MAX_INCOMING_MIGRATIONS_PER_HOST,
    maxMigrationsPerCluster: e.TRANSIT_MAX_MIGRATIONS_PER_CLUSTER,
    migrationQueueTimeoutMs: e.TRANSIT_MIGRATION_QUEUE_TIMEOUT_MS,
    migrationProgressTimeoutMs: e.TRANSIT_MIGRATION_PROGRESS_TIMEOUT_MS,
    migrationCompletionTimeoutPerGibMs: e.TRANSIT_MIGRATION_COMPLETION_TIMEOUT_PER_GIB_MS,
    orderGraceMs: e.TRANSIT_ORDER_GRACE_MS,
    maxVmsPerHost: e.TRANSIT_MAX_VMS_PER_HOST,
    maxHosts: e.TRANSIT_MAX_HOSTS,
    vmRetentionMs: e.TRANSIT_VM_RETENTION_MS,
  });
}
