/**
 * A batch's fingerprint: two 32-bit hashes (FNV-1a, and a multiply-xorshift lane) over every field
 * of every item, with the item count and the `full` flag. Two batches with the same fingerprint are
 * taken as the same batch (a chance of about 2^-64 that two different ones collide).
 *
 * Why: most reports repeat the host's previous one, every 2 s, for as long as nothing moves. Reading
 * each VM's record to find that nothing changed costs a cache miss per VM in a large table (most
 * of a 200-VM report's cost); the fingerprint reads only the freshly parsed batch. A collision
 * could only make a host's own batch be skipped as a repeat, never apply anything it did not say.
 */
import type { ReportVmStatusesInput } from '../model.js';

const FIELD_END = 0x1f;

export function batchFingerprint(input: ReportVmStatusesInput): string {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  const mix = (code: number) => {
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    b ^= b >>> 13;
  };
  const text = (value: string) => {
    for (let i = 0; i < value.length; i++) mix(value.charCodeAt(i));
    mix(FIELD_END);
  };
  // An absent field and an empty one differ: null, undefined and '' each leave their own mark.
  const optional = (value: string | number | null | undefined) => {
    if (value == null) mix(value === null ? 1 : 2);
    else text(String(value));
  };
  for (const item of input.vms) {
    text(item.vmId);
    text(item.status);
    optional(item.progress);
    optional(item.exitReason);
    optional(item.peerHostId);
    optional(item.memoryMiB);
  }
  return `${input.full === true ? 'full' : 'partial'}:${input.vms.length}:${(a >>> 0).toString(36)}:${(b >>> 0).toString(36)}`;
}
