/**
 * A side repeating its report (a source's MIGRATING_FROM every 2 s at the same progress) leaves its
 * entry untouched: no transition, no event, the same snapshot. A stalled entry stays as it is
 * until the silent side speaks, and row 1 still needs the destination's DOWN heard after the
 * source's (a repeated DOWN is heard afresh).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { HostStatus, MigrationState } from '../../src/domain/vocabulary.js';
import { confirm, createTable, DESTINATION, DOWN, entry, MIGRATING_FROM, MIGRATING_TO, report, setupPair, SOURCE, startMigration, transitionsSince, unwrap, VM } from '../utils/domain.js';

const PROGRESS = 30;

describe('a repeated report', () => {
  let table: MigrationTable;
  beforeEach(() => {
    table = createTable().table;
    setupPair(table);
    startMigration(table, VM, DESTINATION);
    confirm(table, SOURCE, VM, PROGRESS);
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
  });

  it('should leave the entry as it is when the source repeats MIGRATING_FROM at the same progress, or without one', () => {
    const before = entry(table);
    const seq = table.latestSeq;
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { progress: PROGRESS }]]));
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM]]));
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { progress: PROGRESS - 10 }]])); // progress only grows
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expect(table.latestSeq).toBe(seq);
    expect(entry(table)).toBe(before);
    expect(table.checkConsistency()).toEqual([]);
  });

  it('should record the progress when it grows', () => {
    const seq = table.latestSeq;
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { progress: PROGRESS + 10 }]]));
    expect(entry(table).progress).toBe(PROGRESS + 10);
    expect(transitionsSince(table, seq)).toHaveLength(1);
  });

  it('should keep a stalled entry stalled on a repeat while a side does not respond, and clear it when that side reports', () => {
    unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
    const stalled = entry(table);
    expect(stalled.stalled).toBe(true);
    const seq = table.latestSeq;
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { progress: PROGRESS }]]));
    expect(table.latestSeq).toBe(seq);
    expect(entry(table).stalledReason).toBe(stalled.stalledReason);
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expect(entry(table).stalled).toBe(false);
    expect(table.checkConsistency()).toEqual([]);
  });

  it('should decide row 1 when the destination repeats a DOWN that was heard before the source DOWN', () => {
    const { id } = entry(table);
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    unwrap(report(table, SOURCE, [[VM, DOWN]]));
    expect(table.migration(id)?.state).toBe(MigrationState.IN_PROGRESS);
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    expect(table.migration(id)?.state).toBe(MigrationState.VM_DOWN);
    expect(table.checkConsistency()).toEqual([]);
  });
});
