/**
 * The subscriptions of a process in clustered mode: the feeds of one process (feeds.ts), fed by
 * the stream mirror instead of the table, with what a cluster adds:
 *
 * - a new engine run ends every stream with RESYNC_REQUIRED (the new engine's table starts
 *   empty, its cursors are of another epoch), as does a mirror that missed entries;
 * - a mirror that cannot read Redis ends them with ENGINE_UNAVAILABLE, and refuses new ones
 *   with it, rather than leaving subscribers in a silence they cannot tell from a quiet fleet;
 * - a cursor of the current epoch a little ahead of this process's copy (the engine handed it out
 *   a few milliseconds before this process read it from Redis) is waited for, up to the lease's
 *   TTL, instead of being refused as one this engine never handed out;
 * - an order is delivered only while this process's copy of the stream is known current.
 */
import { GraphQLError } from 'graphql';
import type { EngineEvent, Transition } from '../domain/model.js';
import { parseCursor } from '../domain/table/cursor.js';
import type { FeedFilter, Feeds, HostOrder } from '../schema/builder.js';
import type { Delivery } from '../schema/errors.js';
import { RequestErrorCode, requestError } from '../schema/errors.js';
import { TableFeeds, type FeedOptions } from '../server/subscriptions/feeds.js';
import type { ResetReason, StreamMirror } from './stream-mirror.js';

const RESYNC_MESSAGES: Record<ResetReason, string> = {
  NEW_EPOCH: 'a new engine run began (the engine changed): query the current state, then subscribe without a cursor',
  GAP: 'this process missed part of the change stream (it was trimmed before it was read): query the current state, then subscribe without a cursor',
  STREAM_LOST: 'the change stream was lost (Redis restarted without its data): query the current state, then subscribe without a cursor',
};

/** An iterator that yields one error and ends. */
function failed<T>(error: GraphQLError): AsyncIterableIterator<Delivery<T>> {
  let done = false;
  return {
    async next() {
      if (done) return { done: true, value: undefined };
      done = true;
      return { done: false, value: error };
    },
    async return() {
      done = true;
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** An iterator that opens its source on first use, once `ready` resolves; ending it before then opens nothing. */
function deferred<T>(ready: Promise<unknown>, open: () => AsyncIterableIterator<Delivery<T>>): AsyncIterableIterator<Delivery<T>> {
  let source: AsyncIterableIterator<Delivery<T>> | null = null;
  let ended = false;
  const opened = ready.then(() => (ended ? null : (source = open())));
  return {
    async next() {
      const it = await opened;
      if (it === null || ended) return { done: true, value: undefined };
      return it.next();
    },
    async return() {
      ended = true;
      await source?.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export class ClusterFeeds implements Feeds {
  private readonly feeds: TableFeeds;

  constructor(
    private readonly mirror: StreamMirror,
    options: FeedOptions & { readonly cursorWaitMs: number; readonly freshnessMs: number },
  ) {
    this.feeds = new TableFeeds(mirror, options);
    this.cursorWaitMs = options.cursorWaitMs;
    this.freshnessMs = options.freshnessMs;
    mirror.onReset((reason) => this.feeds.closeAll(requestError(RequestErrorCode.RESYNC_REQUIRED, RESYNC_MESSAGES[reason])));
    mirror.onUnavailable(() => this.feeds.closeAll(this.unavailable()));
  }

  private readonly cursorWaitMs: number;
  private readonly freshnessMs: number;

  get subscriberCount(): number {
    return this.feeds.subscriberCount;
  }

  transitions(filter: FeedFilter): AsyncIterableIterator<Delivery<Transition>> {
    return this.open(filter.after, () => this.feeds.transitions(filter));
  }

  events(filter: FeedFilter): AsyncIterableIterator<Delivery<EngineEvent>> {
    return this.open(filter.after, () => this.feeds.events(filter));
  }

  hostCommands(hostId: string): AsyncIterableIterator<Delivery<HostOrder>> {
    return this.fenced(this.open(null, () => this.feeds.hostCommands(hostId)));
  }

  closeAll(): void {
    this.feeds.closeAll();
  }

  private open<T>(after: string | null | undefined, open: () => AsyncIterableIterator<Delivery<T>>): AsyncIterableIterator<Delivery<T>> {
    if (!this.mirror.available) return failed(this.unavailable());
    const position = after == null ? null : parseCursor(after);
    if (position !== null && position.epoch === this.mirror.epoch && position.seq > this.mirror.latestSeq) {
      return deferred(this.mirror.reach(position.epoch, position.seq, this.cursorWaitMs), open);
    }
    return open();
  }

  /**
   * Orders go out only from a copy of the stream known current (StreamMirror.current): a process
   * that wakes from a pause with orders of a replaced engine in its queues reads the stream
   * before delivering them, finds the new engine run, and delivers RESYNC_REQUIRED instead.
   */
  private fenced(orders: AsyncIterableIterator<Delivery<HostOrder>>): AsyncIterableIterator<Delivery<HostOrder>> {
    const mirror = this.mirror;
    const windowMs = this.freshnessMs;
    let ended = false;
    return {
      async next() {
        if (ended) return { done: true, value: undefined };
        const step = await orders.next();
        if (step.done === true || step.value instanceof GraphQLError || step.value.epoch == null) return step;
        if (await mirror.current(String(step.value.epoch), windowMs)) return step;
        ended = true;
        await orders.return?.();
        return { done: false, value: requestError(RequestErrorCode.RESYNC_REQUIRED, RESYNC_MESSAGES.NEW_EPOCH) };
      },
      async return() {
        ended = true;
        await orders.return?.();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  private unavailable(): GraphQLError {
    return requestError(
      RequestErrorCode.ENGINE_UNAVAILABLE,
      'this process cannot read the change stream (Redis cannot be reached): subscribe again, with the cursor of the last item received, in a moment',
    );
  }
}
