/**
 * Every process reads the change stream (docs/contract.md §13): one reader per process (`XREAD
 * BLOCK` on its own connection) keeps the process's copy of the current engine run
 * (epoch-copy.ts: transitions and events, pending orders, the view of the table) and hands each
 * entry's ChangeSet to its listeners, in order: it is the subscriptions' source of changes in
 * clustered mode, on the engine as on the replicas, exactly as the table itself is in one
 * process. Items are decoded once per process and shared by every subscriber.
 *
 * Nothing is skipped silently. The reader starts from a consistent point (the stream's last entry
 * and the pending orders as of it, read in one MULTI), loads the epoch's kept entries, then
 * follows; entries of an epoch are numbered without gaps, so a reader that fell behind the
 * stream's trimming (or finds, with XINFO STREAM after Redis came back, that the stream was
 * trimmed past it, rewound or lost) knows it, and so does a reader that sees a new epoch begin.
 * Either way its subscribers are ended with RESYNC_REQUIRED (`onReset`), and it starts again from
 * a consistent point. A reader that cannot reach Redis for longer than the lease ends them with
 * ENGINE_UNAVAILABLE (`onUnavailable`): no engine can be applying anything by then.
 */
import type { Millis } from '../domain/model.js';
import type { HostOrder } from '../schema/builder.js';
import { decodeEntry, formatEntryId, parseEntryId, type ChangeEntry, type EntryId } from './change-entry.js';
import { EpochCopy } from './epoch-copy.js';
import { isNoSuchKey, ready as whenReady, type ClusterKeys, type Redis } from './redis.js';

export type ResetReason = 'NEW_EPOCH' | 'GAP' | 'STREAM_LOST';

export interface MirrorOptions {
  /** Transitions and events kept, each (the history limit). */
  readonly historyLimit: number;
  /** How long one XREAD blocks, in ms. */
  readonly blockMs: number;
  /** After failing to read for this long, the subscribers are told the engine is unavailable. */
  readonly unavailableAfterMs: number;
  readonly clock?: () => Millis;
  readonly onError?: (error: unknown) => void;
}

export interface MirrorStats {
  entriesRead: number;
  resets: number;
  /** Between the engine appending the latest entry read and this process applying it, in ms. */
  lagMs: number;
}

const PAGE = 1_000;
const RETRY_MS = 200;

type StreamReply = [string, [string, string[]][]][];

/** Thrown inside a bootstrap that must start again (the stream changed under it). */
class StartAgain extends Error {}

