/**
 * `blockedBy` (docs/contract.md §10): what holds the decision of a migration in flight back, from the
 * same evaluation that decides. Table-driven over the evaluation, scenarios through the table, and
 * a property: an undecided entry whose pair of reports is one of rows 1–3 always has a blocker; a
 * decided one has none.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/domain/decision-table.js';
import { evaluate, type EntryView } from '../../src/domain/evaluate.js';
import type { Side } from '../../src/domain/model.js';
import {
  DecisionBlockerCode as B,
  HOST_STATUSES,
  HostStatus,
  MigrationState,
  REPORTED_VM_STATUSES,
  ReportedVmStatus,
} from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  MIGRATING_FROM,
  MIGRATING_TO,
  report,
  setupPair,
  SOURCE,
  startMigration,
  succeed,
  unwrap,
  UP,
  VM,
} from '../utils/domain.js';

const side = (hostId: string | null, report: ReportedVmStatus | null, heardOrder = report === null ? 0 : 1, fenced = false): Side => ({
  hostId,
  report,
  heardOrder,
  fenced,
  exitReason: null,
});

const view = (extra: Partial<EntryView>): EntryView => ({
  source: side('a', ReportedVmStatus.MIGRATING_FROM),
  destination: side('b', ReportedVmStatus.MIGRATING_TO),
  sourceHostStatus: HostStatus.UP,
  destinationHostStatus: HostStatus.UP,
  sourceConfirmed: true,
  ...extra,
});

const codes = (v: EntryView) => evaluate(v).blockedBy.map((b) => [b.code, b.hostId]);

describe('blockedBy, from the evaluation', () => {
  it.each<[string, Partial<EntryView>, (string | null)[][]]>([
    ['nothing while the pair simply says "in progress" (row 6)', {}, []],
    ['nothing for row 4, 5, 7 or 8 either', { destination: side('b', ReportedVmStatus.UP) }, []],
    ['each side not heard, and the source not confirmed', { source: side('a', null), destination: side('b', null), sourceConfirmed: false }, [
      [B.SOURCE_NOT_HEARD, 'a'],
      [B.DESTINATION_NOT_HEARD, 'b'],
      [B.SOURCE_NOT_CONFIRMED, 'a'],
    ]],
    ['a source that does not answer', { sourceHostStatus: HostStatus.NON_RESPONSIVE }, [[B.SOURCE_UNRESPONSIVE, 'a']]],
    ['a destination rebooting, not fenced', { destinationHostStatus: HostStatus.REBOOTING }, [[B.DESTINATION_UNRESPONSIVE, 'b']]],
    ['nothing for a fenced side of a rebooting host', { destination: side('b', ReportedVmStatus.DOWN, 2, true), source: side('a', ReportedVmStatus.MIGRATING_FROM), destinationHostStatus: HostStatus.REBOOTING }, []],
    ['a side not known', { destination: side(null, null), destinationHostStatus: null }, [[B.PEER_UNKNOWN, null]]],
    ['a side whose host never registered', { source: side('x', null), sourceHostStatus: null }, [
      [B.HOST_NOT_REGISTERED, 'x'],
      [B.SOURCE_NOT_HEARD, 'x'],
    ]],
    ['row 1 with the destination DOWN heard before the source DOWN', { source: side('a', ReportedVmStatus.DOWN, 5), destination: side('b', ReportedVmStatus.DOWN, 4) }, [
      [B.DESTINATION_DOWN_NOT_FRESH, 'b'],
    ]],
    ['both UP', { source: side('a', ReportedVmStatus.UP), destination: side('b', ReportedVmStatus.UP) }, [[B.RUNNING_ON_BOTH, null]]],
    ['an abort ordered while the source goes on', { abortOrdered: 'no progress' }, [[B.ABORT_ORDERED, 'a']]],
    ['nothing for an abort once the source stopped migrating (row 8)', { abortOrdered: 'no progress', source: side('a', ReportedVmStatus.UP) }, []],
  ])('should list %s', (_name, extra, expected) => {
    expect(codes(view(extra))).toEqual(expected);
  });

  it('should be empty once decided', () => {
    const decided = evaluate(view({ source: side('a', ReportedVmStatus.DOWN, 1), destination: side('b', ReportedVmStatus.UP, 2) }));
    expect(decided.outcome).toBe(MigrationState.SUCCEEDED);
    expect(decided.blockedBy).toEqual([]);
  });

  it('should give every undecided pair of rows 1–3 at least one blocker, and a decided one none (property)', () => {
    const status = fc.option(fc.constantFrom(...HOST_STATUSES), { nil: null });
    const anySide = fc.record({
      hostId: fc.option(fc.constantFrom('a', 'b'), { nil: null }),
      report: fc.option(fc.constantFrom(...REPORTED_VM_STATUSES), { nil: null }),
      heardOrder: fc.nat(5),
      fenced: fc.boolean(),
      exitReason: fc.constant(null),
    });
    const entryView = fc.record({
      source: anySide,
      destination: anySide,
      sourceHostStatus: status,
      destinationHostStatus: status,
      sourceConfirmed: fc.boolean(),
      confirmationOverdue: fc.boolean(),
      abortOrdered: fc.option(fc.constant('a deadline passed'), { nil: null }),
    });
    fc.assert(
      fc.property(entryView, (v) => {
        const verdict = evaluate(v);
        if (verdict.outcome !== MigrationState.IN_PROGRESS) return verdict.blockedBy.length === 0;
        const row = v.source.report === null || v.destination.report === null ? null : decide(v.source.report, v.destination.report).row;
        return row === null || row > 3 || verdict.blockedBy.length > 0;
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('blockedBy through the table', () => {
  it('should follow a migration from its start to its decision', () => {
    const { table } = createTable();
    setupPair(table);
    const started = startMigration(table, VM, DESTINATION);
    expect(started.blockedBy.map((b) => b.code)).toEqual([B.SOURCE_NOT_HEARD, B.DESTINATION_NOT_HEARD, B.SOURCE_NOT_CONFIRMED]);
    confirm(table);
    expect(entry(table).blockedBy.map((b) => b.code)).toEqual([B.DESTINATION_NOT_HEARD]);
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expect(entry(table).blockedBy).toEqual([]);
    unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
    expect(entry(table).blockedBy.map((b) => [b.code, b.hostId])).toEqual([[B.DESTINATION_UNRESPONSIVE, DESTINATION]]);
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    unwrap(report(table, SOURCE, [[VM, DOWN]]));
    unwrap(report(table, DESTINATION, [[VM, UP]]));
    expect(table.migration(started.id)).toMatchObject({ state: MigrationState.SUCCEEDED, blockedBy: [] });
  });

  it('should say RUNNING_ON_BOTH and DESTINATION_DOWN_NOT_FRESH when the pair says so', () => {
    const { table } = createTable();
    setupPair(table);
    startMigration(table, VM, DESTINATION);
    confirm(table);
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    unwrap(report(table, SOURCE, [[VM, DOWN]]));
    expect(entry(table).blockedBy.map((b) => b.code)).toEqual([B.DESTINATION_DOWN_NOT_FRESH]);
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM]]));
    unwrap(report(table, DESTINATION, [[VM, UP]]));
    unwrap(report(table, SOURCE, [[VM, UP]]));
    expect(entry(table).blockedBy.map((b) => b.code)).toEqual([B.RUNNING_ON_BOTH]);
  });

  it('should say PEER_UNKNOWN, then HOST_NOT_REGISTERED until the named peer registers', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM]]));
    expect(entry(table).blockedBy.map((b) => b.code)).toEqual([B.PEER_UNKNOWN]);
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { peerHostId: 'host-new' }]]));
    expect(entry(table).blockedBy.map((b) => [b.code, b.hostId])).toEqual([
      [B.HOST_NOT_REGISTERED, 'host-new'],
      [B.DESTINATION_NOT_HEARD, 'host-new'],
    ]);
    unwrap(table.registerHost({ hostId: 'host-new' }));
    expect(entry(table).blockedBy.map((b) => b.code)).toEqual([B.DESTINATION_NOT_HEARD]);
  });

  it('should be empty for a pending migration (waitingReason says why) and a decided one', () => {
    const { table } = createTable({ limits: { maxOutgoingPerHost: 1, maxIncomingPerHost: 0, maxPerCluster: 0 } });
    setupPair(table);
    unwrap(report(table, SOURCE, [['vm-2', UP]]));
    startMigration(table);
    const pending = startMigration(table, 'vm-2');
    expect(pending).toMatchObject({ state: MigrationState.PENDING, blockedBy: [] });
    expect(pending.waitingReason).not.toBeNull();
    succeed(table);
    expect(table.migration(entry(table, 'vm-2').id)?.blockedBy.length).toBeGreaterThan(0);
  });
});
