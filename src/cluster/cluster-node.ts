/**
 * One Transit process of a cluster (docs/contract.md §13): the engine, or a replica that would
 * take over. Every process reads the change stream (stream-mirror.ts) and serves subscriptions
 * from it; the engine also owns the migration table, applies every command, and appends what
 * each command changed to the stream (publisher.ts).
 *
 * A replica tries to take the lease every tick: when the engine dies or stalls past its lease, the
 * first replica to try after the lease ran out becomes the engine, within the TTL plus one tick,
 * with a new epoch and an empty table that the hosts' reports rebuild (§3, engine restart).
 *
 * The engine renews its lease every quarter of the TTL. It applies a command (and answers a query)
 * only while it holds the lease for certain (`canApply`); the moment it cannot say so (the lease
 * ran out unrenewed, a renewal found it taken, an append failed) it steps down: the table is
 * dropped, the clock stops, and the process carries on as a replica.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { ChangeListener, MigrationTable, ReportTotals } from '../domain/table/table.js';
import { ClusterFeeds } from './cluster-feeds.js';
import { EngineLease, type EngineInfo } from './lease.js';
import { ChangePublisher } from './publisher.js';
import { clusterKeys, connect, ready, type ClusterKeys, type Redis } from './redis.js';
import { StreamMirror } from './stream-mirror.js';

export type Role = 'engine' | 'replica';

/** The engine renews its lease this many times per TTL: a renewal or two may fail before it runs out. */
const RENEWALS_PER_TTL = 4;

export interface ClusterLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface ClusterNodeOptions {
  readonly config: Config;
  /** A new, empty table for an engine run. */
  readonly newTable: (epoch: string) => MigrationTable;
  readonly log: ClusterLog;
}

export interface LeaseCounts {
  renewed: number;
  lost: number;
  failed: number;
}

const sumReports = (a: ReportTotals, b: ReportTotals): ReportTotals => ({
  applied: a.applied + b.applied,
  ignored: a.ignored + b.ignored,
  outOfOrderBatch: a.outOfOrderBatch + b.outOfOrderBatch,
  invalidBatch: a.invalidBatch + b.invalidBatch,
});