export class StreamMirror extends EpochCopy {
  readonly stats: MirrorStats = { entriesRead: 0, resets: 0, lagMs: 0 };
  private readonly resetListeners = new Set<(reason: ResetReason) => void>();
  private readonly unavailableListeners = new Set<() => void>();
  private readonly waiters = new Set<() => void>();
  /** Monotonic time at which the latest completed read of the stream was sent: the copy is current as of then. */
  private confirmedAt = Number.NEGATIVE_INFINITY;
  /** Id of the last entry applied; reading resumes after it. */
  private position = '0-0';
  private ready = false;
  private mustVerify = false;
  private failingSince: number | null = null;
  private toldUnavailable = false;
  private closed = false;
  private running: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly reader: Redis,
    private readonly keys: ClusterKeys,
    private readonly options: MirrorOptions,
  ) {
    super(options.historyLimit, (error) => options.onError?.(error));
  }

  /** Reading is up to date as far as this process knows: new subscriptions may start. */
  get available(): boolean {
    return this.ready && !this.toldUnavailable;
  }

  // ---- the reader ----

  /** Called, before the copy is emptied, whenever its subscribers must resync. */
  onReset(listener: (reason: ResetReason) => void): void {
    this.resetListeners.add(listener);
  }

  /** Called once per outage, when Redis could not be read for `unavailableAfterMs`. */
  onUnavailable(listener: () => void): void {
    this.unavailableListeners.add(listener);
  }

  /**
   * Resolves once the copy holds `seq` of the current epoch (true), or after `timeoutMs`, or when
   * the epoch changes (false): a cursor the engine handed out may be a few milliseconds ahead of
   * this process's copy.
   */
  async reach(epoch: string, seq: number, timeoutMs: number): Promise<boolean> {
    const reached = () => this.epoch === epoch && this.latestSeq >= seq;
    const gone = () => this.epoch !== epoch || this.closed;
    if (reached()) return true;
    return new Promise<boolean>((resolve) => {
      const check = () => {
        if (!reached() && !gone()) return;
        finish();
      };
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(reached());
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(check);
    });
  }

  /**
   * Resolves true once this copy is known current within the last `windowMs` (a read sent since
   * then completed) and still at `epoch`; false as soon as the epoch changes or the stream cannot
   * be read. An order is delivered only after this: a process that was paused, or cut off from
   * Redis, may hold orders of an engine that has since been replaced; it delivers none of them
   * before it has read the stream again, and then it finds the new engine run instead.
   */
  async current(epoch: string, windowMs: number): Promise<boolean> {
    const fresh = () => this.epoch === epoch && this.ready && performance.now() - this.confirmedAt <= windowMs;
    const gone = () => this.epoch !== epoch || this.closed || this.toldUnavailable;
    if (fresh()) return true;
    if (gone()) return false;
    return new Promise<boolean>((resolve) => {
      const check = () => {
        const answer = fresh() ? true : gone() ? false : null;
        if (answer === null) return;
        this.waiters.delete(check);
        resolve(answer);
      };
      this.waiters.add(check);
    });
  }

  start(): void {
    this.running ??= this.follow();
  }

  private wakeWaiters(): void {
    for (const check of [...this.waiters]) check();
  }

  /** Stops reading and closes the reader's connection (it is this mirror's own). */
  async stop(): Promise<void> {
    this.closed = true;
    this.wakeWaiters();
    this.reader.disconnect();
    await this.running?.catch(() => undefined);
  }

  private async follow(): Promise<void> {
    while (!this.closed) {
      try {
        if (this.reader.status !== 'ready') await whenReady(this.reader, this.options.blockMs);
        if (!this.ready && this.redis.status !== 'ready') await whenReady(this.redis, this.options.blockMs);
        if (this.mustVerify && this.ready) await this.verify();
        if (!this.ready) await this.bootstrap();
        const sentAt = performance.now();
        const reply = (await this.reader.xread('COUNT', PAGE, 'BLOCK', this.options.blockMs, 'STREAMS', this.keys.changes, this.position)) as
          | StreamReply
          | null;
        this.recovered();
        let whole = true;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) if (!(whole = this.receive(id, fields))) break;
        }
        // Only once its entries are applied (a new epoch among them has ended the old one's streams).
        if (whole && this.ready) this.confirmedAt = sentAt;
        this.wakeWaiters();
      } catch (error) {
        if (this.closed) break;
        if (error instanceof StartAgain) continue;
        this.failing(error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    }
  }

  private recovered(): void {
    this.failingSince = null;
    this.toldUnavailable = false;
  }

  private failing(error: unknown): void {
    const now = performance.now();
    if (this.failingSince === null) {
      this.failingSince = now;
      this.options.onError?.(error);
    }
    this.mustVerify = true;
    if (!this.toldUnavailable && now - this.failingSince >= this.options.unavailableAfterMs) {
      this.toldUnavailable = true;
      for (const listener of this.unavailableListeners) listener();
      this.wakeWaiters();
    }
  }

  /**
   * After Redis could not be read: is the stream still the one this copy follows? It may have
   * been trimmed past this copy's position (XREAD would silently skip what was trimmed), rewound
   * or lost (Redis restarted without its data).
   */
  private async verify(): Promise<void> {
    let info: unknown[];
    try {
      info = (await this.redis.xinfo('STREAM', this.keys.changes)) as unknown[];
    } catch (error) {
      if (!isNoSuchKey(error)) throw error;
      if (this.epochNumber !== null) this.restart('STREAM_LOST');
      this.mustVerify = false;
      return;
    }
    const field = (name: string) => info[info.indexOf(name) + 1];
    const last = parseEntryId(String(field('last-generated-id')));
    const firstEntry = field('first-entry') as [string, string[]] | null;
    const first = firstEntry === null ? null : parseEntryId(firstEntry[0]);
    const here = parseEntryId(this.position);
    this.mustVerify = false;
    if (here === null || this.epochNumber === null) return;
    if (last === null || compare(last, here) < 0) return this.restart('STREAM_LOST');
    if (first !== null && first.epoch === here.epoch && first.n > here.n + 1) return this.restart('GAP');
  }

  /** Starts again from a consistent point of the stream; the subscribers resync. */
  private restart(reason: ResetReason): void {
    this.reset(reason);
    this.forget();
    this.ready = false;
    this.wakeWaiters();
  }

  private reset(reason: ResetReason): void {
    this.stats.resets++;
    if (this.epochNumber !== null) for (const listener of this.resetListeners) listener(reason);
  }

  /** Applies one entry; false when the copy must start again (entries were missed). */
  private receive(id: string, fields: string[]): boolean {
    const at = parseEntryId(id);
    const entry = decodeEntry(fields[fields.indexOf('d') + 1] as string);
    if (at === null) return true;
    if (this.epochNumber !== null && at.epoch === this.epochNumber && at.n === this.entryNumber + 1) {
      this.apply(id, entry, true);
      return true;
    }
    if ((this.epochNumber === null || at.epoch > this.epochNumber) && entry.start === true) {
      // A new engine run begins, and this copy has its very first entry.
      this.reset('NEW_EPOCH');
      this.begin(at.epoch, entry);
      this.apply(id, entry, true);
      return true;
    }
    if (this.epochNumber !== null && at.epoch < this.epochNumber) return true; // cannot happen: ids increase
    this.restart(this.epochNumber !== null && at.epoch > this.epochNumber ? 'NEW_EPOCH' : 'GAP');
    return false;
  }

  private apply(id: string, entry: ChangeEntry, live: boolean): void {
    this.applyEntry(entry, live);
    this.position = id;
    this.stats.entriesRead++;
    this.stats.lagMs = Math.max(0, (this.options.clock ?? Date.now)() - entry.at);
    this.wakeWaiters();
  }

  /**
   * Reads the stream from a consistent point: its last entry and the pending orders as of it (one
   * MULTI), then the epoch's kept entries up to it.
   */
  private async bootstrap(): Promise<void> {
    const replies = await this.redis.multi().xrevrange(this.keys.changes, '+', '-', 'COUNT', 1).hgetall(this.keys.pending).exec();
    if (replies === null) throw new Error('the bootstrap transaction was aborted');
    const [lastReply, pendingReply] = replies;
    if (lastReply?.[0] || pendingReply?.[0]) throw lastReply?.[0] ?? pendingReply?.[0];
    const last = lastReply?.[1] as [string, string[]][];
    const pending = pendingReply?.[1] as Record<string, string>;
    if (last.length === 0) {
      this.forget();
      this.position = '0-0';
      this.ready = true;
      return;
    }
    const lastId = last[0]?.[0] as string;
    const end = parseEntryId(lastId);
    if (end === null) throw new Error(`unexpected entry id ${lastId} in ${this.keys.changes}`);
    let from = formatEntryId({ epoch: end.epoch, n: 0 });
    let first = true;
    for (;;) {
      const page = (await this.redis.xrange(this.keys.changes, from, lastId, 'COUNT', PAGE)) as [string, string[]][];
      if (page.length === 0 && first) throw new StartAgain('the stream was trimmed while being read');
      for (const [id, fields] of page) {
        const at = parseEntryId(id);
        if (at === null) continue;
        const entry = decodeEntry(fields[fields.indexOf('d') + 1] as string);
        if (first) {
          this.begin(at.epoch, entry);
          first = false;
        } else if (at.n !== this.entryNumber + 1) {
          throw new StartAgain('the stream was trimmed while being read');
        }
        this.apply(id, entry, false);
      }
      if (page.length < PAGE) break;
      from = `(${page[page.length - 1]?.[0] as string}`;
    }
    this.setPending(new Map(Object.entries(pending).map(([host, orders]) => [host, JSON.parse(orders) as HostOrder[]])));
    this.ready = true;
  }
}

function compare(a: EntryId, b: EntryId): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.n - b.n;
}
