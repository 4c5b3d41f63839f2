/**
 * `stats()`: the counts a monitoring scrape reads (table size, VMs, migrations by state, stalled
 * entries, hosts by status) and the running totals of VM reports by what became of them.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationTable, ReportTotals } from '../../src/domain/table/table.js';
import { ErrorCode, HostStatus, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import { createTable, DESTINATION, expectRefused, MIGRATING_TO, OTHER, report, setupFleet, SOURCE, startMigration, succeed, unwrap, UP, VM, VM_2 } from '../utils/domain.js';

const counts = (map: ReadonlyMap<string, number>) => Object.fromEntries(map);

/** How much each report total grew while `action` ran. */
function reportGrowth(table: MigrationTable, action: () => void): ReportTotals {
  const before = table.stats().reports;
  action();
  const after = table.stats().reports;
  return {
    applied: after.applied - before.applied,
    ignored: after.ignored - before.ignored,
    outOfOrderBatch: after.outOfOrderBatch - before.outOfOrderBatch,
    invalidBatch: after.invalidBatch - before.invalidBatch,
  };
}

const NOTHING: ReportTotals = { applied: 0, ignored: 0, outOfOrderBatch: 0, invalidBatch: 0 };

describe('table stats', () => {
  it('should count VMs by status, entries, stalled entries, migrations by state and hosts by status', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2], [DESTINATION]: [], [OTHER]: [] } });
    startMigration(table, VM, DESTINATION);
    let stats = table.stats();
    expect(stats.vms).toBe(2);
    expect(counts(stats.vmsByStatus)).toEqual({ [VmStatus.MIGRATING_FROM]: 1, [VmStatus.UP]: 1 });
    expect(stats.entries).toBe(1);
    expect(stats.stalledEntries).toBe(0);
    expect(counts(stats.migrationsByState)).toEqual({ [MigrationState.IN_PROGRESS]: 1 });
    expect(counts(stats.hostsByStatus)).toEqual({ [HostStatus.UP]: 3 });

    unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
    stats = table.stats();
    expect(stats.stalledEntries).toBe(1);
    expect(counts(stats.hostsByStatus)).toEqual({ [HostStatus.UP]: 2, [HostStatus.NON_RESPONSIVE]: 1 });

    unwrap(report(table, DESTINATION, [])); // it answers again
    succeed(table, VM);
    stats = table.stats();
    expect(stats.entries).toBe(0);
    expect(stats.stalledEntries).toBe(0);
    expect(counts(stats.migrationsByState)).toEqual({ [MigrationState.SUCCEEDED]: 1 });
    expect(counts(stats.vmsByStatus)).toEqual({ [VmStatus.UP]: 2 });
    expect(counts(stats.hostsByStatus)).toEqual({ [HostStatus.UP]: 3 });
  });

  it('should count the reports of an accepted batch as applied', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [], [DESTINATION]: [] } });
    expect(reportGrowth(table, () => unwrap(report(table, SOURCE, [[VM, UP], [VM_2, UP]])))).toEqual({ ...NOTHING, applied: 2 });
  });

  it('should count a report a host sends about a migration it has no part in as ignored, not applied', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [] } });
    startMigration(table, VM, DESTINATION);
    expect(reportGrowth(table, () => unwrap(report(table, OTHER, [[VM, MIGRATING_TO], [VM_2, UP]])))).toEqual({ ...NOTHING, applied: 1, ignored: 1 });
  });

  it('should count every report of a stale batch, and of an invalid one', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]], { sequence: 5, bootId: 'boot-1' }));
    expect(reportGrowth(table, () => expectRefused(report(table, SOURCE, [[VM, UP], [VM_2, UP]], { sequence: 5, bootId: 'boot-1' }), ErrorCode.STALE_REPORT))).toEqual({
      ...NOTHING,
      outOfOrderBatch: 2,
    });
    expect(reportGrowth(table, () => expectRefused(report(table, SOURCE, [['', UP]]), ErrorCode.INVALID_INPUT))).toEqual({ ...NOTHING, invalidBatch: 1 });
  });
});
