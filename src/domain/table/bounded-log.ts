/**
 * An append-only log of items with strictly increasing `seq`, keeping the newest `capacity` items.
 * It remembers how far it has evicted, so a reader resuming after a sequence number learns whether
 * anything it has not seen is gone (it must resync) rather than silently missing it.
 */
export interface Sequenced {
  readonly seq: number;
}

export type ReadAfter<T> = { readonly ok: true; readonly items: readonly T[] } | { readonly ok: false; readonly reason: 'EVICTED' };

export class BoundedLog<T extends Sequenced> {
  private readonly ring: (T | undefined)[];
  private head = 0; // index of the oldest item
  private count = 0;
  /** The seq of the newest evicted item; 0 while nothing was evicted. */
  private evictedThrough = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`log capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  append(item: T): void {
    const newest = this.newest();
    if (newest !== undefined && item.seq <= newest.seq) throw new RangeError(`seq must increase: ${item.seq} after ${newest.seq}`);
    if (this.count === this.capacity) {
      this.evictedThrough = (this.ring[this.head] as T).seq;
      this.ring[this.head] = item;
      this.head = (this.head + 1) % this.capacity;
      return;
    }
    this.ring[(this.head + this.count) % this.capacity] = item;
    this.count++;
  }

  newest(): T | undefined {
    return this.count === 0 ? undefined : this.at(this.count - 1);
  }

  /** Whether every item after `afterSeq` is still kept (a reader there can resume). */
  keepsAfter(afterSeq: number): boolean {
    return afterSeq >= this.evictedThrough;
  }

  /** Up to `limit` kept items with seq > `afterSeq`, oldest first; refused when some such item was evicted. */
  readAfter(afterSeq: number, limit = Number.POSITIVE_INFINITY): ReadAfter<T> {
    if (!this.keepsAfter(afterSeq)) return { ok: false, reason: 'EVICTED' };
    const items: T[] = [];
    for (let i = this.firstIndexAfter(afterSeq); i < this.count && items.length < limit; i++) items.push(this.at(i));
    return { ok: true, items };
  }

  /** Up to `limit` items with seq > `afterSeq` that match, oldest first, and whether more match. */
  scan(afterSeq: number, limit: number, matches: (item: T) => boolean): { items: T[]; hasMore: boolean } {
    const items: T[] = [];
    for (let i = this.firstIndexAfter(afterSeq); i < this.count; i++) {
      const item = this.at(i);
      if (!matches(item)) continue;
      if (items.length === limit) return { items, hasMore: true };
      items.push(item);
    }
    return { items, hasMore: false };
  }

  private at(i: number): T {
    return this.ring[(this.head + i) % this.capacity] as T;
  }

  /** Binary search: seqs increase along the ring. */
  private firstIndexAfter(afterSeq: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
