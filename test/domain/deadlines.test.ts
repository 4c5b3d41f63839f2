/**
 * Deadlines of an attempt in flight and the abort they order (docs/contract.md §8): progress,
 * completion per GiB, none while frozen, the outcome still from both sides' reports, no rerun.
 */
import { describe, expect, it } from 'vitest';
import { completionTimeoutMs } from '../../src/domain/rules/deadline-rules.js';
import {
  Cause,
  DecisionBlockerCode,
  ENGINE_ACTOR,
  EventType,
  HostCommandKind,
  HostStatus,
  MigrationState,
  Severity,
} from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsSince,
  MIGRATING_FROM,
  MIGRATING_TO,
  OTHER,
  report,
  setupPair,
  SOURCE,
  startMigration,
  transitionsSince,
  unwrap,
  UP,
  VM,
} from '../utils/domain.js';

const PROGRESS_MS = 1_000;
const PER_GIB_MS = 2_000;
const DAY_MS = 86_400_000;

/** A pair with short deadlines; hosts never time out and the start timeout stays out of the way. */
function deadlines(overrides: Parameters<typeof createTable>[0] = {}) {
  const t = createTable({
    hostTimeoutMs: DAY_MS,
    migrationStartTimeoutMs: DAY_MS,
    migrationProgressTimeoutMs: PROGRESS_MS,
    migrationCompletionTimeoutPerGibMs: PER_GIB_MS,
    ...overrides,
  });
  setupPair(t.table);
  return t;
}

const cancelOrders = (published: ReturnType<typeof createTable>['published']) =>
  published.flatMap((c) => c.commands).filter((c) => c.kind === HostCommandKind.CANCEL);

describe('the progress deadline', () => {
  it('should abort an attempt whose progress has not risen for the progress timeout: CANCEL order, MIGRATION_ABORTING, abortReason, ABORT_ORDERED', () => {
    const { table, clock, published } = deadlines();
    const { id } = startMigration(table);
    confirm(table, SOURCE, VM, 10);
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    clock.advance(PROGRESS_MS - 1);
    table.tick();
    expect(entry(table).abortReason).toBeNull();
    confirm(table, SOURCE, VM, 20); // it rose: counted again from now
    clock.advance(PROGRESS_MS - 1);
    table.tick();
    confirm(table, SOURCE, VM, 20); // the same progress does not count as a rise
    expect(entry(table).abortReason).toBeNull();
    const before = table.latestSeq;
    clock.advance(1);
    table.tick();

    const aborted = entry(table);
    expect(aborted).toMatchObject({ id, state: MigrationState.IN_PROGRESS, stalled: false, stalledReason: null, cancelRequested: false });
    expect(aborted.abortReason).toMatch(/^no progress for 1 s \(progress timeout 1 s, progress 20%\)$/);
    expect(aborted.blockedBy.map((b) => [b.code, b.hostId])).toEqual([[DecisionBlockerCode.ABORT_ORDERED, SOURCE]]);
    expect(cancelOrders(published).map((c) => [c.hostId, c.migrationId, c.attempt])).toEqual([[SOURCE, id, 1]]);
    expect(transitionsSince(table, before)).toMatchObject([{ cause: Cause.PROGRESS_TIMEOUT, actor: ENGINE_ACTOR, migration: { abortReason: aborted.abortReason } }]);
    const [event] = eventsSince(table, before).filter((e) => e.type === EventType.MIGRATION_ABORTING);
    expect(event).toMatchObject({ severity: Severity.WARNING, migrationId: id, actor: ENGINE_ACTOR });
    expect(event?.message).toContain(aborted.abortReason as string);
    expect(table.pendingCommands(SOURCE).map((c) => c.kind)).toEqual([HostCommandKind.MIGRATE, HostCommandKind.CANCEL]);

    clock.advance(10 * PROGRESS_MS);
    table.tick();
    expect(cancelOrders(published).length).toBe(1); // ordered once
  });

  it('should count from the confirmation, and not run before it', () => {
    const { table, clock } = deadlines({ migrationCompletionTimeoutPerGibMs: 0 });
    startMigration(table);
    clock.advance(5 * PROGRESS_MS);
    table.tick();
    expect(entry(table).abortReason).toBeNull();
    confirm(table);
    clock.advance(PROGRESS_MS);
    table.tick();
    expect(entry(table).abortReason).not.toBeNull();
  });

  it('should count a discovered entry from its discovery', () => {
    const { table, clock } = deadlines();
    clock.advance(5 * PROGRESS_MS);
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { progress: 5, peerHostId: DESTINATION }]]));
    clock.advance(PROGRESS_MS - 1);
    table.tick();
    expect(entry(table).abortReason).toBeNull();
    clock.advance(1);
    table.tick();
    expect(entry(table).abortReason).toMatch(/progress timeout/);
  });
});

describe('the completion deadline', () => {
  it('should be the per-GiB timeout times the memory, and 2 GiB when unknown or smaller', () => {
    expect(completionTimeoutMs(150_000, null)).toBe(300_000);
    expect(completionTimeoutMs(150_000, 1_024)).toBe(300_000);
    expect(completionTimeoutMs(150_000, 8_192)).toBe(1_200_000);
    expect(completionTimeoutMs(150_000, 3_072)).toBe(450_000);
  });

  it('should abort an attempt not completed within the timeout per GiB of the memoryMiB reported, from the attempt start', () => {
    const { table, clock, published } = deadlines({ migrationProgressTimeoutMs: 0 });
    unwrap(report(table, SOURCE, [[VM, UP, { memoryMiB: 4_096 }]]));
    const { id } = startMigration(table);
    confirm(table, SOURCE, VM, 1);
    clock.advance(4 * PER_GIB_MS - 1);
    table.tick();
    expect(entry(table).abortReason).toBeNull();
    clock.advance(1);
    table.tick();
    expect(entry(table).abortReason).toBe('not completed within 8 s (completion timeout 2 s per GiB × 4 GiB)');
    expect(cancelOrders(published).map((c) => c.migrationId)).toEqual([id]);
    expect(transitionsSince(table, 0).at(-1)?.cause).toBe(Cause.COMPLETION_TIMEOUT);
  });

  it('should count 2 GiB for a VM whose memory no host reported', () => {
    const { table, clock } = deadlines({ migrationProgressTimeoutMs: 0 });
    startMigration(table);
    clock.advance(2 * PER_GIB_MS);
    table.tick();
    expect(entry(table).abortReason).toMatch(/× 2 GiB/);
  });
});

