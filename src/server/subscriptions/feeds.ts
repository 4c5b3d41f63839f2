/**
 * The subscriptions' streams over the migration table (`Feeds`): each subscriber gets its own
 * bounded `SubscriberStream`, fed from one listener on the table's changes (`ChangeSource`: the
 * table itself, or any other source of its ChangeSets in the table's order).
 *
 * No gap, no duplicate: a stream notes the table's latest sequence number and registers in one
 * synchronous step, so no change can fall between them (the table changes only inside a command,
 * which runs to completion on this thread). The backlog is then exactly the kept items in
 * (after, latest], read page by page, and the live items are exactly those above latest, in the
 * order the table made them.
 *
 * Only the streams a change can concern hear of it: streams are indexed by the VM or host they
 * filter on (`hostCommands` by host), so a change costs work per interested subscriber, not per
 * subscriber (a thousand host agents do not each look at every order).
 */
import { concerns, type Concerning } from '../../domain/event-filter.js';
import type { GraphQLError } from 'graphql';
import type { ReadAfter } from '../../domain/table/bounded-log.js';
import type { ChangeSet, MigrationTable } from '../../domain/table/table.js';
import type { EngineEvent, Transition } from '../../domain/model.js';
import type { FeedFilter, Feeds, HostOrder } from '../../schema/builder.js';
import { logPosition } from '../../schema/cursors.js';
import { RequestErrorCode, requestError } from '../../schema/errors.js';
import { SubscriberStream, type Backlog } from './subscriber-stream.js';

/**
 * Where the feeds' items come from: the ChangeSets as they are made, the kept history, and the
 * orders pending for a host. In one process it is the migration table itself; in clustered mode
 * (docs/contract.md §13) a mirror of the Redis stream the engine appends to (src/cluster/).
 */
export type ChangeSource = Pick<
  MigrationTable,
  'epoch' | 'cursor' | 'resolveCursor' | 'latestSeq' | 'transitionsAfter' | 'eventsAfter' | 'subscribe'
> & {
  pendingCommands(hostId: string): HostOrder[];
};

export interface FeedOptions {
  /** Live items one subscriber may have waiting before it is ended with SUBSCRIBER_TOO_SLOW. */
  readonly bufferItems: number;
  /** History items read at a time while replaying after a cursor. */
  readonly pageItems?: number;
}

const DEFAULT_PAGE_ITEMS = 256;

const matchesFilter = (filter: FeedFilter) => (item: Concerning) => concerns(item, filter);

type Sink<T> = SubscriberStream<T>;

/**
 * The open streams of one kind, indexed by what they filter on: a stream filtering on a VM (and
 * maybe a host too) sits under its VM, one filtering on a host only under its host, one without
 * filter in `all`. Each stream is under exactly one key, so it hears an item at most once.
 */
class StreamIndex<T> {
  readonly all = new Set<Sink<T>>();
  readonly byVm = new Map<string, Map<Sink<T>, string | null>>();
  readonly byHost = new Map<string, Set<Sink<T>>>();

  get size(): number {
    return this.all.size + this.byVm.size + this.byHost.size;
  }

  add(stream: Sink<T>, vmId: string | null | undefined, hostId: string | null | undefined): () => void {
    if (vmId != null) {
      let streams = this.byVm.get(vmId);
      if (streams === undefined) this.byVm.set(vmId, (streams = new Map()));
      streams.set(stream, hostId ?? null);
      return () => {
        streams.delete(stream);
        if (streams.size === 0 && this.byVm.get(vmId) === streams) this.byVm.delete(vmId);
      };
    }
    if (hostId != null) {
      let streams = this.byHost.get(hostId);
      if (streams === undefined) this.byHost.set(hostId, (streams = new Set()));
      streams.add(stream);
      return () => {
        streams.delete(stream);
        if (streams.size === 0 && this.byHost.get(hostId) === streams) this.byHost.delete(hostId);
      };
    }
    this.all.add(stream);
    return () => this.all.delete(stream);
  }

  /** Hands `item` to every stream it concerns, once each. */
  dispatch(item: T, vmId: string | null, hostIds: readonly string[]): void {
    for (const stream of this.all) stream.push(item);
    if (vmId !== null) {
      const streams = this.byVm.get(vmId);
      if (streams !== undefined) for (const [stream, hostId] of streams) if (hostId === null || hostIds.includes(hostId)) stream.push(item);
    }
    for (let i = 0; i < hostIds.length; i++) {
      const hostId = hostIds[i] as string;
      if (hostIds.indexOf(hostId) !== i) continue; // a host named twice hears the item once
      const streams = this.byHost.get(hostId);
      if (streams !== undefined) for (const stream of streams) stream.push(item);
    }
  }
}

/**
 * The kept items with `afterSeq < seq <= untilSeq` that match, a page at a time. When the history
 * after the reader's position has been evicted meanwhile, the reader must resync: it is refused,
 * never silently skipped ahead.
 */
function historyBacklog<T extends { seq: number }>(
  read: (afterSeq: number, limit: number) => ReadAfter<T>,
  afterSeq: number,
  untilSeq: number,
  matches: (item: T) => boolean,
): Backlog<T> {
  let position = afterSeq;
  return (limit) => {
    // Read `limit` kept items at a time (never the whole tail); an empty page means drained, so
    // keep reading while a filter leaves a page empty.
    const page: T[] = [];
    while (page.length === 0 && position < untilSeq) {
      const kept = read(position, limit);
      if (!kept.ok) {
        return requestError(
          RequestErrorCode.RESYNC_REQUIRED,
          `the history after ${position} is no longer kept (the history limit was reached): query the current state, then subscribe afresh`,
        );
      }
      if (kept.items.length === 0) position = untilSeq;
      for (const item of kept.items) {
        if (item.seq > untilSeq) {
          position = untilSeq;
          break;
        }
        position = item.seq;
        if (matches(item)) page.push(item);
      }
    }
    return page;
  };
}

