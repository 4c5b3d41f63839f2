/**
 * The ordered index behind `vms` and `migrations` pages: whatever the adds and deletes, it holds
 * what a plain set would, in ascending order, and a page read after any ordinal starts right
 * after it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OrdinalSet } from '../../src/domain/table/ordinal-set.js';

const RUNS = 200;
/** Past one chunk (512), so splits and merges happen. */
const MAX_ORDINAL = 3_000;

const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), ordinal: fc.integer({ min: 1, max: MAX_ORDINAL }) }),
  fc.record({ kind: fc.constant('delete' as const), ordinal: fc.integer({ min: 1, max: MAX_ORDINAL }) }),
  // Runs of new largest ordinals, as VMs and migrations arrive.
  fc.record({ kind: fc.constant('append' as const), ordinal: fc.integer({ min: 1, max: 1_200 }) }),
);

describe('OrdinalSet', () => {
  it('should hold what a plain set holds, ascending, after any adds and deletes', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.integer({ min: 0, max: MAX_ORDINAL + 10 }), (ops, pageAfter) => {
        const set = new OrdinalSet();
        const model = new Set<number>();
        let top = MAX_ORDINAL;
        for (const { kind, ordinal } of ops) {
          if (kind === 'add') {
            set.add(ordinal);
            model.add(ordinal);
          } else if (kind === 'delete') {
            expect(set.delete(ordinal)).toBe(model.delete(ordinal));
          } else {
            for (let i = 0; i < ordinal; i++) {
              set.add(++top);
              model.add(top);
            }
          }
        }
        const sorted = [...model].sort((a, b) => a - b);
        expect(set.size).toBe(model.size);
        expect([...set.values()]).toEqual(sorted);
        expect([...set.after(pageAfter)]).toEqual(sorted.filter((o) => o > pageAfter));
        for (const probe of [pageAfter, pageAfter + 1, sorted[0] ?? 0]) expect(set.has(probe)).toBe(model.has(probe));
      }),
      { numRuns: RUNS },
    );
  });

  it('should ignore adding an ordinal twice and deleting one it does not hold', () => {
    const set = new OrdinalSet();
    set.add(5);
    set.add(5);
    expect(set.size).toBe(1);
    expect(set.delete(7)).toBe(false);
    expect(set.delete(5)).toBe(true);
    expect([...set.values()]).toEqual([]);
    expect(set.delete(5)).toBe(false);
  });

  it('should start a page deep in a million ordinals right after the one given', () => {
    const set = new OrdinalSet();
    for (let o = 1; o <= 1_000_000; o++) set.add(o);
    const page = set.after(999_000);
    expect(page.next().value).toBe(999_001);
  });
});
