/**
 * The subscriptions' streams over the migration table (`Feeds`): each subscriber gets its own
 * bounded `SubscriberStream`, fed by a table listener.
 *
 * No gap, no duplicate: a stream notes the table's latest sequence number and registers its
 * listener in one synchronous step, so no change can fall between them (the table changes only
 * inside a command, which runs to completion on this thread). The backlog is then exactly the
 * kept items in (after, latest], read page by page, and the live items are exactly those above
 * latest, in the order the table made them.
 */
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

const matchesTransition = ({ vmId, hostId }: FeedFilter) => (t: Transition) =>
  (vmId == null || t.vmId === vmId) && (hostId == null || t.hostIds.includes(hostId));

const matchesEvent = ({ vmId, hostId }: FeedFilter) => (e: EngineEvent) =>
  (vmId == null || e.vmId === vmId) && (hostId == null || e.hostIds.includes(hostId));

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

  constructor(
    private readonly table: ChangeSource,
    private readonly options: FeedOptions,
  ) {
    this.pageItems = options.pageItems ?? DEFAULT_PAGE_ITEMS;
  }

  /** Streams currently fed by the table. */
  get subscriberCount(): number {
    return this.open.size;
  }

  transitions(filter: FeedFilter): AsyncIterableIterator<Transition | GraphQLError> {
    return this.resumable(filter, (seq, limit) => this.table.transitionsAfter(seq, limit), (changes) => changes.transitions, matchesTransition(filter));
  }

  events(filter: FeedFilter): AsyncIterableIterator<EngineEvent | GraphQLError> {
    return this.resumable(filter, (seq, limit) => this.table.eventsAfter(seq, limit), (changes) => changes.events, matchesEvent(filter));
  }

  /** The orders still pending for the host first (a reconnecting agent misses none), then new ones. */
  hostCommands(hostId: string): AsyncIterableIterator<HostOrder | GraphQLError> {
    const pending = this.table.pendingCommands(hostId);
    return this.stream(
      fixedBacklog(pending),
      (changes) => changes.commands,
      (command) => command.hostId === hostId,
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

  private resumable<T extends { seq: number }>(
    filter: FeedFilter,
    read: (afterSeq: number, limit: number) => ReadAfter<T>,
    pick: (changes: ChangeSet) => readonly T[],
    matches: (item: T) => boolean,
  ): AsyncIterableIterator<T | GraphQLError> {
    const tooSlow = 'fell too far behind: resume with the cursor of the last item received';
    if (filter.after == null) return this.stream(null, pick, matches, tooSlow);
    const after = logPosition(this.table, filter.after);
    if (typeof after !== 'number') return this.refused(after);
    // Same synchronous step as the listener registration in `stream`: nothing happens in between.
    const backlog = historyBacklog(read, after, this.table.latestSeq, matches);
    return this.stream(backlog, pick, matches, tooSlow);
  }

  private stream<T>(
    backlog: Backlog<T> | null,
    pick: (changes: ChangeSet) => readonly T[],
    matches: (item: T) => boolean,
    tooSlowMessage: string,
  ): SubscriberStream<T> {
    let unsubscribe = (): void => undefined;
    const stream: SubscriberStream<T> = new SubscriberStream<T>({
      capacity: this.options.bufferItems,
      pageItems: this.pageItems,
      backlog,
      tooSlow: () => requestError(RequestErrorCode.SUBSCRIBER_TOO_SLOW, `subscriber ${tooSlowMessage} (more than ${this.options.bufferItems} items waiting)`),
      onClose: () => {
        unsubscribe();
        this.open.delete(stream as SubscriberStream<unknown>);
      },
    });
    unsubscribe = this.table.subscribe((changes) => {
      for (const item of pick(changes)) if (matches(item)) stream.push(item);
    });
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
