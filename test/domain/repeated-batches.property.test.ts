/**
 * Skipping a repeated quiet batch is invisible (`QuietBatches`): over random histories where hosts
 * often send their previous batch again, a table that skips repeats and one that applies every
 * batch item by item (`skipQuietRepeats: false`) answer every command alike and show a reader the
 * same table, transition for transition and event for event, after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReportVmStatusesInput } from '../../src/domain/model.js';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { FenceMethod, HOST_STATUSES, ReportedVmStatus } from '../../src/domain/vocabulary.js';
import { createTable, eventsSince, observe, transitionsSince } from '../utils/domain.js';
import { host, MAX_ADVANCE_MS, normalise, reportStep, vm, type ReportStep } from '../utils/random-histories.js';
import type { ManualClock } from '../utils/clock.js';

const RUNS = 300;
const MAX_STEPS = 60;

type Step =
  | ReportStep
  | { readonly kind: 'upBatch'; readonly hostId: string; readonly vmIds: readonly string[]; readonly full: boolean }
  | { readonly kind: 'repeat'; readonly hostId: string }
  | { readonly kind: 'side'; readonly vmId: string; readonly role: 'source' | 'destination'; readonly progress: number | null }
  | { readonly kind: 'migrate'; readonly vmId: string; readonly destination: string | null }
  | { readonly kind: 'hostStatus'; readonly hostId: string; readonly status: (typeof HOST_STATUSES)[number] }
  | { readonly kind: 'fence'; readonly hostId: string; readonly succeeded: boolean }
  | { readonly kind: 'advance'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: reportStep },
  // Batches that can be quiet: only UPs.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('upBatch' as const), hostId: host, vmIds: fc.uniqueArray(vm, { maxLength: 3 }), full: fc.boolean() }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('repeat' as const), hostId: host }) },
  // A side of a migration saying it is migrating (then often repeating it).
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('side' as const),
      vmId: vm,
      role: fc.constantFrom('source' as const, 'destination' as const),
      progress: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('migrate' as const), vmId: vm, destination: fc.option(host, { nil: null }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('hostStatus' as const), hostId: host, status: fc.constantFrom(...HOST_STATUSES) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fence' as const), hostId: host, succeeded: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: MAX_ADVANCE_MS }) }) },
);

/** One table, and the last batch each host sent it (what a `repeat` step sends again). */
class Player {
  private readonly lastBatch = new Map<string, ReportVmStatusesInput>();
  constructor(
    readonly table: MigrationTable,
    private readonly clock: ManualClock,
  ) {}

  play(s: Step): unknown {
    const { table } = this;
    switch (s.kind) {
      case 'report':
        return this.send({ hostId: s.hostId, vms: s.items.map((i) => normalise(s.hostId, i)), full: s.full, sequence: null, bootId: s.bootId ?? null });
      case 'upBatch':
        return this.send({ hostId: s.hostId, vms: s.vmIds.map((vmId) => ({ vmId, status: ReportedVmStatus.UP })), full: s.full });
      case 'side': {
        const hostId = table.entryOf(s.vmId)?.[s.role].hostId;
        if (hostId == null) return null;
        const status = s.role === 'source' ? ReportedVmStatus.MIGRATING_FROM : ReportedVmStatus.MIGRATING_TO;
        return this.send({ hostId, vms: [{ vmId: s.vmId, status, progress: s.role === 'source' ? s.progress : null }], full: false });
      }
      case 'repeat': {
        const last = this.lastBatch.get(s.hostId);
        return last === undefined ? null : this.send(last);
      }
      case 'migrate':
        return table.migrateVm({ vmId: s.vmId, destinationHostId: s.destination });
      case 'hostStatus':
        return table.reportHostStatus({ hostId: s.hostId, status: s.status });
      case 'fence':
        return table.reportFenceResult({ hostId: s.hostId, succeeded: s.succeeded, method: FenceMethod.AUTOMATIC });
      case 'advance':
        this.clock.advance(s.ms);
        table.tick();
        return null;
    }
  }

  private send(input: ReportVmStatusesInput): unknown {
    this.lastBatch.set(input.hostId, input);
    return this.table.reportVmStatuses(input);
  }
}

describe('skipping repeated quiet batches', () => {
  it('should leave every answer and everything a reader sees as applying each batch in full would', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: MAX_STEPS }), (steps) => {
        const [skipping, applying] = [true, false].map((skipQuietRepeats) => {
          const { table, clock } = createTable({ skipQuietRepeats });
          return new Player(table, clock);
        }) as [Player, Player];
        steps.forEach((s, i) => {
          const where = `step ${i}: ${JSON.stringify(s)}`;
          expect(skipping.play(s), where).toEqual(applying.play(s));
          expect(observe(skipping.table), where).toEqual(observe(applying.table));
        });
        expect(transitionsSince(skipping.table, 0)).toEqual(transitionsSince(applying.table, 0));
        expect(eventsSince(skipping.table, 0)).toEqual(eventsSince(applying.table, 0));
        expect(skipping.table.checkConsistency()).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});
