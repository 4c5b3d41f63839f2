/**
 * Clustered mode in tests (docs/contract.md §13): Transit servers sharing one real redis-server,
 * in this process (`startClusterServers`) or as processes (`spawnClusterProcess`), each under its
 * own key prefix so tests never share a cluster.
 */
import type { Config } from '../../src/config.js';
import { spawnEngine, freePort, type EngineProcess } from './engine-process.js';
import { startServer, type TestServer } from './server.js';

let clusters = 0;

/** A key prefix no other cluster of this test process uses. */
export const freshPrefix = (): string => `test-${process.pid}-${++clusters}`;

/**
 * A short lease and tick, so that a takeover takes about two seconds. Not shorter: on the shared
 * test machine a Node process was seen to stall for up to 1.7 s (event-loop lag under a load
 * average of 20 on two cores), and an engine that stalls for three quarters of its lease loses it,
 * which is right, but would make a test see takeovers it did not cause.
 */
export const CLUSTER_TIMING = { leaseTtlMs: 2_000, tickIntervalMs: 50 } as const;

export interface Health {
  readonly status: string;
  readonly role: 'engine' | 'replica';
  readonly epoch: string | null;
  readonly cursor: string;
  readonly subscriptions: number;
  readonly redis?: string;
  readonly engine?: string | null;
}

export async function health(graphqlUrl: string): Promise<Health> {
  const response = await fetch(new URL('/health', graphqlUrl), { signal: AbortSignal.timeout(2_000) });
  return (await response.json()) as Health;
}

/** Polls until `condition` holds; fails with `what` after `timeoutMs`. */
export async function eventually<T>(read: () => Promise<T>, condition: (value: T) => boolean, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let failure: unknown = null;
  for (;;) {
    try {
      last = await read();
      if (condition(last)) return last;
    } catch (error) {
      failure = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(last)} ${failure === null ? '' : String(failure)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * `count` servers of one cluster in this process: the first is started alone and becomes the
 * engine; the others then start as its replicas.
 */
export async function startClusterServers(redisUrl: string, count: number, overrides: Partial<Config> = {}): Promise<TestServer[]> {
  const config: Partial<Config> = { redisUrl, redisKeyPrefix: freshPrefix(), ...CLUSTER_TIMING, ...overrides };
  const first = await startServer(config);
  await eventually(() => health(first.url), (h) => h.role === 'engine', 'the first server to become the engine');
  const others = await Promise.all(Array.from({ length: count - 1 }, () => startServer(config)));
  for (const server of others) await eventually(() => health(server.url), (h) => h.role === 'replica' && h.epoch !== null && h.engine === first.url && h.redis === 'reachable', 'a replica to know the engine');
  return [first, ...others];
}

/** A Transit process of a cluster, as `npm start` runs it. */
export async function spawnClusterProcess(redisUrl: string, prefix: string, env: Record<string, string> = {}): Promise<EngineProcess> {
  return spawnEngine(await freePort(), {
    TRANSIT_REDIS_URL: redisUrl,
    TRANSIT_REDIS_KEY_PREFIX: prefix,
    TRANSIT_LEASE_TTL_MS: String(CLUSTER_TIMING.leaseTtlMs),
    TRANSIT_TICK_INTERVAL_MS: String(CLUSTER_TIMING.tickIntervalMs),
    ...env,
  }, 120_000);
}
