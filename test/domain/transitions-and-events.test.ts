/**
 * Transitions and events (docs/contract.md §5): strictly increasing cursors, right from/to, snapshots that
 * never change, what subscribers receive, and the event log's filters.
 */
import { describe, expect, it } from 'vitest';
import type { Transition } from '../../src/domain/model.js';
import type { ChangeSet } from '../../src/domain/table/table.js';
import { Cause, ErrorCode, EventType, MigrationState, VmLocation, VmStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  EPOCH,
  eventsSince,
  expectRefused,
  failAttempt,
  OTHER,
  report,
  setupFleet,
  setupPair,
  SOURCE,
  startMigration,
  succeed,
  transitionsSince,
  unwrap,
  UP,
  VM,
  VM_2,
} from '../utils/domain.js';

const PAGE = 2;

/** A migration from SOURCE that fails once on DESTINATION, is rerun to OTHER and succeeds there. */
function historyWithRerun() {
  const t = createTable();
  setupPair(t.table);
  const { id } = startMigration(t.table);
  failAttempt(t.table); // on DESTINATION; rerun to OTHER
  succeed(t.table);
  return { ...t, id };
}

const isIncreasing = (seqs: readonly number[]) => seqs.every((s, i) => i === 0 || s > (seqs[i - 1] as number));

