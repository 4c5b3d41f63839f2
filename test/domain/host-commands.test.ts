/** The orders a host agent must hold (docs/contract.md §3, docs/decisions.md "Orders"): `pendingCommands`. */
import { describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { HostCommandKind, MigrationState } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  failAttempt,
  MIGRATING_FROM,
  MIGRATION_START_TIMEOUT_MS,
  OTHER,
  report,
  setupFleet,
  SOURCE,
  startMigration,
  succeed,
  unwrap,
  VM,
  VM_2,
} from '../utils/domain.js';

const ORDER_GRACE_MS = 5_000;

const orders = (table: MigrationTable, hostId: string) =>
  table.pendingCommands(hostId).map((c) => [c.kind, c.vmId, c.attempt, c.destinationHostId]);

describe('pending host commands', () => {
  it('should list the migrate order of each in-progress migration for its source only', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [VM_2], [OTHER]: [] } });
    startMigration(table, VM, DESTINATION);
    startMigration(table, VM_2, OTHER);
    expect(orders(table, SOURCE)).toEqual([[HostCommandKind.MIGRATE, VM, 1, DESTINATION]]);
    expect(orders(table, DESTINATION)).toEqual([[HostCommandKind.MIGRATE, VM_2, 1, OTHER]]);
    expect(orders(table, OTHER)).toEqual([]);
  });

  it('should add the cancel order once a cancel was asked', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] } });
    const { id } = startMigration(table, VM, DESTINATION);
    unwrap(table.cancelMigration({ vmId: VM }));
    expect(orders(table, SOURCE)).toEqual([
      [HostCommandKind.MIGRATE, VM, 1, DESTINATION],
      [HostCommandKind.CANCEL, VM, 1, DESTINATION],
    ]);
    expect(table.pendingCommands(SOURCE).every((c) => c.migrationId === id && c.hostId === SOURCE)).toBe(true);
  });

  it('should list only the current attempt’s order after a rerun', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [] } });
    startMigration(table);
    failAttempt(table);
    expect(orders(table, SOURCE)).toEqual([[HostCommandKind.MIGRATE, VM, 2, OTHER]]);
  });

  it('should list nothing once the migration is decided', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] } });
    startMigration(table, VM, DESTINATION);
    succeed(table);
    expect(table.pendingCommands(SOURCE)).toEqual([]);
  });

  it('should keep the cancel order of an attempt that timed out before it started, for the grace period (issue 12, item 8)', () => {
    const { table, clock } = createTable({ orderGraceMs: ORDER_GRACE_MS });
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] } });
    const { id } = startMigration(table, VM, DESTINATION);
    clock.advance(MIGRATION_START_TIMEOUT_MS);
    table.tick();
    expect(table.migration(id)?.state).toBe(MigrationState.FAILED);
    // An agent that was away when the attempt ended still learns to drop its migrate order.
    const cancel = [HostCommandKind.CANCEL, VM, 1, DESTINATION];
    expect(orders(table, SOURCE)).toEqual([cancel]);
    expect(table.pendingCommands(SOURCE)[0]?.migrationId).toBe(id);
    expect(orders(table, DESTINATION)).toEqual([]);
    clock.advance(ORDER_GRACE_MS - 1);
    table.tick();
    expect(orders(table, SOURCE)).toEqual([cancel]);
    clock.advance(1);
    table.tick();
    expect(orders(table, SOURCE)).toEqual([]);
  });

  it('should list no migrate order for a migration found in reports', () => {
    const { table } = createTable();
    unwrap(report(table, DESTINATION, []));
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { peerHostId: DESTINATION }]]));
    expect(table.pendingCommands(SOURCE)).toEqual([]);
  });
});
