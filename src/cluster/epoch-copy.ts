/**
 * One process's copy of the current engine run, as the change stream shows it: the transitions
 * and events (for resuming subscribers), the orders pending per host, the view of the table that
 * subscription items reach (replica-view.ts), and the listeners that receive each entry's
 * ChangeSet. It is the subscriptions' source of changes in clustered mode (feeds.ts takes it as
 * it takes the table in one process). Reading Redis into it is stream-mirror.ts's job.
 */
import type { EngineEvent, Millis, Transition } from '../domain/model.js';
import type { ReadAfter } from '../domain/table/bounded-log.js';
import { formatCursor, parseCursor } from '../domain/table/cursor.js';
import type { ChangeListener, ChangeSet } from '../domain/table/table.js';
import { HostCommandKind } from '../domain/vocabulary.js';
import type { HostOrder } from '../schema/builder.js';
import type { ChangeSource } from '../server/subscriptions/feeds.js';
import type { ChangeEntry } from './change-entry.js';
import { MirrorLog } from './mirror-log.js';
import { ReplicaView, type ViewedRun } from './replica-view.js';

/** Cancel orders kept per host for agents that subscribe again (`pendingCommands`). */
const RECENT_CANCELS = 100;

const orderKey = (o: HostOrder) => `${o.migrationId}/${o.attempt}/${o.kind}`;

export class EpochCopy implements ChangeSource, ViewedRun {
  readonly view: ReplicaView;
  /** The engine run held, null before any. */
  protected epochNumber: number | null = null;
  /** The number of the last entry applied, within its epoch. */
  protected entryNumber = -1;
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

  constructor(
    historyLimit: number,
    private readonly onListenerError: (error: unknown) => void,
  ) {
    this.transitions = new MirrorLog(historyLimit);
    this.events = new MirrorLog(historyLimit);
    this.view = new ReplicaView(this);
  }

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

  /** Empties the copy for a new epoch, which it holds from `entry` on. */
  protected begin(epoch: number, entry: ChangeEntry): void {
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

  /** Holds no engine run any more (the stream must be read again from a consistent point). */
  protected forget(): void {
    this.epochNumber = null;
  }

  /** The pending orders as of the entry last applied, read whole (a copy that starts late). */
  protected setPending(pending: Map<string, readonly HostOrder[]>): void {
    this.pending = pending;
  }

  /**
   * Applies the entry that follows the last one. `live`: it was just appended, so its pending
   * orders are news and its ChangeSet goes to the listeners (not while a late copy catches up).
   */
  protected applyEntry(entry: ChangeEntry, live: boolean): void {
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
    this.entryNumber = entry.n;
    this.seq = Math.max(this.seq, entry.l);
    if (!live) return;
    for (const [host, orders] of entry.p ?? []) {
      if (orders.length === 0) this.pending.delete(host);
      else this.pending.set(host, orders);
    }
    const changes: ChangeSet = { transitions, events, commands: entry.c ?? [] };
    if (transitions.length + events.length + changes.commands.length === 0) return;
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }
}
