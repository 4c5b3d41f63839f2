/**
 * Every process's copy of the change stream (docs/contract.md §13): one reader per process
 * (`XREAD BLOCK` on its own connection) keeps the current epoch's transitions and events, the
 * orders pending per host and a view of the table (replica-view.ts), and hands each entry's
 * ChangeSet to its listeners, in order: it is the subscriptions' source of changes in clustered
 * mode, on the engine as on the replicas, exactly as the table itself is in one process. Items
 * are decoded once per process and shared by every subscriber.
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
import type { EngineEvent, Millis, Transition } from '../domain/model.js';
import type { ReadAfter } from '../domain/table/bounded-log.js';
import { formatCursor, parseCursor } from '../domain/table/cursor.js';
import type { ChangeListener, ChangeSet } from '../domain/table/table.js';
import { HostCommandKind } from '../domain/vocabulary.js';
import type { HostOrder } from '../schema/builder.js';
import type { ChangeSource } from '../server/subscriptions/feeds.js';
import { decodeEntry, formatEntryId, parseEntryId, type ChangeEntry, type EntryId } from './change-entry.js';
import { MirrorLog } from './mirror-log.js';
import { isNoSuchKey, ready as whenReady, type ClusterKeys, type Redis } from './redis.js';
import { ReplicaView, type ViewedRun } from './replica-view.js';

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
/** Cancel orders kept per host for agents that subscribe again (`pendingCommands`). */
const RECENT_CANCELS = 100;

const orderKey = (o: HostOrder) => `${o.migrationId}/${o.attempt}/${o.kind}`;
const RETRY_MS = 200;

type StreamReply = [string, [string, string[]][]][];

/** Thrown inside a bootstrap that must start again (the stream changed under it). */
class StartAgain extends Error {}

