/**
 * The queue (docs/contract.md §8): migrations accepted but not started, and the scheduler's
 * decisions about them, written as transitions, events and orders. The decisions themselves come
 * from the pure planner (`../scheduling/scheduler.ts`); this module only gathers its input from the
 * state and applies what it says.
 *
 * What another rule module calls:
 * - `enqueue(ctx, rec, { vmId, priority, destinationHostId, cause })` puts a new migration in the
 *   queue (an automatic destination: `destinationHostId: null`); its first transition, with `cause`,
 *   is recorded when the scheduler decides it;
 * - `reprioritize(ctx, rec, pending, priority, cause)` moves a pending migration up (an evacuation
 *   taking over a migration already queued off its host);
 * - `schedule(ctx, rec)` runs the scheduler now. The table also runs it at the end of every command
 *   that may have freed a slot or changed the queue, and on every tick, so calling it is needed
 *   only to read the outcome within the same command (as `migrateVm` does).
 */
import { messages } from '../messages.js';
import type { Migration } from '../model.js';
import { planQueue, FailureKind, VmOnSource, type QueuedMigration, type SchedulerDecision, type SchedulerHost } from '../scheduling/scheduler.js';
import { vmStateOf, type Recording } from '../table/recording.js';
import { notHeard, type TableContext } from '../table/table-context.js';
import type { HostRecord, VmRecord } from '../table/table-state.js';
import {
  Cause,
  DestinationChoice,
  EventType,
  HostCommandKind,
  MigrationState,
  VmLocation,
  VmStatus,
  type MigrationPriority,
} from '../vocabulary.js';
import { evaluated, putEntryAndVm } from './entry-store.js';

export interface EnqueueRequest {
  /** The VM to move: UP on a responsive host, with no current migration (the caller checks). */
  readonly vmId: string;
  readonly priority: MigrationPriority;
  /** A destination the user named; null: automatic, chosen when the attempt starts. */
  readonly destinationHostId: string | null;
  /** The cause of the migration's first transition (`MIGRATE_COMMAND`, an evacuation's, ...). */
  readonly cause: Cause;
}

/** Puts a new migration (attempt 1) in the queue; the scheduler decides it at its next run. */
export function enqueue(ctx: TableContext, rec: Recording, request: EnqueueRequest): Migration {
  const vm = ctx.state.vms.get(request.vmId) as VmRecord;
  const ordinal = ctx.state.nextMigrationOrdinal();
  const migration: Migration = {
    id: `${ctx.settings.epoch}-m${ordinal}`,
    ordinal,
    vmId: vm.id,
    source: notHeard(vm.hostId),
    destination: notHeard(request.destinationHostId),
    destinationChoice: request.destinationHostId === null ? DestinationChoice.ENGINE : DestinationChoice.USER,
    vmStatus: VmStatus.UP,
    location: VmLocation.SOURCE,
    state: MigrationState.PENDING,
    stalled: false,
    stalledReason: null,
    cancelRequested: false,
    sourceConfirmed: false,
    attempt: 1,
    attempts: [],
    progress: null,
    startedAt: rec.now,
    attemptStartedAt: rec.now,
    endedAt: null,
    reason: null,
    runningOnBoth: false,
    priority: request.priority,
    waitingReason: null,
    queuedAt: rec.now,
    abortReason: null,
    progressAt: null,
    blockedBy: [],
  };
  ctx.state.putPending(migration);
  rec.admissions.set(migration.id, { cause: request.cause, rerun: false });
  return migration;
}

/**
 * Puts the next attempt of a migration whose attempt just failed back in the queue (§4 rerun, §8:
 * it waits for slots like any migration, keeping its place). Its VM leaves the table only if the
 * scheduler does not start the attempt at once.
 */
export function requeue(ctx: TableContext, rec: Recording, next: Migration): void {
  ctx.state.putPending(next);
  rec.admissions.set(next.id, { cause: Cause.RERUN, rerun: true });
}

/** Gives a pending migration another priority (one transition, with `cause`); the scheduler runs at the end of the command. */
export function reprioritize(ctx: TableContext, rec: Recording, pending: Migration, priority: MigrationPriority, cause: Cause): Migration {
  if (pending.state !== MigrationState.PENDING || pending.priority === priority) return pending;
  const next: Migration = { ...pending, priority };
  putPendingAndVm(ctx, rec, next, cause);
  ctx.state.schedulerDue = true;
  return next;
}

