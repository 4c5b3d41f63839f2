/**
 * The races the main idea exists for (docs/contract.md §2): reports that arrive in an unlucky order, or
 * not at all, must never make the table declare an outcome too early.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { ExitReason, FenceMethod, HostStatus, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  HOST_TIMEOUT_MS,
  MIGRATING_TO,
  report,
  setupPair,
  SOURCE,
  startMigration,
  unwrap,
  UP,
  VM,
  vmOf,
} from '../utils/domain.js';
import type { ManualClock } from '../utils/clock.js';

describe('races', () => {
  let table: MigrationTable;
  let clock: ManualClock;
  let migrationId: string;
  beforeEach(() => {
    ({ table, clock } = createTable());
    setupPair(table);
    migrationId = startMigration(table, VM, DESTINATION).id;
  });

  const stateOf = () => table.migration(migrationId)?.state;

  describe('a destination DOWN heard before the source’s DOWN(MIGRATION_SUCCEEDED)', () => {
    beforeEach(() => {
      confirm(table);
      unwrap(report(table, DESTINATION, [[VM, DOWN]])); // the VM has not arrived yet
      unwrap(report(table, SOURCE, [[VM, DOWN, { exitReason: ExitReason.MIGRATION_SUCCEEDED }]])); // it left for the destination
    });

    it('should not end the migration as VM_DOWN when the destination’s DOWN was heard before the source’s DOWN', () => {
      expect(stateOf()).toBe(MigrationState.IN_PROGRESS);
      expect(entry(table)).toMatchObject({ source: { report: DOWN }, destination: { report: DOWN } });
      expect(vmOf(table)).toMatchObject({ status: VmStatus.MIGRATING_FROM, hostId: SOURCE });
    });

    it('should then succeed when the destination reports the VM UP', () => {
      unwrap(report(table, DESTINATION, [[VM, UP]]));
      expect(stateOf()).toBe(MigrationState.SUCCEEDED);
      expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: DESTINATION });
    });

    it('should end VM_DOWN on a fresh destination DOWN heard after the source’s DOWN', () => {
      unwrap(report(table, DESTINATION, [[VM, DOWN]]));
      expect(stateOf()).toBe(MigrationState.VM_DOWN);
      expect(vmOf(table)).toMatchObject({ status: VmStatus.DOWN, hostId: null });
    });
  });

  describe('a source UP before it confirmed', () => {
    it('should not fail the migration on a source UP sent before the order reached the source', () => {
      unwrap(report(table, SOURCE, [[VM, UP]])); // sent before the order arrived
      unwrap(report(table, DESTINATION, [[VM, DOWN]]));
      expect(stateOf()).toBe(MigrationState.IN_PROGRESS);
      expect(entry(table)).toMatchObject({ source: { report: null }, sourceConfirmed: false });

      confirm(table);
      unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
      unwrap(report(table, SOURCE, [[VM, DOWN]]));
      unwrap(report(table, DESTINATION, [[VM, UP]]));
      expect(stateOf()).toBe(MigrationState.SUCCEEDED);
    });
  });

  describe('an unresponsive side', () => {
    /** Row 3 is on the table, but the destination stops responding before the source's UP. */
    const freezeRowThree = () => {
      confirm(table);
      unwrap(report(table, DESTINATION, [[VM, DOWN]]));
      unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
      unwrap(report(table, SOURCE, [[VM, UP]]));
    };

    it('should block every decision while a side is unresponsive, however long it lasts', () => {
      freezeRowThree();
      for (let i = 0; i < 3; i++) {
        clock.advance(HOST_TIMEOUT_MS / 2);
        unwrap(report(table, SOURCE, [[VM, UP]])); // the source stays alive
        table.tick();
      }
      expect(stateOf()).toBe(MigrationState.IN_PROGRESS);
      expect(entry(table)).toMatchObject({ stalled: true, vmStatus: VmStatus.MIGRATING_FROM });
      expect(vmOf(table).status).toBe(VmStatus.MIGRATING_FROM);
    });

    it('should decide once the unresponsive side reports again', () => {
      freezeRowThree();
      unwrap(report(table, DESTINATION, []));
      expect(stateOf()).toBe(MigrationState.FAILED);
      expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
    });

    it('should decide once the unresponsive side is fenced', () => {
      freezeRowThree();
      unwrap(table.reportFenceResult({ hostId: DESTINATION, succeeded: true, method: FenceMethod.MANUAL }));
      expect(stateOf()).toBe(MigrationState.FAILED);
    });

    it('should not succeed on a destination UP while the source that let go is unresponsive', () => {
      confirm(table);
      unwrap(report(table, SOURCE, [[VM, DOWN]]));
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      unwrap(report(table, DESTINATION, [[VM, UP]]));
      expect(stateOf()).toBe(MigrationState.IN_PROGRESS);
      expect(entry(table).stalledReason).toContain(SOURCE);

      unwrap(report(table, SOURCE, []));
      expect(stateOf()).toBe(MigrationState.SUCCEEDED);
    });
  });
});
