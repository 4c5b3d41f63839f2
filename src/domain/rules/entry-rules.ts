/**
 * The life of an entry of the migration table: it starts, is evaluated again after every change
 * (`settle`), stays in flight, is rerun on another host (§4), or ends and leaves the table with
 * its VM where the outcome says.
 */
import { evaluate, type EntryView, type Evaluation } from '../evaluate.js';
import { messages } from '../messages.js';
import type { Migration, Millis, Side, VmState } from '../model.js';
import { chooseDestination } from '../scheduling/placement.js';
import { vmStateOf, type Recording } from '../table/recording.js';
import { notHeard, type TableContext } from '../table/table-context.js';
import type { HostRecord, VmRecord } from '../table/table-state.js';
import { Cause, DEFAULT_CLUSTER, DestinationChoice, EventType, HostCommandKind, MigrationState, Severity, VmLocation, VmStatus, type HostStatus } from '../vocabulary.js';

/** A side's host's status; null when the side or its host is not known. */
function statusOf(ctx: TableContext, id: string | null): HostStatus | null {
  return id === null ? null : (ctx.state.hosts.get(id)?.status ?? null);
}

/** The entry as the decision rules see it now: its sides, their hosts' status, and the clock. */
export function viewOf(ctx: TableContext, entry: Migration, now: Millis): EntryView {
  return {
    source: entry.source,
    destination: entry.destination,
    sourceHostStatus: statusOf(ctx, entry.source.hostId),
    destinationHostStatus: statusOf(ctx, entry.destination.hostId),
    sourceConfirmed: entry.sourceConfirmed,
    confirmationOverdue:
      entry.destinationChoice !== DestinationChoice.DISCOVERED && now - entry.attemptStartedAt >= ctx.settings.migrationStartTimeoutMs,
  };
}

/** The host Transit picks for a migration from `sourceId` (§4), or null when none is eligible. */
export function chooseFor(ctx: TableContext, sourceId: string, cluster: string, excluded: ReadonlySet<string>): string | null {
  const candidates = [...ctx.state.hostIdsInCluster(cluster)].map((id) => {
    const host = ctx.state.hosts.get(id) as HostRecord;
    return { id, cluster: host.cluster, status: host.status, load: ctx.state.loadOf(id) };
  });
  return chooseDestination(candidates, { sourceHostId: sourceId, cluster, excluded });
}

/** A first attempt, in progress, not yet stored. */
export function newEntry(
  ctx: TableContext,
  rec: Recording,
  vm: VmRecord,
  init: Pick<Migration, 'source' | 'destination' | 'destinationChoice' | 'sourceConfirmed'> & { progress?: number | null },
): Migration {
  const ordinal = ctx.state.nextMigrationOrdinal();
  return {
    id: `${ctx.settings.epoch}-m${ordinal}`,
    ordinal,
    vmId: vm.id,
    source: init.source,
    destination: init.destination,
    destinationChoice: init.destinationChoice,
    vmStatus: VmStatus.MIGRATING_FROM,
    location: VmLocation.SOURCE,
    state: MigrationState.IN_PROGRESS,
    stalled: false,
    stalledReason: null,
    cancelRequested: false,
    sourceConfirmed: init.sourceConfirmed,
    attempt: 1,
    attempts: [{ attempt: 1, destinationHostId: init.destination.hostId, state: MigrationState.IN_PROGRESS, startedAt: rec.now, endedAt: null, reason: null }],
    progress: init.progress ?? null,
    startedAt: rec.now,
    attemptStartedAt: rec.now,
    endedAt: null,
    reason: null,
    runningOnBoth: false,
  };
}

/** Stores an in-flight snapshot and moves its VM to MIGRATING_FROM at the source; one transition. */
export function putEntryAndVm(ctx: TableContext, rec: Recording, cause: Cause, entry: Migration, hostId: string | null): void {
  // A newly adopted destination also becomes the current attempt's destination.
  const current = entry.attempts[entry.attempts.length - 1];
  const next =
    current !== undefined && current.destinationHostId !== entry.destination.hostId
      ? { ...entry, attempts: [...entry.attempts.slice(0, -1), { ...current, destinationHostId: entry.destination.hostId }] }
      : entry;
  const vm = ctx.state.vms.get(next.vmId) as VmRecord;
  const before = vmStateOf(vm);
  ctx.state.putEntry(next);
  ctx.state.updateVm(vm, { status: VmStatus.MIGRATING_FROM, hostId: next.source.hostId, location: VmLocation.SOURCE, migrationId: next.id, statusBeforeUnknown: null });
  rec.vm(cause, vm, before, hostId, next);
}

