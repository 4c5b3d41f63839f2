/**
 * A command is all or nothing (docs/decisions.md §3, "all-or-nothing commands"): a refusal writes
 * nothing, and a rule that fails part-way stops the table (fail-stop) instead of leaving a
 * half-written state that later commands would build on. The fault is injected through the
 * table's `faultInjection` seam, which sees every step a command records.
 */
import { describe, expect, it } from 'vitest';
import type { EngineEvent, Transition } from '../../src/domain/model.js';
import { TableFailedError, type ChangeSet } from '../../src/domain/table/table.js';
import { MigrationState } from '../../src/domain/vocabulary.js';
import { createTable, DESTINATION, entry, report, setupFleet, SOURCE, startMigration, UP, VM, VM_2 } from '../utils/domain.js';

/** A fault that strikes at the `n`th step recorded after it is armed. */
function faultAfter() {
  let armedAt: number | null = null;
  let steps = 0;
  const fault = new Error('rule failed part-way');
  return {
    fault,
    arm(n: number) {
      armedAt = n;
      steps = 0;
    },
    inject: (_step: Transition | EngineEvent) => {
      if (armedAt === null) return;
      if (++steps === armedAt) throw fault;
    },
  };
}

describe('a command is all or nothing', () => {
  it('should publish nothing, keep nothing in the history and not advance the cursor when a rule fails part-way', () => {
    const injected = faultAfter();
    const failures: TableFailedError[] = [];
    const { table } = createTable({ faultInjection: injected.inject, onFailure: (e) => failures.push(e) });
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2], [DESTINATION]: [] } });
    const heard: ChangeSet[] = [];
    table.subscribe((c) => heard.push(c));
    const cursor = table.cursor;

    injected.arm(2); // a full report that changes two VMs fails after recording the first
    expect(() => report(table, SOURCE, [[VM, UP]], { full: true })).toThrow(TableFailedError);

    expect(heard).toEqual([]);
    expect(table.cursor).toBe(cursor);
    const kept = [table.transitionsAfter(0), table.eventsAfter(0)].flatMap((read) => (read.ok ? read.items.map((item) => item.seq) : []));
    expect(Math.max(...kept)).toBe(table.latestSeq); // nothing of the failed command is in the history
    expect(failures).toHaveLength(1);
    expect(failures[0]?.cause).toBe(injected.fault);
    expect(table.failedWith).toBe(failures[0]);
  });

  it('should refuse every later command and tick once the table has failed stop', () => {
    const injected = faultAfter();
    const { table } = createTable({ faultInjection: injected.inject });
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] } });
    injected.arm(1);
    expect(() => startMigration(table)).toThrow(TableFailedError);
    injected.arm(Number.POSITIVE_INFINITY);
    expect(() => report(table, SOURCE, [[VM, UP]])).toThrow(TableFailedError);
    expect(() => table.tick()).toThrow(TableFailedError);
    expect(() => table.registerHost({ hostId: 'host-new' })).toThrow(TableFailedError);
  });

  it('should write nothing for a refused command', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] } });
    const before = { cursor: table.cursor, entry: table.entryOf(VM), vm: { ...table.vm(VM) }, stats: table.stats() };
    expect(table.migrateVm({ vmId: VM, destinationHostId: SOURCE }).ok).toBe(false);
    expect(table.migrateVm({ vmId: 'vm-unknown' }).ok).toBe(false);
    expect({ cursor: table.cursor, entry: table.entryOf(VM), vm: { ...table.vm(VM) }, stats: table.stats() }).toEqual(before);
    expect(table.checkConsistency()).toEqual([]);
  });

  it('should work on as before while no fault strikes', () => {
    const injected = faultAfter();
    const { table } = createTable({ faultInjection: injected.inject });
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] } });
    startMigration(table);
    expect(entry(table).state).toBe(MigrationState.IN_PROGRESS);
    expect(table.failedWith).toBeNull();
  });
});