function fixedBacklog<T>(items: readonly T[]): Backlog<T> {
  let at = 0;
  return (limit) => {
    const page = items.slice(at, at + limit);
    at += page.length;
    return page;
  };
}

export class TableFeeds implements Feeds {
  private readonly open = new Set<SubscriberStream<unknown>>();
  private readonly pageItems: number;
  private readonly transitionStreams = new StreamIndex<Transition>();
  private readonly eventStreams = new StreamIndex<EngineEvent>();
  private readonly commandStreams = new StreamIndex<HostOrder>();
  /** Removes the one change listener; null while no stream is open. */
  private unlisten: (() => void) | null = null;

  constructor(
    private readonly table: ChangeSource,
    private readonly options: FeedOptions,
    /** Where changes come from, in the table's order: the source itself unless told otherwise. */
    private readonly changes: Pick<ChangeSource, 'subscribe'> = table,
  ) {
    this.pageItems = options.pageItems ?? DEFAULT_PAGE_ITEMS;
  }

  /** Streams currently fed by the table. */
  get subscriberCount(): number {
    return this.open.size;
  }

  transitions(filter: FeedFilter): AsyncIterableIterator<Transition | GraphQLError> {
    return this.resumable(filter, this.transitionStreams, (seq, limit) => this.table.transitionsAfter(seq, limit), matchesFilter(filter));
  }

  events(filter: FeedFilter): AsyncIterableIterator<EngineEvent | GraphQLError> {
    return this.resumable(filter, this.eventStreams, (seq, limit) => this.table.eventsAfter(seq, limit), matchesFilter(filter));
  }

  /** The orders still pending for the host first (a reconnecting agent misses none), then new ones. */
  hostCommands(hostId: string): AsyncIterableIterator<HostOrder | GraphQLError> {
    const pending = this.table.pendingCommands(hostId);
    return this.stream(
      fixedBacklog(pending),
      (stream) => this.commandStreams.add(stream, null, hostId),
      `host agent ${hostId} did not read its orders: subscribe again (pending orders are sent first)`,
    );
  }

  /**
   * Ends every stream: each completes (server shutdown: its client may resume elsewhere), or
   * delivers `error` last (clustered mode: RESYNC_REQUIRED when a new engine run begins).
   */
  closeAll(error: GraphQLError | null = null): void {
    for (const stream of [...this.open]) stream.end(error);
  }

  /** One change, handed to the streams it concerns, in the table's order. */
  private readonly dispatch = (changes: ChangeSet): void => {
    if (this.transitionStreams.size > 0) for (const t of changes.transitions) this.transitionStreams.dispatch(t, t.vmId, t.hostIds);
    if (this.eventStreams.size > 0) for (const e of changes.events) this.eventStreams.dispatch(e, e.vmId, e.hostIds);
    if (this.commandStreams.size > 0) for (const c of changes.commands) this.commandStreams.dispatch(c, null, [c.hostId]);
  };

  private resumable<T extends { seq: number }>(
    filter: FeedFilter,
    index: StreamIndex<T>,
    read: (afterSeq: number, limit: number) => ReadAfter<T>,
    matches: (item: T) => boolean,
  ): AsyncIterableIterator<T | GraphQLError> {
    const tooSlow = 'fell too far behind: resume with the cursor of the last item received';
    const register = (stream: SubscriberStream<T>) => index.add(stream, filter.vmId, filter.hostId);
    if (filter.after == null) return this.stream(null, register, tooSlow);
    const after = logPosition(this.table, filter.after);
    if (typeof after !== 'number') return this.refused(after);
    // Same synchronous step as the registration in `stream`: nothing happens in between.
    const backlog = historyBacklog(read, after, this.table.latestSeq, matches);
    return this.stream(backlog, register, tooSlow);
  }

  private stream<T>(backlog: Backlog<T> | null, register: (stream: SubscriberStream<T>) => () => void, tooSlowMessage: string): SubscriberStream<T> {
    let unregister = (): void => undefined;
    const stream: SubscriberStream<T> = new SubscriberStream<T>({
      capacity: this.options.bufferItems,
      pageItems: this.pageItems,
      backlog,
      tooSlow: () => requestError(RequestErrorCode.SUBSCRIBER_TOO_SLOW, `subscriber ${tooSlowMessage} (more than ${this.options.bufferItems} items waiting)`),
      onClose: () => {
        unregister();
        this.open.delete(stream as SubscriberStream<unknown>);
        if (this.open.size === 0) {
          this.unlisten?.();
          this.unlisten = null;
        }
      },
    });
    this.unlisten ??= this.changes.subscribe(this.dispatch);
    unregister = register(stream);
    this.open.add(stream as SubscriberStream<unknown>);
    return stream;
  }

  /** A stream that delivers only its error: the subscription could not start. */
  private refused<T>(error: GraphQLError): SubscriberStream<T> {
    const stream = new SubscriberStream<T>({
      capacity: 0,
      pageItems: this.pageItems,
      backlog: null,
      tooSlow: () => error,
      onClose: () => undefined,
    });
    stream.end(error);
    return stream;
  }
}
