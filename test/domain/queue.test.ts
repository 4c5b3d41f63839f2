/**
 * The queue and its limits through the table's commands (docs/contract.md §8): what waits, why, what
 * starts when a slot frees, and how a pending migration ends without starting.
 */
import { describe, expect, it } from 'vitest';
import type { Migration } from '../../src/domain/model.js';
import type { MigrationTable } from '../../src/domain/table/table.js';
import {
  Cause,
  ENGINE_ACTOR,
  ErrorCode,
  EventType,
  HostCommandKind,
  HostStatus,
  MigrationPriority,
  MigrationState,
  Severity,
  VmLocation,
  VmStatus,
} from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  DOWN,
  eventsOf,
  eventsSince,
  expectRefused,
  failAttempt,
  MIGRATING_FROM,
  OTHER,
  report,
  setupFleet,
  SOURCE,
  SPARE,
  startMigration,
  succeed,
  transitionsSince,
  unwrap,
  UP,
  vmOf,
} from '../utils/domain.js';

const [V1, V2, V3, V4] = ['vm-q1', 'vm-q2', 'vm-q3', 'vm-q4'] as const;
const ONE_IN = { maxOutgoingPerHost: 2, maxIncomingPerHost: 1, maxPerCluster: 5 };
const DAY_MS = 86_400_000;
const NO_LIMITS = { maxOutgoingPerHost: 0, maxIncomingPerHost: 0, maxPerCluster: 0 };

const pendingOf = (table: MigrationTable): Migration[] => [...table.migrations({ state: MigrationState.PENDING }, 0, 1_000).items];
const inFlight = (table: MigrationTable): Migration[] => [...table.migrations({ state: MigrationState.IN_PROGRESS }, 0, 1_000).items];
const ordersOf = (published: ReturnType<typeof createTable>['published'], migrationId: string) =>
  published.flatMap((c) => c.commands).filter((c) => c.migrationId === migrationId);

