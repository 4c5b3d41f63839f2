/** Helpers for the evacuation tests (docs/contract.md §9), beside those of test/utils/domain.ts. */
import { FenceMethod, HostStatus } from '../../src/domain/vocabulary.js';
import type { Evacuation } from '../../src/domain/model.js';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { createTable, DESTINATION, OTHER, setupFleet, SOURCE, unwrap, VM, VM_2, type TestTable } from './domain.js';

/** The evacuation tests' fleet: SOURCE runs VM and VM_2; DESTINATION and OTHER are empty, all in one cluster. */
export function evacuationFleet(): TestTable {
  const t = createTable();
  setupFleet(t.table, { hosts: { [SOURCE]: [VM, VM_2], [DESTINATION]: [], [OTHER]: [] } });
  return t;
}

/** Starts (or reads back) the host's evacuation; fails the test if refused. */
export const evacuate = (table: MigrationTable, hostId: string): Evacuation => unwrap(table.evacuateHost({ hostId }));

/** The evacuation as the read side shows it now; fails the test when it is not kept. */
export function evacuationNow(table: MigrationTable, id: string): Evacuation {
  const found = table.evacuation(id);
  if (found === undefined) throw new Error(`evacuation ${id} is not kept`);
  return found;
}

/** The counts a client reads, in one object to compare. */
export const countsOf = (e: Evacuation) => ({ state: e.state, total: e.total, moved: e.moved, remaining: e.remaining, failed: e.failed });

export const stopResponding = (table: MigrationTable, hostId: string) => unwrap(table.reportHostStatus({ hostId, status: HostStatus.NON_RESPONSIVE }));

export const fence = (table: MigrationTable, hostId: string, succeeded = true) =>
  unwrap(table.reportFenceResult({ hostId, succeeded, method: FenceMethod.MANUAL, message: 'test fence' }));
