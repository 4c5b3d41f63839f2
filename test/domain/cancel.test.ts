/** Cancel (docs/contract.md §3 "cancel", docs/decisions.md "Cancel"). */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { Cause, ErrorCode, EventType, HostCommandKind, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  entry,
  eventsOf,
  expectRefused,
  failAttempt,
  observe,
  report,
  setupPair,
  SOURCE,
  startMigration,
  succeed,
  T0_MS,
  transitionsSince,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
  type TestTable,
} from '../utils/domain.js';

describe('cancelling a migration', () => {
  let t: TestTable;
  let table: MigrationTable;
  let migrationId: string;
  beforeEach(() => {
    t = createTable();
    table = t.table;
    setupPair(table);
    migrationId = startMigration(table).id; // engine-chosen: a FAILED would be rerun
    expect(entry(table).destination.hostId).toBe(DESTINATION);
  });

  it('should mark the entry, tell the source to abort, and record a CANCEL transition', () => {
    const before = table.latestSeq;
    const cancelled = unwrap(table.cancelMigration({ vmId: VM }));
    expect(cancelled).toMatchObject({ id: migrationId, cancelRequested: true, state: MigrationState.IN_PROGRESS });
    expect(t.published.at(-1)?.commands).toEqual([
      { kind: HostCommandKind.CANCEL, hostId: SOURCE, migrationId, vmId: VM, destinationHostId: DESTINATION, attempt: 1, issuedAt: T0_MS },
    ]);
    const [transition, ...more] = transitionsSince(table, before);
    expect(more).toHaveLength(0);
    expect(transition).toMatchObject({ cause: Cause.CANCEL, vmId: VM, migration: { cancelRequested: true } });
  });

  it('should end CANCELLED, without rerun, when row 3 arrives after the cancel', () => {
    unwrap(table.cancelMigration({ migrationId }));
    failAttempt(table);
    expect(table.migration(migrationId)).toMatchObject({ state: MigrationState.CANCELLED, attempt: 1 });
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE, migrationId: null });
    expect(eventsOf(table, EventType.MIGRATION_CANCELLED).map((e) => e.migrationId)).toEqual([migrationId]);
    expect(eventsOf(table, EventType.MIGRATION_TRYING_RERUN)).toHaveLength(0);
    expect(eventsOf(table, EventType.MIGRATION_FAILED)).toHaveLength(0);
  });

  it('should end SUCCEEDED when row 2 arrives anyway after the cancel', () => {
    unwrap(table.cancelMigration({ vmId: VM }));
    succeed(table);
    expect(table.migration(migrationId)?.state).toBe(MigrationState.SUCCEEDED);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: DESTINATION });
  });

  it('should be idempotent: a second cancel is accepted and sends no second order', () => {
    unwrap(table.cancelMigration({ vmId: VM }));
    const before = observe(table);
    const published = t.published.length;
    const again = unwrap(table.cancelMigration({ vmId: VM }));
    expect(again.cancelRequested).toBe(true);
    expect(observe(table)).toEqual(before);
    expect(t.published).toHaveLength(published);
  });

  it('should refuse a VM that is not in the table with NOT_MIGRATING, changing nothing', () => {
    unwrap(report(table, SOURCE, [[VM_2, UP]]));
    const before = observe(table);
    expectRefused(table.cancelMigration({ vmId: VM_2 }), ErrorCode.NOT_MIGRATING, 'vmId');
    expectRefused(table.cancelMigration({ vmId: 'vm-nobody' }), ErrorCode.NOT_MIGRATING, 'vmId');
    expectRefused(table.cancelMigration({ migrationId: 'no-such-migration' }), ErrorCode.NOT_MIGRATING, 'migrationId');
    expect(observe(table)).toEqual(before);
  });

  it('should refuse a migration already decided with NOT_MIGRATING', () => {
    succeed(table);
    expectRefused(table.cancelMigration({ migrationId }), ErrorCode.NOT_MIGRATING, 'migrationId');
  });

  it('should refuse both or neither of vmId and migrationId as INVALID_INPUT', () => {
    expectRefused(table.cancelMigration({ vmId: VM, migrationId }), ErrorCode.INVALID_INPUT, null);
    expectRefused(table.cancelMigration({}), ErrorCode.INVALID_INPUT, null);
    expect(entry(table).cancelRequested).toBe(false);
  });
});