/** Evaluates the VM's entry again, if it still has one (a host's status changed). */
export function reevaluate(ctx: TableContext, rec: Recording, vmId: string, cause: Cause, hostId: string): void {
  const entry = ctx.state.entries.get(vmId);
  if (entry !== undefined) settle(ctx, rec, entry, cause, hostId);
}

/** Evaluates an entry's next snapshot and either keeps it in flight or ends it as the table decides. */
export function settle(ctx: TableContext, rec: Recording, candidate: Migration, cause: Cause, hostId: string | null): void {
  const verdict = evaluate(viewOf(ctx, candidate, rec.now));
  if (verdict.outcome === MigrationState.IN_PROGRESS) return keepInFlight(ctx, rec, candidate, verdict, cause, hostId);
  const outcome = verdict.outcome === MigrationState.FAILED && candidate.cancelRequested ? MigrationState.CANCELLED : verdict.outcome;
  if (outcome === MigrationState.FAILED && candidate.destinationChoice === DestinationChoice.ENGINE) {
    if (rerun(ctx, rec, candidate, cause, hostId)) return;
  }
  finish(ctx, rec, candidate, outcome, cause, hostId, reasonOf(outcome, candidate));
}

function keepInFlight(ctx: TableContext, rec: Recording, candidate: Migration, verdict: Evaluation, cause: Cause, hostId: string | null): void {
  const next: Migration = {
    ...candidate,
    vmStatus: verdict.vmStatus,
    location: verdict.location,
    stalled: verdict.stalled,
    stalledReason: verdict.stalledReason,
    runningOnBoth: verdict.runningOnBoth,
  };
  const previous = ctx.state.migrations.get(next.id);
  if (next.stalled && (previous === undefined || !previous.stalled || previous.stalledReason !== next.stalledReason)) {
    rec.event(EventType.MIGRATION_STALLED, messages.stalled(next), next);
  }
  if (next.runningOnBoth && previous?.runningOnBoth !== true) {
    rec.event(EventType.VM_RUNNING_ON_BOTH_HOSTS, messages.runningOnBoth(next.vmId, next.source.hostId ?? '?', next.destination.hostId ?? '?'), next);
  }
  if (previous !== undefined && sameEntry(previous, next)) {
    // A side repeated itself: keep when it was heard (row 1 compares it), but nothing visible changed.
    ctx.state.putEntry(next);
    return;
  }
  putEntryAndVm(ctx, rec, cause, next, hostId);
}

/** Starts the next attempt on another host (§4); false when there is none to try. */
function rerun(ctx: TableContext, rec: Recording, failed: Migration, cause: Cause, hostId: string | null): boolean {
  const sourceId = failed.source.hostId as string;
  const cluster = ctx.state.hosts.get(sourceId)?.cluster ?? DEFAULT_CLUSTER;
  const tried = new Set(failed.attempts.map((a) => a.destinationHostId).filter((h): h is string => h !== null));
  const attemptsLeft = failed.attempts.length < ctx.settings.maxAttempts;
  const nextHost = attemptsLeft ? chooseFor(ctx, sourceId, cluster, tried) : null;
  if (nextHost === null) {
    if (attemptsLeft) rec.event(EventType.MIGRATION_NO_HOST_FOR_RERUN, messages.noHostForRerun(failed), failed);
    return false;
  }
  const reason = reasonOf(MigrationState.FAILED, failed);
  rec.event(EventType.MIGRATION_FAILED, messages.migrationFailed(failed, reason), failed);
  rec.event(EventType.MIGRATION_TRYING_RERUN, messages.tryingRerun(failed, nextHost), failed);
  const attempts = failed.attempts.map((a, i) => (i === failed.attempts.length - 1 ? { ...a, state: MigrationState.FAILED, endedAt: rec.now, reason } : a));
  const attempt = failed.attempt + 1;
  const next: Migration = {
    ...failed,
    source: notHeard(sourceId),
    destination: notHeard(nextHost),
    sourceConfirmed: false,
    attempt,
    attempts: [...attempts, { attempt, destinationHostId: nextHost, state: MigrationState.IN_PROGRESS, startedAt: rec.now, endedAt: null, reason: null }],
    progress: null,
    attemptStartedAt: rec.now,
    vmStatus: VmStatus.MIGRATING_FROM,
    location: VmLocation.SOURCE,
    stalled: false,
    stalledReason: null,
    runningOnBoth: false,
  };
  rec.command(HostCommandKind.MIGRATE, next);
  // The transition of the failed report comes first, then the rerun.
  putEntryAndVm(ctx, rec, cause, { ...failed, attempts, vmStatus: VmStatus.MIGRATING_FROM, location: VmLocation.SOURCE }, hostId);
  putEntryAndVm(ctx, rec, Cause.RERUN, next, sourceId);
  return true;
}

