/** Rerun on another host (docs/contract.md §4, docs/decisions.md "Rerun"). */
import { describe, expect, it } from 'vitest';
import { Cause, EventType, HostCommandKind, HostStatus, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsOf,
  failAttempt,
  MAX_ATTEMPTS,
  MIGRATION_START_TIMEOUT_MS,
  OTHER,
  OTHER_CLUSTER,
  report,
  setupFleet,
  SOURCE,
  SPARE,
  startMigration,
  transitionsSince,
  unwrap,
  UP,
  VM,
  vmOf,
  type TestTable,
} from '../utils/domain.js';

const PROGRESS = 70;
const FAR = 'host-0-far';

/** SOURCE runs VM; DESTINATION, OTHER and SPARE are empty, so the engine tries them in id order. */
function fleet(extra: Readonly<Record<string, string>> = {}): TestTable {
  const t = createTable();
  setupFleet(t.table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [], [SPARE]: [], [FAR]: [] }, clusters: { [FAR]: OTHER_CLUSTER, ...extra } });
  return t;
}

describe('rerun', () => {
  it('should try another host as a new attempt of the same migration, resetting both sides and the progress', () => {
    const { table } = fleet();
    const first = startMigration(table);
    expect(first.destination.hostId).toBe(DESTINATION);
    const before = table.latestSeq;
    failAttempt(table, VM, PROGRESS);

    const second = entry(table);
    expect(second).toMatchObject({
      id: first.id,
      attempt: 2,
      state: MigrationState.IN_PROGRESS,
      source: { hostId: SOURCE, report: null },
      destination: { hostId: OTHER, report: null },
      sourceConfirmed: false,
      progress: null,
    });
    expect(second.attempts.map((a) => [a.attempt, a.destinationHostId, a.state])).toEqual([
      [1, DESTINATION, MigrationState.FAILED],
      [2, OTHER, MigrationState.IN_PROGRESS],
    ]);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.MIGRATING_FROM, hostId: SOURCE, migrationId: first.id });
    const [failedReport, rerun] = transitionsSince(table, before).slice(-2);
    expect(failedReport).toMatchObject({ cause: Cause.HOST_REPORT, hostId: DESTINATION, migration: { attempt: 1, progress: PROGRESS } });
    expect(rerun).toMatchObject({ cause: Cause.RERUN, migration: { attempt: 2, progress: null } });
  });

  it('should log MIGRATION_FAILED, then MIGRATION_TRYING_RERUN naming the next host', () => {
    const { table } = fleet();
    startMigration(table);
    failAttempt(table);
    const types = table.eventLog({ vmId: VM }, 0, 100).items.map((e) => e.type);
    expect(types.slice(-2)).toEqual([EventType.MIGRATION_FAILED, EventType.MIGRATION_TRYING_RERUN]);
    expect(eventsOf(table, EventType.MIGRATION_TRYING_RERUN)[0]?.message).toContain(OTHER);
  });

  it('should send the source a migrate order for each attempt', () => {
    const { table, published } = fleet();
    const { id } = startMigration(table);
    failAttempt(table);
    const orders = published.flatMap((c) => c.commands).filter((c) => c.kind === HostCommandKind.MIGRATE);
    expect(orders.map((o) => [o.hostId, o.migrationId, o.attempt, o.destinationHostId])).toEqual([
      [SOURCE, id, 1, DESTINATION],
      [SOURCE, id, 2, OTHER],
    ]);
  });

  it('should try at most maxAttempts hosts, never one tried before, then end FAILED on the source', () => {
    const { table } = fleet();
    const { id } = startMigration(table);
    for (let i = 0; i < MAX_ATTEMPTS; i++) failAttempt(table);
    const done = table.migration(id);
    expect(done?.state).toBe(MigrationState.FAILED);
    expect(done?.attempts.map((a) => a.destinationHostId)).toEqual([DESTINATION, OTHER, SPARE]);
    expect(done?.attempts.every((a) => a.state === MigrationState.FAILED)).toBe(true);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE, migrationId: null });
    expect(eventsOf(table, EventType.MIGRATION_FAILED)).toHaveLength(MAX_ATTEMPTS);
    expect(eventsOf(table, EventType.MIGRATION_NO_HOST_FOR_RERUN)).toHaveLength(0);
  });

  it('should log MIGRATION_NO_HOST_FOR_RERUN, then MIGRATION_FAILED, when attempts remain but no host is eligible', () => {
    const { table } = fleet();
    unwrap(table.reportHostStatus({ hostId: OTHER, status: HostStatus.MAINTENANCE }));
    unwrap(table.reportHostStatus({ hostId: SPARE, status: HostStatus.NON_RESPONSIVE }));
    const { id } = startMigration(table);
    failAttempt(table);
    expect(table.migration(id)).toMatchObject({ state: MigrationState.FAILED, attempt: 1 });
    const types = table.eventLog({ vmId: VM }, 0, 100).items.map((e) => e.type);
    expect(types.slice(-2)).toEqual([EventType.MIGRATION_NO_HOST_FOR_RERUN, EventType.MIGRATION_FAILED]);
  });

  it('should not rerun a migration to a destination the user named', () => {
    const { table } = fleet();
    const { id } = startMigration(table, VM, DESTINATION);
    failAttempt(table);
    expect(table.migration(id)).toMatchObject({ state: MigrationState.FAILED, attempt: 1 });
    expect(eventsOf(table, EventType.MIGRATION_TRYING_RERUN)).toHaveLength(0);
    expect(eventsOf(table, EventType.MIGRATION_NO_HOST_FOR_RERUN)).toHaveLength(0);
  });

  it('should not let the reports of the failed attempt decide the new one', () => {
    const { table } = fleet();
    const { id } = startMigration(table);
    failAttempt(table);
    // The old destination repeating DOWN is a third host now; the source's UP precedes the new order.
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    unwrap(report(table, SOURCE, [[VM, UP]]));
    unwrap(report(table, OTHER, [[VM, DOWN]]));
    expect(entry(table)).toMatchObject({ id, attempt: 2, source: { report: null }, destination: { report: DOWN } });
  });

  it('should count the start timeout of a new attempt from the rerun', () => {
    const { table, clock } = fleet();
    const { id } = startMigration(table);
    clock.advance(MIGRATION_START_TIMEOUT_MS - 1);
    failAttempt(table);
    clock.advance(MIGRATION_START_TIMEOUT_MS - 1);
    table.tick();
    expect(entry(table)).toMatchObject({ id, attempt: 2, state: MigrationState.IN_PROGRESS });
    clock.advance(1);
    table.tick();
    expect(table.migration(id)).toMatchObject({ state: MigrationState.FAILED, attempt: 2 });
  });
});
