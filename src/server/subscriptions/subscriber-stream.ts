/**
 * One subscriber's stream: first a backlog read page by page (history after its cursor, or the
 * orders pending for a host agent), then the live items the table hands out, in order.
 *
 * Memory is bounded whatever the client does. The backlog is never copied whole: it is read from
 * the table's kept history one page at a time, as the transport asks for the next item. Live
 * items wait in a queue counted in items; when `capacity` items are already waiting (the client
 * reads slower than the table changes, or not at all, so the transport stopped pulling), the
 * queue is dropped, the table listener removed, and the stream ends with SUBSCRIBER_TOO_SLOW.
 * Nothing is lost: the table keeps its history, and the client resumes from its last cursor.
 *
 * Two ways to read it, the same deliveries in the same order: pulled as an async iterator (`next`),
 * or polled by a transport that writes the deliveries itself (`poll`, woken by `onReady`): the
 * broadcast path (delivery.ts), which writes a result serialized once to every subscriber's socket.
 */
import { GraphQLError } from 'graphql';
import type { Delivery } from '../../schema/errors.js';

/**
 * Reads the next page of the backlog, at most `limit` items: an empty page when it is drained, or
 * the error that ends the stream (the history after the cursor is gone).
 */
export type Backlog<T> = (limit: number) => readonly T[] | GraphQLError;

export interface SubscriberStreamOptions<T> {
  /** Live items that may wait undelivered; one more ends the stream with `tooSlow()`. */
  readonly capacity: number;
  /** Items of the backlog read at a time. */
  readonly pageItems: number;
  readonly backlog: Backlog<T> | null;
  readonly tooSlow: () => GraphQLError;
  /** Called once when the stream stops accepting items: remove the table listener here. */
  readonly onClose: () => void;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

export class SubscriberStream<T> implements AsyncIterableIterator<Delivery<T>> {
  private backlog: Backlog<T> | null;
  private page: readonly T[] = [];
  private pageAt = 0;
  private live: (T | undefined)[] = [];
  private liveHead = 0;
  /** The error still to deliver as the last item. */
  private ending: GraphQLError | null = null;
  /** No item is accepted any more; what is due is delivered, then the stream is done. */
  private closed = false;
  private done = false;
  private wake: (() => void) | null = null;
  /** Push mode: told whenever something may have become due (an item, the end). */
  private ready: (() => void) | null = null;

  constructor(private readonly options: SubscriberStreamOptions<T>) {
    this.backlog = options.backlog;
  }

  /** Live items waiting to be delivered. */
  get waiting(): number {
    return this.live.length - this.liveHead;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a live item. Called from inside the table's commands: it never throws. */
  push(item: T): void {
    if (this.closed) return;
    if (this.waiting >= this.options.capacity) {
      this.end(this.options.tooSlow());
      return;
    }
    this.live.push(item);
    this.signal();
  }

  /**
   * Stops accepting items and drops those waiting; the stream then delivers `error` (if any) as
   * its last item and completes. Idempotent.
   */
  end(error: GraphQLError | null = null): void {
    if (this.closed) return;
    this.closed = true;
    this.ending = error;
    this.backlog = null;
    this.page = [];
    this.live = [];
    this.liveHead = 0;
    this.options.onClose();
    this.signal();
  }

  /**
   * Push mode: `listener` is called (synchronously, from inside the table's command: it must only
   * schedule work) whenever a delivery may have become due; read them with `poll`.
   */
  onReady(listener: () => void): void {
    this.ready = listener;
  }

  /**
   * The next delivery due, without waiting: an item (backlog first, then live), the error that
   * ends the stream, `DONE` once it is over, or null when nothing is due yet.
   */
  poll(): IteratorResult<Delivery<T>, undefined> | null {
    if (this.done) return DONE;
    const item = this.take();
    if (item !== undefined) return { done: false, value: item };
    if (this.ending !== null) {
      const error = this.ending;
      this.ending = null;
      this.done = true;
      return { done: false, value: error };
    }
    if (this.closed) {
      this.done = true;
      return DONE;
    }
    return null;
  }

  async next(): Promise<IteratorResult<Delivery<T>, undefined>> {
    for (;;) {
      const due = this.poll();
      if (due !== null) return due;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The consumer went away (unsubscribed, disconnected): release everything. */
  async return(): Promise<IteratorResult<Delivery<T>, undefined>> {
    this.end();
    this.done = true;
    return DONE;
  }

  async throw(): Promise<IteratorResult<Delivery<T>, undefined>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The next item due: backlog pages first (older), then live items. */
  private take(): T | undefined {
    for (;;) {
      if (this.pageAt < this.page.length) return this.page[this.pageAt++];
      if (this.backlog === null) break;
      const page = this.backlog(this.options.pageItems);
      if (page instanceof GraphQLError) {
        this.end(page);
        return undefined;
      }
      if (page.length === 0) this.backlog = null;
      this.page = page;
      this.pageAt = 0;
    }
    if (this.waiting === 0) return undefined;
    const item = this.live[this.liveHead] as T;
    this.live[this.liveHead++] = undefined;
    if (this.liveHead > 1_024 && this.liveHead * 2 > this.live.length) {
      this.live = this.live.slice(this.liveHead);
      this.liveHead = 0;
    }
    return item;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
    this.ready?.();
  }
}
