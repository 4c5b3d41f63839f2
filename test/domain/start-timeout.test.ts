/**
 * The start timeout (docs/contract.md §2 "The source has confirmed", docs/decisions.md "Start timeout"):
 * an attempt the source has not confirmed within migrationStartTimeout ends FAILED, not rerun.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { Cause, EventType, HostCommandKind, HostStatus, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsOf,
  MIGRATING_TO,
  MIGRATION_START_TIMEOUT_MS,
  report,
  setupPair,
  SOURCE,
  startMigration,
  transitionsSince,
  unwrap,
  UP,
  VM,
  vmOf,
  type TestTable,
} from '../utils/domain.js';
import type { ManualClock } from '../utils/clock.js';

const NOT_STARTED = 'the source did not start the migration';
const CONFIRMATION_OVERDUE = 'the source has not confirmed the migration within the start timeout';

describe('the start timeout', () => {
  let t: TestTable;
  let table: MigrationTable;
  let clock: ManualClock;
  let migrationId: string;
  beforeEach(() => {
    t = createTable();
    ({ table, clock } = t);
    setupPair(table);
    migrationId = startMigration(table).id; // engine-chosen, yet never rerun after a timeout
  });

  /** Keeps both hosts alive (their host timeout is longer) and lets the start timeout pass. */
  const letStartTimeoutPass = () => {
    clock.advance(MIGRATION_START_TIMEOUT_MS);
    table.tick();
  };

  it('should end FAILED, "the source did not start the migration", without rerun, and tell the source to drop the order', () => {
    const before = table.latestSeq;
    letStartTimeoutPass();
    const failed = table.migration(migrationId);
    expect(failed).toMatchObject({ state: MigrationState.FAILED, reason: NOT_STARTED, attempt: 1 });
    expect(failed?.attempts.map((a) => [a.state, a.reason])).toEqual([[MigrationState.FAILED, NOT_STARTED]]);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE, migrationId: null });
    expect(transitionsSince(table, before).map((tr) => tr.cause)).toEqual([Cause.START_TIMEOUT]);
    const [event, ...more] = eventsOf(table, EventType.MIGRATION_FAILED, VM);
    expect(more).toHaveLength(0);
    expect(event?.message).toContain(NOT_STARTED);
    expect(eventsOf(table, EventType.MIGRATION_TRYING_RERUN)).toHaveLength(0);
    expect(t.published.at(-1)?.commands.map((c) => [c.kind, c.hostId, c.migrationId])).toEqual([[HostCommandKind.CANCEL, SOURCE, migrationId]]);
  });

  it('should not fire a millisecond early', () => {
    clock.advance(MIGRATION_START_TIMEOUT_MS - 1);
    table.tick();
    expect(entry(table).state).toBe(MigrationState.IN_PROGRESS);
  });

  it('should not fire once the source confirmed', () => {
    confirm(table);
    letStartTimeoutPass();
    expect(entry(table).state).toBe(MigrationState.IN_PROGRESS);
  });

  it('should not count a source UP sent before the order as a confirmation', () => {
    unwrap(report(table, SOURCE, [[VM, UP]]));
    letStartTimeoutPass();
    expect(table.migration(migrationId)?.state).toBe(MigrationState.FAILED);
  });

  it.each([MIGRATING_TO, UP])('should not fire once the destination reported %s in this attempt', (status) => {
    unwrap(report(table, DESTINATION, [[VM, status]]));
    letStartTimeoutPass();
    expect(entry(table).state).toBe(MigrationState.IN_PROGRESS);
  });

  it('should still fire when the destination only reported DOWN', () => {
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    letStartTimeoutPass();
    expect(table.migration(migrationId)?.state).toBe(MigrationState.FAILED);
  });

  it('should not fire while the entry is stalled, and fire once it thaws', () => {
    unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
    letStartTimeoutPass();
    expect(entry(table).stalled).toBe(true);
    expect(entry(table).state).toBe(MigrationState.IN_PROGRESS);

    unwrap(report(table, DESTINATION, []));
    table.tick();
    expect(table.migration(migrationId)?.state).toBe(MigrationState.FAILED);
  });

  it('should wait, stalled, past the timeout while the destination reports the VM arriving', () => {
    report(table, DESTINATION, [[VM, MIGRATING_TO]]);
    letStartTimeoutPass();
    expect(entry(table)).toMatchObject({ state: MigrationState.IN_PROGRESS, stalled: true, stalledReason: CONFIRMATION_OVERDUE });
    expect(eventsOf(table, EventType.MIGRATION_STALLED, VM)).toHaveLength(1);
    expect(eventsOf(table, EventType.VM_RUNNING_ON_BOTH_HOSTS, VM)).toHaveLength(0);
  });

  it('should raise VM_RUNNING_ON_BOTH_HOSTS once when the destination runs the VM and the source never confirmed', () => {
    report(table, SOURCE, [[VM, UP]]); // not applied: sent before the order
    report(table, DESTINATION, [[VM, UP]]);
    letStartTimeoutPass();
    report(table, SOURCE, [[VM, UP]]); // both hosts stay alive
    report(table, DESTINATION, [[VM, UP]]);
    letStartTimeoutPass();
    expect(entry(table)).toMatchObject({ state: MigrationState.IN_PROGRESS, stalled: true, stalledReason: CONFIRMATION_OVERDUE, runningOnBoth: true });
    expect(eventsOf(table, EventType.VM_RUNNING_ON_BOTH_HOSTS, VM)).toHaveLength(1);
    // One side changing decides: the destination drops it, and the timeout ends the attempt.
    report(table, SOURCE, [[VM, UP]]);
    report(table, DESTINATION, [[VM, DOWN]]);
    letStartTimeoutPass();
    expect(table.migration(migrationId)?.state).toBe(MigrationState.FAILED);
  });

  it('should end CANCELLED instead when a cancel was asked', () => {
    unwrap(table.cancelMigration({ vmId: VM }));
    letStartTimeoutPass();
    expect(table.migration(migrationId)?.state).toBe(MigrationState.CANCELLED);
    expect(eventsOf(table, EventType.MIGRATION_CANCELLED, VM)).toHaveLength(1);
  });
});
