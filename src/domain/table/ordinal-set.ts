/**
 * A set of ordinals (the order in which Transit first heard of a VM, or a migration began) kept
 * in ascending order, so that an index answers "the first n after k" without a scan: finding
 * where a page starts costs O(log size), each item of the page O(1) — whatever the size of the
 * set (a million VMs UP) and however deep the page.
 *
 * Stored as sorted chunks of at most `CHUNK` numbers: an insert or delete moves at most one
 * chunk's elements, and an ordinal larger than all (a new VM, a new migration: the common case)
 * is appended in O(1).
 */
const CHUNK = 512;

/** Index of the first element of `sorted` that is >= `value` (its length when none). */
export function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class OrdinalSet {
  private readonly chunks: number[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(ordinal: number): boolean {
    const chunk = this.chunks[this.chunkFor(ordinal)];
    return chunk !== undefined && chunk[lowerBound(chunk, ordinal)] === ordinal;
  }

  add(ordinal: number): void {
    const last = this.chunks[this.chunks.length - 1];
    if (last === undefined || (last[last.length - 1] as number) < ordinal) {
      if (last === undefined || last.length >= CHUNK) this.chunks.push([ordinal]);
      else last.push(ordinal);
      this.count++;
      return;
    }
    const c = this.chunkFor(ordinal);
    const chunk = this.chunks[c] as number[];
    const at = lowerBound(chunk, ordinal);
    if (chunk[at] === ordinal) return;
    chunk.splice(at, 0, ordinal);
    this.count++;
    if (chunk.length > CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(CHUNK >>> 1));
  }

  /** Removes the ordinal; false when it was not in the set. */
  delete(ordinal: number): boolean {
    const c = this.chunkFor(ordinal);
    const chunk = this.chunks[c];
    if (chunk === undefined) return false;
    const at = lowerBound(chunk, ordinal);
    if (chunk[at] !== ordinal) return false;
    chunk.splice(at, 1);
    this.count--;
    const next = this.chunks[c + 1];
    if (chunk.length === 0) this.chunks.splice(c, 1);
    // Keep chunks from thinning out: merge with the next one while both fit in half a chunk.
    else if (next !== undefined && chunk.length + next.length <= CHUNK >>> 1) {
      chunk.push(...next);
      this.chunks.splice(c + 1, 1);
    }
    return true;
  }

  /** The ordinals above `after`, ascending. */
  *after(after: number): IterableIterator<number> {
    let c = this.chunkFor(after + 1);
    let at = c < this.chunks.length ? lowerBound(this.chunks[c] as number[], after + 1) : 0;
    for (; c < this.chunks.length; c++, at = 0) {
      const chunk = this.chunks[c] as number[];
      for (; at < chunk.length; at++) yield chunk[at] as number;
    }
  }

  /** Every ordinal, ascending. */
  values(): IterableIterator<number> {
    return this.after(Number.NEGATIVE_INFINITY);
  }

  /** The chunk that holds `ordinal` if any does: the last whose first element is <= it (0 when none is). */
  private chunkFor(ordinal: number): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (((this.chunks[mid] as number[])[0] as number) <= ordinal) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }
}