describe('the migration queue', () => {
  it('should start a migration at once when the limits allow', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [V1], [DESTINATION]: [] } });
    const m = startMigration(table, V1);
    expect(m).toMatchObject({ state: MigrationState.IN_PROGRESS, priority: MigrationPriority.NORMAL, waitingReason: null, destination: { hostId: DESTINATION } });
    expect(m.attempts.map((a) => [a.attempt, a.state])).toEqual([[1, MigrationState.IN_PROGRESS]]);
    expect(eventsOf(table, EventType.MIGRATION_QUEUED)).toEqual([]);
  });

  it('should keep a third migration from one host PENDING with a reason naming the host: no order, the VM UP on its host, MIGRATION_QUEUED', () => {
    const { table, published } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [], [OTHER]: [], [SPARE]: [] } });
    startMigration(table, V1);
    startMigration(table, V2);
    const before = table.latestSeq;
    const third = startMigration(table, V3);

    expect(third).toMatchObject({
      state: MigrationState.PENDING,
      waitingReason: `${SOURCE} has 2 of 2 outgoing migrations`,
      source: { hostId: SOURCE },
      destination: { hostId: null },
      attempt: 1,
      attempts: [],
      endedAt: null,
      blockedBy: [],
      vmStatus: VmStatus.UP,
      location: VmLocation.SOURCE,
    });
    expect(vmOf(table, V3)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE, migrationId: null });
    expect(table.currentMigrationOf(V3)?.id).toBe(third.id);
    expect(table.entryOf(V3)).toBeUndefined();
    expect(ordersOf(published, third.id)).toEqual([]);
    const [queued] = transitionsSince(table, before);
    expect(queued).toMatchObject({ cause: Cause.MIGRATE_COMMAND, vmId: V3, from: { status: VmStatus.UP, hostId: SOURCE }, to: { status: VmStatus.UP, hostId: SOURCE } });
    expect(queued?.migration?.state).toBe(MigrationState.PENDING);
    const [event] = eventsSince(table, before);
    expect(event).toMatchObject({ type: EventType.MIGRATION_QUEUED, severity: Severity.INFO, migrationId: third.id });
    expect(event?.message).toContain(`${SOURCE} has 2 of 2 outgoing migrations`);
  });

  it('should never let 20 migrateVm on a 3-host cluster exceed 2 out, 2 in per host and 5 in the cluster: the rest waits PENDING', () => {
    const { table } = createTable();
    const onA = Array.from({ length: 12 }, (_, i) => `vm-a${i}`);
    const onB = Array.from({ length: 8 }, (_, i) => `vm-b${i}`);
    setupFleet(table, { hosts: { [SOURCE]: onA, [DESTINATION]: onB, [OTHER]: [] } });
    const all = [...onA, ...onB].map((vmId) => startMigration(table, vmId));
    const flying = inFlight(table);
    expect(flying.length).toBeLessThanOrEqual(5);
    expect(flying.length + pendingOf(table).length).toBe(20);
    for (const h of [SOURCE, DESTINATION, OTHER]) {
      expect(flying.filter((m) => m.source.hostId === h).length, `outgoing of ${h}`).toBeLessThanOrEqual(2);
      expect(flying.filter((m) => m.destination.hostId === h).length, `incoming of ${h}`).toBeLessThanOrEqual(2);
    }
    expect(all.filter((m) => m.state === MigrationState.PENDING).every((m) => m.waitingReason !== null)).toBe(true);
  });

  it('should make a migration to a named destination at its incoming limit wait, naming the destination', () => {
    const { table } = createTable({ limits: ONE_IN });
    setupFleet(table, { hosts: { [SOURCE]: [V1], [OTHER]: [V2], [DESTINATION]: [] } });
    startMigration(table, V1, DESTINATION);
    const second = startMigration(table, V2, DESTINATION);
    expect(second).toMatchObject({ state: MigrationState.PENDING, waitingReason: `${DESTINATION} has 1 of 1 incoming migrations`, destination: { hostId: DESTINATION } });
  });

  it('should wait, not refuse, when every eligible host is full, and refuse NO_ELIGIBLE_HOST only when no host could ever take the VM', () => {
    const { table } = createTable({ limits: ONE_IN });
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2], [DESTINATION]: [] } });
    startMigration(table, V1);
    expect(startMigration(table, V2)).toMatchObject({ state: MigrationState.PENDING, waitingReason: 'no eligible destination has a free incoming slot' });
    const lonely = createTable().table;
    setupFleet(lonely, { hosts: { [SOURCE]: [V1] } });
    expectRefused(lonely.migrateVm({ vmId: V1 }), ErrorCode.NO_ELIGIBLE_HOST, 'destinationHostId');
  });

  it('should name the cluster when it has its limit in flight', () => {
    const { table } = createTable({ limits: { maxOutgoingPerHost: 0, maxIncomingPerHost: 0, maxPerCluster: 2 } });
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [] } });
    startMigration(table, V1);
    startMigration(table, V2);
    expect(startMigration(table, V3).waitingReason).toBe('cluster default has 2 of 2 migrations in flight');
  });

  it('should refuse a second migration of a VM that has a pending one, and show the pending one as its current migration', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [], [OTHER]: [] } });
    startMigration(table, V1);
    startMigration(table, V2);
    const pending = startMigration(table, V3);
    expectRefused(table.migrateVm({ vmId: V3 }), ErrorCode.VM_ALREADY_MIGRATING, 'vmId');
    expect(table.currentMigrationOf(V3)).toBe(table.migration(pending.id));
  });

  it('should start a pending migration as soon as an attempt ends, choosing its destination only then', () => {
    const { table, published } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [], [OTHER]: [] } });
    startMigration(table, V1);
    startMigration(table, V2);
    const pending = startMigration(table, V3);
    unwrap(table.registerHost({ hostId: SPARE })); // the emptiest host arrives while it waits
    expect(table.migration(pending.id)?.state).toBe(MigrationState.PENDING);
    const before = table.latestSeq;
    succeed(table, V1);

    const started = table.migration(pending.id) as Migration;
    expect(started).toMatchObject({ state: MigrationState.IN_PROGRESS, waitingReason: null, destination: { hostId: SPARE } });
    expect(started.attempts.map((a) => [a.attempt, a.destinationHostId, a.startedAt])).toEqual([[1, SPARE, started.attemptStartedAt]]);
    const start = transitionsSince(table, before).find((t) => t.migration?.id === pending.id);
    expect(start).toMatchObject({ cause: Cause.SCHEDULER, to: { status: VmStatus.MIGRATING_FROM, hostId: SOURCE } });
    expect(eventsSince(table, before).map((e) => e.type)).toContain(EventType.MIGRATION_STARTED);
    expect(ordersOf(published, pending.id).map((o) => [o.kind, o.destinationHostId, o.attempt])).toEqual([[HostCommandKind.MIGRATE, SPARE, 1]]);
  });

  it('should start a pending migration when a host becomes UP', () => {
    const { table } = createTable({ limits: ONE_IN });
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2], [DESTINATION]: [], [SPARE]: [] } });
    unwrap(table.reportHostStatus({ hostId: SPARE, status: HostStatus.MAINTENANCE }));
    startMigration(table, V1);
    const pending = startMigration(table, V2);
    expect(pending.state).toBe(MigrationState.PENDING);
    unwrap(table.reportHostStatus({ hostId: SPARE, status: HostStatus.UP }));
    expect(table.migration(pending.id)).toMatchObject({ state: MigrationState.IN_PROGRESS, destination: { hostId: SPARE } });
  });

  it('should start every migration at once with no limits (0)', () => {
    const { table } = createTable({ limits: NO_LIMITS });
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3, V4], [DESTINATION]: [] } });
    for (const vmId of [V1, V2, V3, V4]) expect(startMigration(table, vmId).state).toBe(MigrationState.IN_PROGRESS);
  });

  it('should count discovered migrations against the limits but never refuse them', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [V4], [DESTINATION]: [], [OTHER]: [] } });
    unwrap(
      report(table, SOURCE, [
        [V1, MIGRATING_FROM, { peerHostId: DESTINATION }],
        [V2, MIGRATING_FROM, { peerHostId: OTHER }],
        [V3, MIGRATING_FROM, { peerHostId: OTHER }],
      ]),
    );
    expect(inFlight(table).length).toBe(3);
    expect(startMigration(table, V4).waitingReason).toBe(`${SOURCE} has 3 of 2 outgoing migrations`);
  });

  describe('a pending migration ends without starting', () => {
    function queued() {
      // Hosts and attempts in flight stay alive while the clock moves: only the queue timeout is short.
      const t = createTable({ migrationQueueTimeoutMs: 1_000, hostTimeoutMs: DAY_MS, migrationStartTimeoutMs: DAY_MS });
      setupFleet(t.table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [], [OTHER]: [] } });
      startMigration(t.table, V1);
      startMigration(t.table, V2);
      return { ...t, pending: startMigration(t.table, V3) };
    }

    it.each(['vmId', 'migrationId'] as const)('should end CANCELLED at once on cancel by %s, with no order ever sent', (by) => {
      const { table, published, pending } = queued();
      const before = table.latestSeq;
      const cancelled = unwrap(table.cancelMigration(by === 'vmId' ? { vmId: V3 } : { migrationId: pending.id }));
      expect(cancelled).toMatchObject({ id: pending.id, state: MigrationState.CANCELLED, cancelRequested: true, waitingReason: null });
      expect(cancelled.endedAt).not.toBeNull();
      expect(ordersOf(published, pending.id)).toEqual([]);
      expect(transitionsSince(table, before)).toMatchObject([{ cause: Cause.CANCEL, to: { status: VmStatus.UP, hostId: SOURCE }, migration: { state: MigrationState.CANCELLED } }]);
      expect(eventsSince(table, before).map((e) => e.type)).toEqual([EventType.MIGRATION_CANCELLED]);
      expect(table.currentMigrationOf(V3)).toBeUndefined();
      expectRefused(table.cancelMigration({ vmId: V3 }), ErrorCode.NOT_MIGRATING, 'vmId');
    });

    it('should end FAILED with a reason when its VM goes down on its host', () => {
      const { table, pending } = queued();
      unwrap(report(table, SOURCE, [[V3, DOWN, { exitReason: 'ERROR' }]]));
      expect(table.migration(pending.id)).toMatchObject({ state: MigrationState.FAILED, reason: `VM ${V3} no longer runs UP on ${SOURCE}`, vmStatus: VmStatus.DOWN });
      expect(eventsOf(table, EventType.MIGRATION_FAILED, V3).length).toBe(1);
    });

    it('should end FAILED when another host reports its VM running', () => {
      const { table, pending } = queued();
      unwrap(report(table, OTHER, [[V3, UP]]));
      expect(table.migration(pending.id)?.state).toBe(MigrationState.FAILED);
    });

    it('should end FAILED when its host reports the VM migrating without Transit (a discovered migration)', () => {
      const { table, pending } = queued();
      unwrap(report(table, SOURCE, [[V3, MIGRATING_FROM, { peerHostId: OTHER }]]));
      expect(table.migration(pending.id)?.state).toBe(MigrationState.FAILED);
      expect(table.currentMigrationOf(V3)?.state).toBe(MigrationState.IN_PROGRESS);
      expect(table.checkConsistency()).toEqual([]);
    });

    it('should keep waiting, saying why, while its host does not answer', () => {
      const { table, pending } = queued();
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      expect(table.migration(pending.id)).toMatchObject({ state: MigrationState.PENDING, waitingReason: `source host ${SOURCE} is NON_RESPONSIVE` });
    });

    it('should end FAILED when no host is eligible any more', () => {
      const { table, pending } = queued();
      unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.MAINTENANCE }));
      expect(table.migration(pending.id)?.state).toBe(MigrationState.PENDING);
      unwrap(table.reportHostStatus({ hostId: OTHER, status: HostStatus.MAINTENANCE }));
      expect(table.migration(pending.id)).toMatchObject({ state: MigrationState.FAILED, reason: `no host in cluster default can take VM ${V3} any more` });
    });

    it('should end FAILED, by the engine, once the queue timeout passes', () => {
      const { table, clock, pending } = queued();
      clock.advance(999);
      table.tick();
      expect(table.migration(pending.id)?.state).toBe(MigrationState.PENDING);
      const before = table.latestSeq;
      clock.advance(1);
      table.tick();
      expect(table.migration(pending.id)).toMatchObject({ state: MigrationState.FAILED, reason: `waited 1 s in the queue (queue timeout); ${SOURCE} has 2 of 2 outgoing migrations` });
      expect(transitionsSince(table, before)).toMatchObject([{ cause: Cause.QUEUE_TIMEOUT, actor: ENGINE_ACTOR }]);
    });

    it('should have no queue deadline by default', () => {
      const { table, clock } = createTable({ hostTimeoutMs: 2 * DAY_MS, migrationStartTimeoutMs: 2 * DAY_MS });
      setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [], [OTHER]: [] } });
      startMigration(table, V1);
      startMigration(table, V2);
      const pending = startMigration(table, V3);
      clock.advance(DAY_MS);
      table.tick();
      expect(table.migration(pending.id)?.state).toBe(MigrationState.PENDING);
    });
  });

  describe('reruns', () => {
    it('should go back to PENDING with the next attempt when eligible hosts exist but none is free, then start when one frees', () => {
      const { table, published } = createTable({ limits: ONE_IN });
      setupFleet(table, { hosts: { [SOURCE]: [V1, V2], [DESTINATION]: [], [OTHER]: [] } });
      const m1 = startMigration(table, V1);
      startMigration(table, V2);
      expect(table.entryOf(V2)?.destination.hostId).toBe(OTHER);
      const before = table.latestSeq;
      failAttempt(table, V1);

      const waiting = table.migration(m1.id) as Migration;
      expect(waiting).toMatchObject({ state: MigrationState.PENDING, attempt: 2, waitingReason: 'no eligible destination has a free incoming slot', destination: { hostId: null } });
      expect(waiting.attempts.map((a) => [a.attempt, a.destinationHostId, a.state])).toEqual([[1, DESTINATION, MigrationState.FAILED]]);
      expect(vmOf(table, V1)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE, migrationId: null });
      expect(transitionsSince(table, before).at(-1)).toMatchObject({ cause: Cause.RERUN, to: { status: VmStatus.UP, hostId: SOURCE }, migration: { state: MigrationState.PENDING, attempt: 2 } });
      expect(eventsSince(table, before).map((e) => e.type).slice(-3)).toEqual([EventType.MIGRATION_FAILED, EventType.MIGRATION_TRYING_RERUN, EventType.MIGRATION_QUEUED]);
      expect(table.checkConsistency()).toEqual([]);

      succeed(table, V2);
      expect(table.migration(m1.id)).toMatchObject({ state: MigrationState.IN_PROGRESS, attempt: 2, destination: { hostId: OTHER } });
      expect(ordersOf(published, m1.id).map((o) => [o.kind, o.attempt, o.destinationHostId])).toEqual([
        [HostCommandKind.MIGRATE, 1, DESTINATION],
        [HostCommandKind.MIGRATE, 2, OTHER],
      ]);
    });

    it("should show a rerun's failed attempt leaving its destination before another migration starts there, so that the transitions never show a host past its limit", () => {
      const { table } = createTable({ limits: ONE_IN });
      setupFleet(table, { hosts: { [SOURCE]: [V1, V2], [DESTINATION]: [], [OTHER]: [] } });
      const m1 = startMigration(table, V1); // → DESTINATION
      const m2 = startMigration(table, V2); // → OTHER: DESTINATION has its one incoming migration
      failAttempt(table, V1); // m1 waits: OTHER, the only host it has not tried, is full
      failAttempt(table, V2); // frees OTHER: m1 (accepted first) starts there; m2 reruns to DESTINATION
      expect(table.migration(m1.id)).toMatchObject({ state: MigrationState.IN_PROGRESS, attempt: 2, destination: { hostId: OTHER } });
      expect(table.migration(m2.id)).toMatchObject({ state: MigrationState.IN_PROGRESS, attempt: 2, destination: { hostId: DESTINATION } });

      // A reader that follows the attempts in flight from the transitions alone, as a monitor does.
      const heading = new Map<string, string | null>();
      for (const t of transitionsSince(table, 0)) {
        const m = t.migration;
        if (m === null) continue;
        if (m.state === MigrationState.IN_PROGRESS) heading.set(m.id, m.destination.hostId);
        else heading.delete(m.id);
        for (const host of [DESTINATION, OTHER]) {
          expect([...heading.values()].filter((h) => h === host).length, `${host} after transition ${t.seq}`).toBeLessThanOrEqual(ONE_IN.maxIncomingPerHost);
        }
      }
    });

    it('should keep its place: a rerun starts before a migration accepted after it', () => {
      const { table } = createTable();
      setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [], [OTHER]: [], [SPARE]: [] } });
      const m1 = startMigration(table, V1);
      startMigration(table, V2);
      const m3 = startMigration(table, V3);
      expect(m3.state).toBe(MigrationState.PENDING);
      failAttempt(table, V1); // frees one of SOURCE's two outgoing slots: m1's next attempt takes it, not m3
      expect(table.migration(m1.id)).toMatchObject({ state: MigrationState.IN_PROGRESS, attempt: 2 });
      expect(table.migration(m3.id)?.state).toBe(MigrationState.PENDING);
    });
  });
});
