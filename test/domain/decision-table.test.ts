/**
 * The seed's decision table (docs/contract.md §2): every (source report, destination report) pair, plus
 * "not heard", checked both as data and as what a real table does when driven into the pair.
 */
import { describe, expect, it } from 'vitest';
import { DECISION_RULES, DECISION_TABLE, NOT_DECIDABLE_YET } from '../../src/domain/decision-table.js';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { EventType, MigrationState, VmLocation, VmStatus, type ReportedVmStatus } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsOf,
  MIGRATING_FROM,
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

const NOT_HEARD = 'not heard';
type Heard = ReportedVmStatus | typeof NOT_HEARD;

interface Case {
  readonly source: Heard;
  readonly destination: Heard;
  /** VM status the pair gives. */
  readonly status: VmStatus;
  readonly location: VmLocation | null;
  readonly outcome: MigrationState;
  /** The seed's row number, null for what the seed leaves open. */
  readonly row: number | null;
  /** False for a pair that contradicts a host's role: its report is ignored. */
  readonly reachable: boolean;
}

const { IN_PROGRESS, SUCCEEDED, FAILED, VM_DOWN } = MigrationState;
const { SOURCE: AT_SOURCE, DESTINATION: AT_DESTINATION } = VmLocation;

const inProgress = (source: Heard, destination: Heard, row: number | null, reachable = true): Case => ({
  source,
  destination,
  status: VmStatus.MIGRATING_FROM,
  location: AT_SOURCE,
  outcome: IN_PROGRESS,
  row,
  reachable,
});
const contradiction = (source: Heard, destination: Heard): Case => inProgress(source, destination, null, false);

/** docs/contract.md §2, written out by hand: the implementation's table must say the same. */
const CASES: readonly Case[] = [
  { source: DOWN, destination: DOWN, status: VmStatus.DOWN, location: null, outcome: VM_DOWN, row: 1, reachable: true },
  { source: DOWN, destination: UP, status: VmStatus.UP, location: AT_DESTINATION, outcome: SUCCEEDED, row: 2, reachable: true },
  { source: UP, destination: DOWN, status: VmStatus.UP, location: AT_SOURCE, outcome: FAILED, row: 3, reachable: true },
  inProgress(MIGRATING_FROM, DOWN, 4),
  inProgress(MIGRATING_FROM, UP, 5),
  inProgress(MIGRATING_FROM, MIGRATING_TO, 6),
  inProgress(DOWN, MIGRATING_TO, 7),
  inProgress(UP, MIGRATING_TO, 8),
  inProgress(UP, UP, null),
  contradiction(DOWN, MIGRATING_FROM),
  contradiction(UP, MIGRATING_FROM),
  contradiction(MIGRATING_FROM, MIGRATING_FROM),
  contradiction(MIGRATING_TO, DOWN),
  contradiction(MIGRATING_TO, UP),
  contradiction(MIGRATING_TO, MIGRATING_FROM),
  contradiction(MIGRATING_TO, MIGRATING_TO),
  inProgress(NOT_HEARD, NOT_HEARD, null),
];

const PAIR_COUNT = 16;
const RULE_COUNT = PAIR_COUNT + 1;
const SEED_ROWS = [1, 2, 3, 4, 5, 6, 7, 8];

/** Drives a migration (destination named, so row 3 is not rerun) into the case's pair. */
function driveInto(table: MigrationTable, c: Case): string {
  setupPair(table);
  const { id } = startMigration(table, VM, DESTINATION);
  if (c.source === NOT_HEARD || c.destination === NOT_HEARD) return id;
  confirm(table); // the source takes the order; until it does, its UP is not applied
  const sourceFits = c.source !== MIGRATING_TO;
  const destinationFits = c.destination !== MIGRATING_FROM;
  if (sourceFits) unwrap(report(table, SOURCE, [[VM, c.source]]));
  if (destinationFits) unwrap(report(table, DESTINATION, [[VM, c.destination]]));
  if (!sourceFits) unwrap(report(table, SOURCE, [[VM, MIGRATING_TO]]));
  if (!destinationFits) unwrap(report(table, DESTINATION, [[VM, MIGRATING_FROM]]));
  return id;
}

const rulesFor = (c: Case) => {
  const s = c.source === NOT_HEARD ? null : c.source;
  const d = c.destination === NOT_HEARD ? null : c.destination;
  return DECISION_RULES.filter((r) => r.sourceReport === s && r.destinationReport === d);
};

describe('the decision table', () => {
  it('should list every pair once, plus the rule for a side not heard', () => {
    expect(CASES).toHaveLength(RULE_COUNT);
    expect(DECISION_RULES).toHaveLength(RULE_COUNT);
    expect(new Set(CASES.map((c) => `${c.source}/${c.destination}`)).size).toBe(RULE_COUNT);
  });

  it("should list the seed's eight rows first, in the seed's order", () => {
    expect(DECISION_RULES.slice(0, SEED_ROWS.length).map((r) => r.row)).toEqual(SEED_ROWS);
  });

  it.each(CASES)('$source × $destination → $status', (c) => {
    // As data.
    const [rule, ...others] = rulesFor(c);
    expect(others).toHaveLength(0);
    const expected = { row: c.row, vmStatus: c.status, location: c.location, outcome: c.outcome, reachable: c.reachable };
    expect(rule).toMatchObject(expected);
    if (c.source !== NOT_HEARD && c.destination !== NOT_HEARD) expect(DECISION_TABLE[c.source][c.destination]).toMatchObject(expected);
    else expect(NOT_DECIDABLE_YET).toMatchObject(expected);

    // As behaviour.
    const { table } = createTable();
    const id = driveInto(table, c);
    const migration = table.migration(id);
    expect(migration?.state).toBe(c.outcome);
    expect(migration?.vmStatus).toBe(c.status);
    expect(migration?.location).toBe(c.location);

    const vm = vmOf(table);
    expect(vm.status).toBe(c.status);
    if (c.outcome === IN_PROGRESS) {
      const e = entry(table);
      expect(e.id).toBe(id);
      expect(vm).toMatchObject({ hostId: SOURCE, location: AT_SOURCE, migrationId: id });
      expect(e.stalled).toBe(false);
      // A contradicting report is not applied: its side still says what it said before (the source confirmed).
      const sourceReport = c.source === NOT_HEARD ? null : c.source === MIGRATING_TO ? MIGRATING_FROM : c.source;
      const destinationReport = c.destination === NOT_HEARD || c.destination === MIGRATING_FROM ? null : c.destination;
      expect(e.source.report).toBe(sourceReport);
      expect(e.destination.report).toBe(destinationReport);
      const ignoredFrom = [c.source === MIGRATING_TO ? SOURCE : null, c.destination === MIGRATING_FROM ? DESTINATION : null];
      expect(eventsOf(table, EventType.REPORT_IGNORED, VM).map((ev) => ev.hostId)).toEqual(ignoredFrom.filter((h) => h !== null));
    } else {
      expect(table.entryOf(VM)).toBeUndefined();
      const landedOn = { [SUCCEEDED]: DESTINATION, [FAILED]: SOURCE, [VM_DOWN]: null }[c.outcome as typeof SUCCEEDED | typeof FAILED | typeof VM_DOWN];
      expect(vm).toMatchObject({ hostId: landedOn, location: null, migrationId: null });
    }
    expect(table.checkConsistency()).toEqual([]);
  });
});