export class ClusterNode {
  /** This process, as other processes and `CLIENT LIST` name it. */
  readonly id = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  readonly keys: ClusterKeys;
  readonly mirror: StreamMirror;
  readonly feeds: ClusterFeeds;
  readonly renewals: LeaseCounts = { renewed: 0, lost: 0, failed: 0 };
  takeovers = 0;
  stepDowns = 0;
  /** VM report totals of the tables this process owned before its current one (monitoring). */
  retiredReports: ReportTotals = { applied: 0, ignored: 0, outOfOrderBatch: 0, invalidBatch: 0 };
  private readonly redis: Redis;
  private lease: EngineLease | null = null;
  private engineTable: MigrationTable | null = null;
  private ownEpoch: number | null = null;
  private publisher: ChangePublisher | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private engine: EngineInfo | null = null;
  /** Null until the first lease check has an answer: this process does not know yet. */
  private redisReachable: boolean | null = null;
  private readonly firstCheck: { done: Promise<void>; resolve: () => void };
  private readonly tableListeners = new Set<ChangeListener>();
  private stopped = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: ClusterNodeOptions) {
    const { config, log } = options;
    const url = config.redisUrl;
    if (url === null) throw new Error('clustered mode needs TRANSIT_REDIS_URL');
    this.keys = clusterKeys(config.redisKeyPrefix);
    let resolve = () => {};
    this.firstCheck = { done: new Promise<void>((r) => (resolve = r)), resolve };
    const quiet = { warned: false };
    const onError = (error: Error) => {
      if (quiet.warned) return;
      quiet.warned = true;
      log.warn(`Redis: ${error.message} (retrying)`);
      setTimeout(() => (quiet.warned = false), 10_000).unref();
    };
    // A reply later than the lease is of no use; a renewal's validity counts from when it was sent.
    const commandTimeoutMs = config.leaseTtlMs;
    this.redis = connect(url, { name: `transit:${this.id}`, commandTimeoutMs, onError });
    // A read completes at least every quarter of the lease: orders wait for one no older than half of it.
    const blockMs = Math.max(20, Math.min(1_000, Math.floor(config.leaseTtlMs / 4)));
    const reader = connect(url, { name: `transit-reader:${this.id}`, commandTimeoutMs: blockMs + 2_000, onError });
    this.mirror = new StreamMirror(this.redis, reader, this.keys, {
      historyLimit: config.historyLimit,
      blockMs,
      unavailableAfterMs: config.leaseTtlMs,
      onError: (error) => log.warn(`change stream: ${error instanceof Error ? error.message : String(error)}`),
    });
    this.feeds = new ClusterFeeds(this.mirror, {
      bufferItems: config.subscriberBufferItems,
      cursorWaitMs: config.leaseTtlMs,
      freshnessMs: Math.max(blockMs * 2, config.leaseTtlMs / 2),
    });
  }

  get role(): Role {
    return this.engineTable === null ? 'replica' : 'engine';
  }

  /** The engine's epoch as this process knows it (its own, when it is the engine). */
  get epoch(): number | null {
    return this.ownEpoch ?? this.engine?.epoch ?? this.mirror.epochValue;
  }

  /** The table, while this process is the engine. */
  get table(): MigrationTable | null {
    return this.engineTable;
  }

  /** Whether this process could reach Redis at its latest attempt; null before its first attempt answered. */
  get reachable(): boolean | null {
    return this.redisReachable;
  }

  /**
   * Resolves once this process's first lease check has an answer (it knows the engine, is the
   * engine, or found Redis unreachable), or after `timeoutMs`: a request that reaches a process
   * which has just started waits for that rather than being told no engine exists.
   */
  async firstLeaseCheck(timeoutMs: number): Promise<void> {
    if (this.redisReachable !== null) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.firstCheck.done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
  }

  /** Where queries and mutations go when this process cannot apply them: the engine's `/graphql`, if one is known. */
  get engineUrl(): string | null {
    if (this.engine === null || this.engine.node === this.id) return null;
    return this.engine.url;
  }

  /**
   * Whether this process may apply a command (or answer a query) now: it is the engine, holds the
   * lease for certain, and is connected to Redis (what it applies must be appended at once). An
   * engine whose lease ran out steps down at once; one that lost its connection only waits (if
   * Redis is back before its lease runs out, it renews and carries on, in the same epoch).
   */
  canApply(): boolean {
    if (this.engineTable === null) return false;
    if (this.lease?.valid !== true) {
      this.stepDown('its lease ran out before it could renew it');
      return false;
    }
    return this.redis.status === 'ready';
  }

  /** Resolves once every change applied so far is in Redis; rejects when one could not be written. */
  async settled(): Promise<void> {
    const publisher = this.publisher;
    if (publisher === null) throw new Error('this process is no longer the engine');
    await publisher.settled();
  }

  /** Listens to the changes of every table this process will own (monitoring). */
  onTableChange(listener: ChangeListener): void {
    this.tableListeners.add(listener);
  }

  /** Starts reading the stream and competing for the lease; `url` is this process's `/graphql` as the others reach it. */
  start(url: string): void {
    this.lease = new EngineLease(this.redis, this.keys, {
      ttlMs: this.options.config.leaseTtlMs,
      node: this.id,
      url,
      streamMaxLength: this.options.config.historyLimit,
    });
    this.mirror.start();
    this.loop ??= this.run();
  }

  /** Gives the lease back (a replica takes over at its next tick), stops reading, disconnects. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.engineTable !== null) {
      this.retire('it is shutting down');
      await this.lease?.release().catch(() => undefined);
    }
    await this.mirror.stop();
    this.redis.disconnect();
  }

  private async run(): Promise<void> {
    const { leaseTtlMs, tickIntervalMs } = this.options.config;
    await ready(this.redis, leaseTtlMs).catch(() => undefined); // not reachable yet: the loop retries
    while (!this.stopped) {
      let delay = tickIntervalMs;
      if (this.engineTable !== null) delay = (await this.renew()) ? leaseTtlMs / RENEWALS_PER_TTL : Math.min(tickIntervalMs, leaseTtlMs / 10);
      else await this.tryTakeOver();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private async tryTakeOver(): Promise<void> {
    const lease = this.lease;
    if (lease === null) return;
    try {
      const result = await lease.tryAcquire();
      this.redisReachable = true;
      if (this.stopped) {
        if (result.acquired) await lease.release();
        return;
      }
      if (result.acquired) this.becomeEngine(result.epoch);
      else this.engine = result.engine;
    } catch {
      this.redisReachable = false;
    } finally {
      this.firstCheck.resolve();
    }
  }

  /** True when renewed; false when it failed (the engine may still hold the lease for a while). */
  private async renew(): Promise<boolean> {
    const lease = this.lease;
    if (lease === null) return false;
    try {
      const renewed = await lease.renew();
      this.redisReachable = true;
      if (this.engineTable === null) return false;
      if (!renewed) {
        this.renewals.lost++;
        this.stepDown('another process holds the lease');
        return false;
      }
      this.renewals.renewed++;
      this.arm();
      return true;
    } catch {
      this.redisReachable = false;
      this.renewals.failed++;
      return false;
    }
  }

  private becomeEngine(epoch: number): void {
    const { config, log } = this.options;
    const table = this.options.newTable(String(epoch));
    const publisher = new ChangePublisher(this.redis, this.keys, {
      epoch,
      maxLength: config.historyLimit,
      onFailure: (error) => this.stepDown(`a change could not be written to Redis (${error.message})`),
    });
    table.subscribe((changes) => {
      publisher.publish(changes, table);
      for (const listener of this.tableListeners) listener(changes);
    });
    this.engineTable = table;
    this.ownEpoch = epoch;
    this.publisher = publisher;
    this.engine = null;
    this.takeovers++;
    this.ticker = setInterval(() => {
      if (!this.canApply()) return;
      try {
        table.tick();
      } catch (error) {
        log.error('tick failed', error);
      }
    }, config.tickIntervalMs);
    this.ticker.unref();
    this.arm();
    log.info(`${this.id} is the engine, epoch ${epoch}: its table is empty and is rebuilt from the hosts' reports`);
  }

  /** Steps down when the lease runs out unrenewed, even if nothing else asks. */
  private arm(): void {
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    const remaining = this.lease?.remainingMs ?? 0;
    this.watchdog = setTimeout(() => this.canApply(), remaining + 1);
    this.watchdog.unref();
  }

  /** Stops being the engine: applies nothing more, gives the lease back if it is still ours. */
  private stepDown(reason: string): void {
    if (this.engineTable === null) return;
    this.retire(reason);
    this.stepDowns++;
    void this.lease?.release().catch(() => undefined);
  }

  private retire(reason: string): void {
    const table = this.engineTable;
    if (table === null) return;
    this.retiredReports = sumReports(this.retiredReports, table.stats().reports);
    this.engineTable = null;
    this.ownEpoch = null;
    this.publisher?.close();
    this.publisher = null;
    if (this.ticker !== null) clearInterval(this.ticker);
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.ticker = null;
    this.watchdog = null;
    this.options.log.warn(`${this.id} stepped down: ${reason}; it now serves as a replica`);
  }
}