/** Ends a migration: out of the table, into history; the VM lands where the outcome says. */
export function finish(ctx: TableContext, rec: Recording, entry: Migration, outcome: MigrationState, cause: Cause, hostId: string | null, reason: string): void {
  const vm = ctx.state.vms.get(entry.vmId) as VmRecord;
  const before = vmStateOf(vm);
  const landed: VmState =
    outcome === MigrationState.SUCCEEDED
      ? { status: VmStatus.UP, hostId: entry.destination.hostId, location: null }
      : outcome === MigrationState.VM_DOWN
        ? { status: VmStatus.DOWN, hostId: null, location: null }
        : { status: VmStatus.UP, hostId: entry.source.hostId, location: null };
  const done: Migration = {
    ...entry,
    state: outcome,
    vmStatus: landed.status,
    location: outcome === MigrationState.SUCCEEDED ? VmLocation.DESTINATION : outcome === MigrationState.VM_DOWN ? null : VmLocation.SOURCE,
    stalled: false,
    stalledReason: null,
    runningOnBoth: false,
    endedAt: rec.now,
    reason,
    attempts: entry.attempts.map((a, i) => (i === entry.attempts.length - 1 ? { ...a, state: outcome, endedAt: rec.now, reason } : a)),
  };
  ctx.state.archiveEntry(done);
  ctx.state.updateVm(vm, { status: landed.status, hostId: landed.hostId, location: landed.location, migrationId: null, statusBeforeUnknown: null });
  rec.vm(cause, vm, before, hostId, done);
  switch (outcome) {
    case MigrationState.SUCCEEDED:
      rec.event(EventType.MIGRATION_SUCCEEDED, messages.migrationSucceeded(done), done);
      break;
    case MigrationState.FAILED:
      rec.event(EventType.MIGRATION_FAILED, messages.migrationFailed(done, reason), done);
      break;
    case MigrationState.CANCELLED:
      rec.event(EventType.MIGRATION_CANCELLED, messages.migrationCancelled(done), done);
      break;
    case MigrationState.VM_DOWN:
      rec.event(EventType.VM_DOWN, messages.migrationVmDown(done), done, done.vmId, hostId, Severity.ERROR);
      break;
  }
}

function reasonOf(outcome: MigrationState, entry: Migration): string {
  switch (outcome) {
    case MigrationState.SUCCEEDED:
      return 'the source let the VM go and the destination runs it';
    case MigrationState.VM_DOWN:
      return 'both hosts report the VM down';
    case MigrationState.CANCELLED:
      return 'cancelled; the VM still runs on the source';
    default:
      return `the VM still runs on the source and the destination reports it down${entry.destination.exitReason ? ` (${entry.destination.exitReason})` : ''}`;
  }
}

const sameSide = (a: Side, b: Side): boolean => a.hostId === b.hostId && a.report === b.report && a.fenced === b.fenced && a.exitReason === b.exitReason;

/** Equal in everything a reader sees (a side's `heardAt` is bookkeeping). */
function sameEntry(a: Migration, b: Migration): boolean {
  return (
    sameSide(a.source, b.source) &&
    sameSide(a.destination, b.destination) &&
    a.sourceConfirmed === b.sourceConfirmed &&
    a.cancelRequested === b.cancelRequested &&
    a.progress === b.progress &&
    a.stalled === b.stalled &&
    a.stalledReason === b.stalledReason &&
    a.runningOnBoth === b.runningOnBoth &&
    a.vmStatus === b.vmStatus &&
    a.location === b.location &&
    a.attempt === b.attempt
  );
}
