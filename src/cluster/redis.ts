/**
 * The cluster's Redis: its connections, its keys and the Lua scripts that change them. This
 * directory is the only place Transit talks to Redis (ioredis).
 *
 * Connections fail fast (no offline queue, no retried commands): an engine must learn at once
 * that it cannot reach Redis, because what it cannot write to Redis it may not apply
 * (docs/contract.md §13). ioredis reconnects by itself; the callers retry on their own schedule.
 */
import { Redis } from 'ioredis';

export type { Redis };

/** Every key of one cluster, under one prefix. */
export interface ClusterKeys {
  /** The engine's lease: a string holding the current holder's token, with a TTL. */
  readonly lease: string;
  /** The fencing token counter: incremented by every takeover; its value is the engine's epoch. */
  readonly epoch: string;
  /** The current engine: a hash `epoch`, `url`, `node`, `since`, written at takeover. */
  readonly engine: string;
  /** The stream of changes: one entry per command the engine applied (transitions, events, orders). */
  readonly changes: string;
  /** The orders pending per host in the current epoch: a hash host id → JSON array of orders. */
  readonly pending: string;
}

export const clusterKeys = (prefix: string): ClusterKeys => ({
  lease: `${prefix}:lease`,
  epoch: `${prefix}:epoch`,
  engine: `${prefix}:engine`,
  changes: `${prefix}:changes`,
  pending: `${prefix}:pending`,
});

export interface ConnectionOptions {
  /** Shown by `CLIENT LIST`. */
  readonly name: string;
  /** A command not answered within this long fails (a blocking read must allow its block time). */
  readonly commandTimeoutMs: number;
  readonly onError?: (error: Error) => void;
}

/** A connection that fails fast and reconnects by itself, at most every 500 ms. */
export function connect(url: string, { name, commandTimeoutMs, onError }: ConnectionOptions): Redis {
  const redis = new Redis(url, {
    connectionName: name,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // A command whose reply was lost with its connection is not sent again: it may have been applied.
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: Math.max(1_000, commandTimeoutMs),
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
    lazyConnect: false,
  });
  // Without a listener ioredis prints every failed reconnect; the caller counts and reports them.
  redis.on('error', (error: Error) => onError?.(error));
  return redis;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function ready(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready within ${timeoutMs} ms (${redis.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/**
 * A Lua script, sent whole with every call (EVAL; Redis caches it compiled). Not EVALSHA: loading
 * a script Redis does not know (after a restart) takes a round trip, and a call made meanwhile by
 * the same connection would overtake the calls still waiting for it. The engine's appends rely on
 * reaching Redis in the order they were made.
 */
export class Script {
  constructor(private readonly lua: string) {}

  run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return redis.eval(this.lua, keys.length, ...keys, ...args);
  }
}

/** Whether the reply is Redis's "the key does not exist" for a command on a key (XINFO STREAM). */
export const isNoSuchKey = (error: unknown): boolean => error instanceof Error && /no such key/i.test(error.message);