/** Ends a pending migration CANCELLED at once: no order was ever sent, nothing to abort. */
export function cancelPending(ctx: TableContext, rec: Recording, pending: Migration): Migration {
  const done = endPending(ctx, rec, { ...pending, cancelRequested: true }, MigrationState.CANCELLED, 'cancelled before it started; no order was sent', Cause.CANCEL);
  rec.event(EventType.MIGRATION_CANCELLED, messages.pendingCancelled(done), done);
  return done;
}

/** Runs the scheduler over the whole queue: starts what the limits allow, ends what can never start, says why the rest waits. */
export function schedule(ctx: TableContext, rec: Recording, cause: Cause = Cause.SCHEDULER): void {
  const { state } = ctx;
  if (state.pending.size > 0) {
    const queue = [...state.pending.values()];
    const byId = new Map(queue.map((m) => [m.id, m]));
    const decisions = planQueue({
      queue: queue.map((m) => queued(ctx, m)),
      ...capacity(ctx, queue),
      limits: ctx.settings.limits,
      now: rec.now,
      queueTimeoutMs: ctx.settings.migrationQueueTimeoutMs,
    });
    // A rerun queued by this command still shows its failed attempt in flight to readers of the
    // transitions: its decision is recorded first, so that its attempt has left its destination in
    // the stream before another migration starts there. The decisions stay the planner's, in its order.
    const reruns = decisions.filter((d) => rec.admissions.get(d.migrationId)?.rerun === true);
    const others = decisions.filter((d) => rec.admissions.get(d.migrationId)?.rerun !== true);
    for (const decision of [...reruns, ...others]) apply(ctx, rec, byId.get(decision.migrationId) as Migration, decision, cause);
  }
  state.schedulerDue = false;
}

/** The planner's view of a pending migration. */
function queued(ctx: TableContext, m: Migration): QueuedMigration {
  const vm = ctx.state.vms.get(m.vmId) as VmRecord;
  const sourceHostId = m.source.hostId as string;
  return {
    id: m.id,
    vmId: m.vmId,
    priority: m.priority,
    order: m.ordinal,
    sourceHostId,
    destinationHostId: m.destinationChoice === DestinationChoice.USER ? m.destination.hostId : null,
    excluded: new Set(m.attempts.map((a) => a.destinationHostId).filter((h): h is string => h !== null)),
    vm: vmOnSource(vm, m, sourceHostId),
    queuedAt: m.queuedAt ?? m.startedAt,
  };
}

function vmOnSource(vm: VmRecord, m: Migration, sourceHostId: string): VmOnSource {
  // A rerun queued by this command: its VM still shows the failed attempt, which leaves it UP on the source.
  if (vm.migrationId === m.id) return VmOnSource.UP;
  if (vm.migrationId !== null || vm.hostId !== sourceHostId) return VmOnSource.GONE;
  if (vm.status === VmStatus.UP) return VmOnSource.UP;
  return vm.status === VmStatus.UNKNOWN ? VmOnSource.UNKNOWN : VmOnSource.GONE;
}

/** Every host of the clusters the queue's sources belong to, with what is in flight there. */
function capacity(ctx: TableContext, queue: readonly Migration[]): { hosts: Map<string, SchedulerHost>; clusterInFlight: Map<string, number> } {
  const { state } = ctx;
  const clusters = new Set<string>();
  for (const m of queue) {
    const source = state.hosts.get(m.source.hostId as string);
    if (source !== undefined) clusters.add(source.cluster);
  }
  const hosts = new Map<string, SchedulerHost>();
  const clusterInFlight = new Map<string, number>();
  for (const cluster of clusters) {
    clusterInFlight.set(cluster, state.inFlightInCluster(cluster));
    for (const id of state.hostIdsInCluster(cluster)) {
      const host = state.hosts.get(id) as HostRecord;
      hosts.set(id, { id, cluster: host.cluster, status: host.status, load: state.loadOf(id), outgoing: state.outgoingOf(id), incoming: state.incomingOf(id) });
    }
  }
  return { hosts, clusterInFlight };
}