export class StreamMirror implements ChangeSource, ViewedRun {
  readonly view: ReplicaView;
  readonly stats: MirrorStats = { entriesRead: 0, resets: 0, lagMs: 0 };
  private epochNumber: number | null = null;
  private entryNumber = -1;
  private seq = 0;
  private started: Millis = 0;
  /** Read this epoch from its first entry (its orders and view are complete). */
  private whole = false;
  private readonly transitions: MirrorLog<Transition>;
  private readonly events: MirrorLog<EngineEvent>;
  private pending = new Map<string, readonly HostOrder[]>();
  /** Per host, the epoch's latest cancel orders (a late migrate order must meet its cancel, wherever the agent subscribes). */
  private cancels = new Map<string, HostOrder[]>();
  private readonly listeners = new Set<ChangeListener>();
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
    this.transitions = new MirrorLog(options.historyLimit);
    this.events = new MirrorLog(options.historyLimit);
    this.view = new ReplicaView(this);
  }

  // ---- ChangeSource ----

  get epoch(): string {
    return this.epochNumber === null ? 'none' : String(this.epochNumber);
  }

  get epochValue(): number | null {
    return this.epochNumber;
  }

  get startedAt(): Millis {
    return this.started;
  }

  get cursor(): string {
    return formatCursor(this.epoch, this.seq);
  }

  get latestSeq(): number {
    return this.seq;
  }

  get complete(): boolean {
    return this.whole;
  }

  /** Reading is up to date as far as this process knows: new subscriptions may start. */
  get available(): boolean {
    return this.ready && !this.toldUnavailable;
  }

  resolveCursor(cursor: string): { ok: true; seq: number } | { ok: false; reason: 'MALFORMED' | 'OTHER_EPOCH' | 'FUTURE' } {
    const position = parseCursor(cursor);
    if (position === null) return { ok: false, reason: 'MALFORMED' };
    if (this.epochNumber === null || position.epoch !== this.epoch) return { ok: false, reason: 'OTHER_EPOCH' };
    if (position.seq > this.seq) return { ok: false, reason: 'FUTURE' };
    return { ok: true, seq: position.seq };
  }

  transitionsAfter(afterSeq: number, limit?: number): ReadAfter<Transition> {
    return this.transitions.readAfter(afterSeq, limit);
  }

  eventsAfter(afterSeq: number, limit?: number): ReadAfter<EngineEvent> {
    return this.events.readAfter(afterSeq, limit);
  }

  /**
   * The orders pending for the host, then the cancel orders of the epoch's attempts that have
   * ended since (the latest RECENT_CANCELS): an agent that moved between processes while its
   * attempt was ended (by the start timeout, say) may yet receive that attempt's migrate order
   * from a process that read the stream later, and must hold its cancel to drop it.
   */
  pendingCommands(hostId: string): HostOrder[] {
    const pending = [...(this.pending.get(hostId) ?? [])];
    const held = new Set(pending.map(orderKey));
    for (const cancel of this.cancels.get(hostId) ?? []) if (!held.has(orderKey(cancel))) pending.push(cancel);
    return pending;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
    const reached = () => this.epoch === epoch && this.seq >= seq;
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
    this.epochNumber = null;
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
      this.apply(id, at, entry, true);
      return true;
    }
    if ((this.epochNumber === null || at.epoch > this.epochNumber) && entry.start === true) {
      // A new engine run begins, and this copy has its very first entry.
      this.reset('NEW_EPOCH');
      this.begin(at.epoch, entry);
      this.apply(id, at, entry, true);
      return true;
    }
    if (this.epochNumber !== null && at.epoch < this.epochNumber) return true; // cannot happen: ids increase
    this.restart(this.epochNumber !== null && at.epoch > this.epochNumber ? 'NEW_EPOCH' : 'GAP');
    return false;
  }

  /** Empties the copy for a new epoch, which it holds from `entry` on. */
  private begin(epoch: number, entry: ChangeEntry): void {
    this.epochNumber = epoch;
    this.entryNumber = entry.n - 1;
    this.seq = entry.f - 1;
    this.started = entry.at;
    this.whole = entry.start === true;
    this.transitions.reset(this.seq);
    this.events.reset(this.seq);
    this.pending = new Map();
    this.cancels = new Map();
    this.view.reset();
  }

  private apply(id: string, at: EntryId, entry: ChangeEntry, live: boolean): void {
    const transitions = entry.t ?? [];
    const events = entry.v ?? [];
    for (const t of transitions) this.transitions.append(t);
    for (const e of events) this.events.append(e);
    this.view.apply(entry);
    for (const order of entry.c ?? []) {
      if (order.kind !== HostCommandKind.CANCEL) continue;
      let held = this.cancels.get(order.hostId);
      if (held === undefined) this.cancels.set(order.hostId, (held = []));
      held.push(order);
      if (held.length > RECENT_CANCELS) held.shift();
    }
    if (live) {
      for (const [host, orders] of entry.p ?? []) {
        if (orders.length === 0) this.pending.delete(host);
        else this.pending.set(host, orders);
      }
    }
    this.entryNumber = at.n;
    this.seq = Math.max(this.seq, entry.l);
    this.position = id;
    this.stats.entriesRead++;
    this.stats.lagMs = Math.max(0, (this.options.clock ?? Date.now)() - entry.at);
    if (live) {
      const changes: ChangeSet = { transitions, events, commands: entry.c ?? [] };
      if (transitions.length + events.length + changes.commands.length > 0) {
        for (const listener of this.listeners) {
          try {
            listener(changes);
          } catch (error) {
            this.options.onError?.(error);
          }
        }
      }
    }
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
      this.epochNumber = null;
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
        this.apply(id, at, entry, false);
      }
      if (page.length < PAGE) break;
      from = `(${page[page.length - 1]?.[0] as string}`;
    }
    this.pending = new Map(Object.entries(pending).map(([host, orders]) => [host, JSON.parse(orders) as HostOrder[]]));
    this.ready = true;
  }
}

function compare(a: EntryId, b: EntryId): number {
  return a.epoch !== b.epoch ? a.epoch - b.epoch : a.n - b.n;
}