describe('no deadline fires', () => {
  it('should hold every deadline while the entry is frozen, and fire once it thaws', () => {
    const { table, clock } = deadlines();
    startMigration(table);
    confirm(table);
    unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
    clock.advance(10 * PER_GIB_MS);
    table.tick();
    expect(entry(table)).toMatchObject({ stalled: true, abortReason: null });
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    table.tick();
    expect(entry(table).abortReason).not.toBeNull();
  });

  it('should not abort when the same tick freezes the entry first (a host timeout)', () => {
    const { table, clock, published } = deadlines({ hostTimeoutMs: 3 * PER_GIB_MS });
    startMigration(table);
    confirm(table);
    clock.advance(3 * PER_GIB_MS); // past the completion deadline (2 GiB × 2 s) and both hosts' timeout, in one tick
    table.tick();
    expect(entry(table)).toMatchObject({ stalled: true, abortReason: null });
    expect(cancelOrders(published)).toEqual([]);
  });

  it('should not abort once the source has let the VM go (it reports DOWN)', () => {
    const { table, clock, published } = deadlines();
    startMigration(table);
    confirm(table);
    unwrap(report(table, SOURCE, [[VM, DOWN, { exitReason: 'MIGRATION_SUCCEEDED' }]]));
    clock.advance(10 * PER_GIB_MS);
    table.tick();
    expect(entry(table).abortReason).toBeNull();
    expect(cancelOrders(published)).toEqual([]);
  });

  it('should not abort an attempt whose cancel was already asked', () => {
    const { table, clock, published } = deadlines();
    startMigration(table);
    confirm(table);
    unwrap(table.cancelMigration({ vmId: VM }));
    clock.advance(10 * PER_GIB_MS);
    table.tick();
    expect(entry(table).abortReason).toBeNull();
    expect(cancelOrders(published).length).toBe(1);
  });
});

describe('the outcome of an aborted attempt comes from the reports', () => {
  function aborted() {
    const t = deadlines();
    const m = startMigration(t.table); // engine-chosen destination, attempts left: a plain failure would be rerun
    confirm(t.table);
    t.clock.advance(PROGRESS_MS);
    t.table.tick();
    return { ...t, m, abortReason: entry(t.table).abortReason as string };
  }

  it('should end FAILED with the abort reason on row 3, and not be rerun', () => {
    const { table, published, m, abortReason } = aborted();
    unwrap(report(table, SOURCE, [[VM, UP]]));
    unwrap(report(table, DESTINATION, [[VM, DOWN, { exitReason: 'MIGRATION_FAILED' }]]));
    const done = table.migration(m.id);
    expect(done).toMatchObject({ state: MigrationState.FAILED, reason: abortReason, abortReason, attempt: 1, blockedBy: [] });
    expect(done?.attempts.map((a) => [a.attempt, a.state, a.reason])).toEqual([[1, MigrationState.FAILED, abortReason]]);
    expect(published.flatMap((c) => c.commands).filter((c) => c.kind === HostCommandKind.MIGRATE).length).toBe(1);
    expect(table.entryOf(VM)).toBeUndefined();
  });

  it('should end SUCCEEDED when the VM arrived anyway (row 2)', () => {
    const { table, m } = aborted();
    unwrap(report(table, SOURCE, [[VM, DOWN, { exitReason: 'MIGRATION_SUCCEEDED' }]]));
    unwrap(report(table, DESTINATION, [[VM, UP]]));
    expect(table.migration(m.id)).toMatchObject({ state: MigrationState.SUCCEEDED, destination: { hostId: DESTINATION } });
  });

  it('should stay in flight, ABORT_ORDERED, while the source keeps migrating after the order', () => {
    const { table, clock } = aborted();
    confirm(table, SOURCE, VM, 50);
    clock.advance(100 * PROGRESS_MS);
    table.tick();
    expect(entry(table)).toMatchObject({ state: MigrationState.IN_PROGRESS, stalled: false });
    expect(entry(table).blockedBy.map((b) => b.code)).toContain(DecisionBlockerCode.ABORT_ORDERED);
  });

  it('should accept a cancel after an abort, with no second order, and end CANCELLED on row 3', () => {
    const { table, published, m } = aborted();
    unwrap(table.cancelMigration({ migrationId: m.id }));
    expect(cancelOrders(published).length).toBe(1);
    unwrap(report(table, SOURCE, [[VM, UP]]));
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    expect(table.migration(m.id)?.state).toBe(MigrationState.CANCELLED);
  });

  it('should not free the slot of an aborted attempt before its outcome is known', () => {
    const { table, m } = aborted();
    expect(table.migration(m.id)?.state).toBe(MigrationState.IN_PROGRESS);
    expect(table.stats().inFlightByHost.get(SOURCE)).toEqual({ outgoing: 1, incoming: 0 });
    expect(table.stats().inFlightByHost.get(OTHER)).toBeUndefined();
  });
});
