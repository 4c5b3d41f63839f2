/**
 * A batch that repeats its host's last quiet one (every item an UP of a VM already UP there, in no
 * migration) is skipped without reading its VMs, and only while nothing it depends on has changed.
 * Each scenario runs on two tables, one skipping repeats and one applying every batch item by item
 * (`skipQuietRepeats: false`): a reader must see the same table, transition for transition; and the
 * repeat must have its visible effect, which a remembered batch that was not forgotten would miss.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { EventType, HostStatus, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  entry,
  eventsOf,
  HOST_TIMEOUT_MS,
  observe,
  OTHER,
  report,
  setupPair,
  SOURCE,
  startMigration,
  succeed,
  transitionsSince,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
  type ReportLine,
} from '../utils/domain.js';
import type { ManualClock } from '../utils/clock.js';

const QUIET: readonly ReportLine[] = [[VM, UP]];

/** Plays `scenario` on a table that skips quiet repeats and on one that does not; both must end alike. */
function onBothTables(scenario: (table: MigrationTable, clock: ManualClock) => void): MigrationTable {
  const [skipping, applying] = [true, false].map((skipQuietRepeats) => {
    const { table, clock } = createTable({ skipQuietRepeats });
    setupPair(table);
    scenario(table, clock);
    return table;
  }) as [MigrationTable, MigrationTable];
  expect(observe(skipping)).toEqual(observe(applying));
  expect(transitionsSince(skipping, 0)).toEqual(transitionsSince(applying, 0));
  expect(skipping.checkConsistency()).toEqual([]);
  return skipping;
}

/** The host sends its quiet batch twice: the second time it is remembered, the third it could be skipped. */
function quietTwice(table: MigrationTable, hostId: string, lines: readonly ReportLine[] = QUIET): void {
  unwrap(report(table, hostId, lines, { full: true }));
  unwrap(report(table, hostId, lines, { full: true }));
}

describe('a repeated quiet batch', () => {
  it('should change nothing at all, however often it comes', () => {
    const table = onBothTables((t) => {
      quietTwice(t, SOURCE);
      const seq = t.latestSeq;
      for (let i = 0; i < 5; i++) unwrap(report(t, SOURCE, QUIET, { full: true }));
      expect(t.latestSeq).toBe(seq);
    });
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
  });

  it('should place the VM back, loudly, when another host claimed it since', () => {
    const table = onBothTables((t) => {
      quietTwice(t, SOURCE);
      unwrap(report(t, OTHER, [[VM, UP]]));
      unwrap(report(t, SOURCE, QUIET, { full: true }));
    });
    expect(vmOf(table).hostId).toBe(SOURCE);
    expect(eventsOf(table, EventType.VM_RUNNING_ON_BOTH_HOSTS, VM)).toHaveLength(2);
  });

  it('should place the VM back on the source when it repeats the batch after the VM migrated away', () => {
    const table = onBothTables((t) => {
      quietTwice(t, SOURCE);
      startMigration(t, VM, DESTINATION);
      succeed(t);
      unwrap(report(t, SOURCE, QUIET, { full: true }));
    });
    expect(vmOf(table).hostId).toBe(SOURCE);
  });

  it('should report a migration heading to the host DOWN there when the full batch leaves it out', () => {
    const table = onBothTables((t) => {
      unwrap(report(t, DESTINATION, [[VM_2, UP]]));
      quietTwice(t, SOURCE);
      startMigration(t, VM_2, SOURCE);
      unwrap(report(t, DESTINATION, [[VM_2, 'MIGRATING_FROM']]));
      unwrap(report(t, SOURCE, QUIET, { full: true }));
    });
    expect(entry(table, VM_2).destination.report).toBe('DOWN');
  });

  it('should bring back the VMs a host left UNKNOWN when it stopped answering', () => {
    const table = onBothTables((t, clock) => {
      quietTwice(t, SOURCE);
      clock.advance(HOST_TIMEOUT_MS + 1);
      t.tick();
      expect(vmOf(t).status).toBe(VmStatus.UNKNOWN);
      unwrap(report(t, SOURCE, QUIET, { full: true }));
    });
    expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
  });

  it('should take the memory again when it changed in between', () => {
    const table = onBothTables((t) => {
      quietTwice(t, SOURCE, [[VM, UP, { memoryMiB: 1_024 }]]);
      unwrap(report(t, SOURCE, [[VM, UP, { memoryMiB: 2_048 }]], { full: true }));
      unwrap(report(t, SOURCE, [[VM, UP, { memoryMiB: 1_024 }]], { full: true }));
    });
    expect(vmOf(table).memoryMiB).toBe(1_024);
  });

  it('should keep a source heard while its repeated MIGRATING_FROM is skipped, and stall the migration when the destination goes silent', () => {
    const table = onBothTables((t, clock) => {
      startMigration(t, VM, DESTINATION);
      const sending: readonly ReportLine[] = [[VM, 'MIGRATING_FROM', { progress: 40 }]];
      quietTwice(t, SOURCE, sending);
      unwrap(report(t, DESTINATION, [[VM, 'MIGRATING_TO']]));
      quietTwice(t, SOURCE, sending);
      clock.advance(HOST_TIMEOUT_MS / 2);
      unwrap(report(t, SOURCE, sending, { full: true }));
      clock.advance(HOST_TIMEOUT_MS / 2 + 1);
      t.tick(); // the destination has been silent for a host timeout; the source was heard since
      expect([t.host(SOURCE)?.status, t.host(DESTINATION)?.status]).toEqual([HostStatus.UP, HostStatus.NON_RESPONSIVE]);
      unwrap(report(t, SOURCE, sending, { full: true }));
    });
    expect(entry(table)).toMatchObject({ stalled: true, state: MigrationState.IN_PROGRESS });
  });

  it('should confirm a migration started since, when the repeat says MIGRATING_FROM (a batch that differs is never skipped)', () => {
    const table = onBothTables((t) => {
      quietTwice(t, SOURCE);
      startMigration(t, VM, DESTINATION);
      unwrap(report(t, SOURCE, QUIET, { full: true })); // sent before the order reached the source
      unwrap(report(t, SOURCE, [[VM, 'MIGRATING_FROM']], { full: true }));
    });
    expect(entry(table)).toMatchObject({ sourceConfirmed: true, state: MigrationState.IN_PROGRESS });
  });
});