describe('transitions and events', () => {
  it('should give transitions and events strictly increasing cursors from one sequence', () => {
    const { table, id } = historyWithRerun();
    const transitions = transitionsSince(table, 0);
    const events = eventsSince(table, 0);
    expect(isIncreasing(transitions.map((t) => t.seq))).toBe(true);
    expect(isIncreasing(events.map((e) => e.seq))).toBe(true);
    const all = [...transitions, ...events].map((x) => x.seq);
    expect(new Set(all).size).toBe(all.length);
    expect(Math.max(...all)).toBe(table.latestSeq);
    expect(table.cursor).toBe(`${EPOCH}:${table.latestSeq}`);
    expect(table.migration(id)?.state).toBe(MigrationState.SUCCEEDED);
  });

  it('should record from and to of the VM on each transition of the migration', () => {
    const { table, id } = historyWithRerun();
    const ofMigration = transitionsSince(table, 0).filter((t) => t.migration?.id === id);
    const migrating = { status: VmStatus.MIGRATING_FROM, hostId: SOURCE, location: VmLocation.SOURCE };
    expect(ofMigration[0]).toMatchObject({ cause: Cause.MIGRATE_COMMAND, from: { status: VmStatus.UP, hostId: SOURCE, location: null }, to: migrating });
    for (const t of ofMigration.slice(1, -1)) expect(t).toMatchObject({ from: migrating, to: migrating });
    expect(ofMigration.at(-1)).toMatchObject({
      cause: Cause.HOST_REPORT,
      hostId: OTHER,
      from: migrating,
      to: { status: VmStatus.UP, hostId: OTHER, location: null },
      migration: { state: MigrationState.SUCCEEDED, location: VmLocation.DESTINATION },
    });
    // Each transition's `from` is the previous one's `to`.
    ofMigration.slice(1).forEach((t, i) => expect(t.from).toEqual(ofMigration[i]?.to));
  });

  it('should never change the migration snapshot of an old transition', () => {
    const t = createTable();
    setupPair(t.table);
    const { id } = startMigration(t.table);
    const [started] = transitionsSince(t.table, 0).filter((tr) => tr.migration?.id === id) as [Transition];
    const frozen = structuredClone(started.migration);
    failAttempt(t.table); // rerun: attempt 2
    unwrap(t.table.cancelMigration({ vmId: VM }));
    expect(started.migration).toEqual(frozen);
    expect(started.migration).toMatchObject({ attempt: 1, cancelRequested: false, source: { report: null } });
    const [again] = transitionsSince(t.table, 0).filter((tr) => tr.migration?.id === id);
    expect(again?.migration).toEqual(frozen);
  });

  it('should hand each listener the transitions, events and commands of one command, as the logs keep them', () => {
    const { table, published } = createTable();
    setupPair(table);
    const before = table.latestSeq;
    const seen = published.length;
    startMigration(table);
    const changes = published.slice(seen) as [ChangeSet];
    expect(changes).toHaveLength(1);
    expect(changes[0].transitions).toEqual(transitionsSince(table, before));
    expect(changes[0].events).toEqual(eventsSince(table, before));
    expect(changes[0].commands).toHaveLength(1);
  });

  it('should publish nothing for a refused command, and nothing after unsubscribing', () => {
    const { table } = createTable();
    setupPair(table);
    const heard: ChangeSet[] = [];
    const unsubscribe = table.subscribe((c) => heard.push(c));
    expectRefused(table.migrateVm({ vmId: VM, destinationHostId: SOURCE }), ErrorCode.SAME_HOST);
    expect(heard).toHaveLength(0);
    unsubscribe();
    startMigration(table);
    expect(heard).toHaveLength(0);
  });

  it('should keep a command applied and answer its caller when a listener throws, and let every other listener hear it', () => {
    const failures: unknown[] = [];
    const { table } = createTable({ onListenerError: (error) => failures.push(error) });
    setupPair(table);
    const failure = new Error('listener failed');
    const heard: ChangeSet[] = [];
    table.subscribe(() => {
      throw failure;
    });
    table.subscribe((c) => heard.push(c));
    const migration = startMigration(table);
    expect(migration.state).toBe(MigrationState.IN_PROGRESS);
    expect(heard).toHaveLength(1);
    expect(failures).toEqual([failure]);
    expect(table.listenerFailures).toBe(1);
    expect(table.entryOf(VM)?.state).toBe(MigrationState.IN_PROGRESS);
  });

  describe('the event log', () => {
    function busyLog() {
      const { table } = createTable();
      setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2], [DESTINATION]: [], [OTHER]: [] } });
      startMigration(table, VM, DESTINATION);
      startMigration(table, VM_2, OTHER);
      unwrap(report(table, OTHER, [[VM, UP]])); // ignored: OTHER is not a side of VM's migration
      return table;
    }

    it('should filter by VM', () => {
      const table = busyLog();
      const items = table.eventLog({ vmId: VM_2 }, 0, 100).items;
      expect(items.map((e) => e.type)).toEqual([EventType.MIGRATION_STARTED]);
      expect(items.every((e) => e.vmId === VM_2)).toBe(true);
    });

    it('should filter by host: any host the event concerns, the destination of its migration included', () => {
      const table = busyLog();
      expect(table.eventLog({ hostId: OTHER }, 0, 100).items.map((e) => [e.type, e.vmId])).toEqual([
        [EventType.MIGRATION_STARTED, VM_2], // OTHER is VM_2's destination
        [EventType.REPORT_IGNORED, VM], // OTHER reported VM
      ]);
      // The ignored report is about VM's migration, so it concerns that migration's destination too.
      expect(table.eventLog({ hostId: DESTINATION }, 0, 100).items.map((e) => [e.type, e.vmId])).toEqual([
        [EventType.MIGRATION_STARTED, VM],
        [EventType.REPORT_IGNORED, VM],
      ]);
    });

    it('should filter by type, and by type and VM together', () => {
      const table = busyLog();
      expect(table.eventLog({ type: EventType.MIGRATION_STARTED }, 0, 100).items.map((e) => e.vmId)).toEqual([VM, VM_2]);
      expect(table.eventLog({ type: EventType.MIGRATION_STARTED, vmId: VM }, 0, 100).items.map((e) => e.vmId)).toEqual([VM]);
      expect(table.eventLog({ type: EventType.FENCE_FAILED }, 0, 100).items).toEqual([]);
    });

    it('should page after a cursor and say whether more follow', () => {
      const table = busyLog();
      const first = table.eventLog({}, 0, PAGE);
      expect(first.items).toHaveLength(PAGE);
      expect(first.hasNextPage).toBe(true);
      const rest = table.eventLog({}, first.items.at(-1)?.seq ?? 0, 100);
      expect(rest.hasNextPage).toBe(false);
      expect([...first.items, ...rest.items]).toEqual(eventsSince(table, 0));
    });
  });
});