function apply(ctx: TableContext, rec: Recording, m: Migration, decision: SchedulerDecision, cause: Cause): void {
  const admission = rec.admissions.get(m.id);
  rec.admissions.delete(m.id);
  const causeNow = admission?.cause ?? cause;
  switch (decision.kind) {
    case 'START':
      return start(ctx, rec, m, decision.destinationHostId, causeNow, admission?.rerun === true);
    case 'WAIT': {
      if (admission === undefined && m.waitingReason === decision.reason) return; // nothing changed
      const next: Migration = { ...m, waitingReason: decision.reason };
      if (admission?.rerun === true) rec.event(EventType.MIGRATION_TRYING_RERUN, messages.rerunWaits(next, decision.reason), next);
      putPendingAndVm(ctx, rec, next, causeNow);
      if (admission !== undefined) rec.event(EventType.MIGRATION_QUEUED, messages.queued(next, decision.reason), next);
      return;
    }
    case 'FAIL': {
      if (decision.failure === FailureKind.NO_ELIGIBLE_HOST && m.attempt > 1) rec.event(EventType.MIGRATION_NO_HOST_FOR_RERUN, messages.noHostForRerun(m), m);
      const failCause = decision.failure === FailureKind.QUEUE_TIMEOUT ? Cause.QUEUE_TIMEOUT : causeNow;
      const done = endPending(ctx, rec, m, MigrationState.FAILED, decision.reason, failCause);
      rec.event(EventType.MIGRATION_FAILED, messages.pendingFailed(done, decision.reason), done);
      return;
    }
  }
}

/** The attempt leaves the queue: into the table, with a migrate order for the source. */
function start(ctx: TableContext, rec: Recording, m: Migration, destinationHostId: string, cause: Cause, rerun: boolean): void {
  const sourceId = m.source.hostId as string;
  const entry = evaluated(
    ctx,
    {
      ...m,
      state: MigrationState.IN_PROGRESS,
      source: notHeard(sourceId),
      destination: notHeard(destinationHostId),
      sourceConfirmed: false,
      attempts: [...m.attempts, { attempt: m.attempt, destinationHostId, state: MigrationState.IN_PROGRESS, startedAt: rec.now, endedAt: null, reason: null }],
      attemptStartedAt: rec.now,
      progress: null,
      progressAt: null,
      abortReason: null,
      waitingReason: null,
      queuedAt: null,
      vmStatus: VmStatus.MIGRATING_FROM,
      location: VmLocation.SOURCE,
      runningOnBoth: false,
    },
    rec.now,
  );
  if (rerun) rec.event(EventType.MIGRATION_TRYING_RERUN, messages.tryingRerun(entry, destinationHostId), entry);
  rec.command(HostCommandKind.MIGRATE, entry);
  putEntryAndVm(ctx, rec, cause, entry, sourceId);
  if (!rerun) rec.event(EventType.MIGRATION_STARTED, messages.migrationStarted(entry), entry);
}

/** Stores a pending snapshot; a VM still in the table for it (a rerun that waits) goes back to UP on its source. One transition. */
function putPendingAndVm(ctx: TableContext, rec: Recording, next: Migration, cause: Cause): void {
  const vm = ctx.state.vms.get(next.vmId) as VmRecord;
  const before = vmStateOf(vm);
  ctx.state.putPending(next);
  if (vm.migrationId === next.id) ctx.state.updateVm(vm, { status: VmStatus.UP, hostId: next.source.hostId, location: null, migrationId: null, statusBeforeUnknown: null });
  rec.vm(cause, vm, before, next.source.hostId, next);
}

/** A pending migration ends without starting: into the history; its VM stays where it is. */
function endPending(ctx: TableContext, rec: Recording, m: Migration, outcome: MigrationState, reason: string, cause: Cause): Migration {
  const vm = ctx.state.vms.get(m.vmId) as VmRecord;
  const before = vmStateOf(vm);
  if (vm.migrationId === m.id) ctx.state.updateVm(vm, { status: VmStatus.UP, hostId: m.source.hostId, location: null, migrationId: null, statusBeforeUnknown: null });
  const done: Migration = {
    ...m,
    state: outcome,
    vmStatus: vm.status,
    location: vm.hostId !== null && vm.hostId === m.source.hostId ? VmLocation.SOURCE : null,
    waitingReason: null,
    queuedAt: null,
    endedAt: rec.now,
    reason,
  };
  ctx.state.archiveEntry(done);
  rec.vm(cause, vm, before, m.source.hostId, done);
  return done;
}
