/**
 * A batch's fingerprint: two 32-bit hashes (FNV-1a, and a multiply-xorshift lane) over every field
 * of every item, with the item count and the `full` flag. Two batches with the same fingerprint are
 * taken as the same batch (a chance of about 2^-64 that two different ones collide).
 *
 * Why: most reports repeat the host's previous one, every 2 s, for as long as nothing moves. Reading
 * each VM's record to find that nothing changed costs a cache miss per VM in a large table (most
 * of a 200-VM report's cost); the fingerprint reads only the freshly parsed batch. A collision
 * could only make a host's own batch be skipped as a repeat, never apply anything it did not say.
 * Written by hand: a hash over the parsed batch, with no string built, has no library.
 */
import type { ReportVmStatusesInput } from '../model.js';
import { ReportedVmStatus } from '../vocabulary.js';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
const SECOND_SEED = 0x9747b28c | 0;
const SECOND_MULTIPLIER = 0x5bd1e995;
/** Ends every field; absent (undefined) and null fields leave marks of their own. */
const FIELD_END = 0x1f;
const UNDEFINED_MARK = 0x02;
const NULL_MARK = 0x01;

/** A known status is one mark (above the field end and the absent marks); any other string is hashed as text. */
const STATUS_MARKS: ReadonlyMap<string, number> = new Map([
  [ReportedVmStatus.UP, 0x20001],
  [ReportedVmStatus.DOWN, 0x20002],
  [ReportedVmStatus.MIGRATING_FROM, 0x20003],
  [ReportedVmStatus.MIGRATING_TO, 0x20004],
]);

/** The two lanes, carried between the helpers below (the hash is synchronous: never shared). */
const lanes = new Int32Array(2);

function mixCode(code: number): void {
  lanes[0] = Math.imul((lanes[0] as number) ^ code, FNV_PRIME);
  const b = Math.imul((lanes[1] as number) ^ code, SECOND_MULTIPLIER);
  lanes[1] = b ^ (b >>> 13);
}

function mixText(text: string): void {
  let a = lanes[0] as number;
  let b = lanes[1] as number;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, FNV_PRIME);
    b = Math.imul(b ^ code, SECOND_MULTIPLIER);
    b ^= b >>> 13;
  }
  lanes[0] = a;
  lanes[1] = b;
  mixCode(FIELD_END);
}

function mixOptional(value: unknown): void {
  if (value === undefined) mixCode(UNDEFINED_MARK);
  else if (value === null) mixCode(NULL_MARK);
  else mixText(String(value));
}

/** The batch's fingerprint, or null when an item is not even an object with a string id and status (the input checks refuse it). */
export function batchFingerprint(input: ReportVmStatusesInput): string | null {
  if (!Array.isArray(input.vms)) return null;
  lanes[0] = FNV_OFFSET;
  lanes[1] = SECOND_SEED;
  for (const item of input.vms) {
    if (typeof item !== 'object' || item === null || typeof item.vmId !== 'string' || typeof item.status !== 'string') return null;
    mixText(item.vmId);
    const mark = STATUS_MARKS.get(item.status); // a Map: a status such as `__proto__` finds nothing
    if (mark === undefined) mixText(item.status);
    else mixCode(mark);
    mixOptional(item.progress);
    mixOptional(item.exitReason);
    mixOptional(item.peerHostId);
    mixOptional(item.memoryMiB);
  }
  return `${input.full === true ? 'full' : 'partial'}:${input.vms.length}:${((lanes[0] as number) >>> 0).toString(36)}:${((lanes[1] as number) >>> 0).toString(36)}`;
}
