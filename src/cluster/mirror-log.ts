/**
 * A replica's copy of the engine's transition or event log, kept from the change stream: the
 * domain's bounded log, plus where this copy begins. A replica that joined after its epoch's first
 * entries were trimmed from the stream never saw the items before its first entry: a reader
 * resuming from there must resync, exactly as from items the history limit evicted.
 */
import { BoundedLog, type ReadAfter, type Sequenced } from '../domain/table/bounded-log.js';

export class MirrorLog<T extends Sequenced> {
  private log: BoundedLog<T>;
  /** Every item after this sequence number was received (unless evicted since). */
  private since = 0;

  constructor(private readonly capacity: number) {
    this.log = new BoundedLog<T>(capacity);
  }

  /** Empties the copy; it will hold the items after `since`. */
  reset(since: number): void {
    this.log = new BoundedLog<T>(this.capacity);
    this.since = since;
  }

  append(item: T): void {
    this.log.append(item);
  }

  keepsAfter(afterSeq: number): boolean {
    return afterSeq >= this.since && this.log.keepsAfter(afterSeq);
  }

  readAfter(afterSeq: number, limit?: number): ReadAfter<T> {
    if (afterSeq < this.since) return { ok: false, reason: 'EVICTED' };
    return this.log.readAfter(afterSeq, limit);
  }
}
