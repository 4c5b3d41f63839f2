/**
 * The life of an entry of the migration table: it starts (from the queue, `queue-rules.ts`, or
 * found in a report), is evaluated again after every change (`settle`), stays in flight, goes back
 * to the queue for a rerun on another host (§4, §8), or ends and leaves the table with its VM where
 * the outcome says.
 */
import { evaluate, type Evaluation } from '../evaluate.js';
import { messages } from '../messages.js';
import type { DecisionBlocker, Migration, Side, VmState } from '../model.js';
import { vmStateOf, type Recording } from '../table/recording.js';
import { notHeard, type TableContext } from '../table/table-context.js';
import type { VmRecord } from '../table/table-state.js';
import type { Cause } from '../vocabulary.js';
import { DEFAULT_CLUSTER, DestinationChoice, EventType, MigrationPriority, MigrationState, Severity, VmLocation, VmStatus } from '../vocabulary.js';
import { eligibleHostExists, putEntryAndVm, viewOf, withEvaluation } from './entry-store.js';
import { requeue, schedule } from './queue-rules.js';

export { putEntryAndVm, viewOf } from './entry-store.js';

/** A discovered entry's first attempt, in progress, not yet stored. */
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
    priority: MigrationPriority.NORMAL,
    waitingReason: null,
    queuedAt: null,
    abortReason: null,
    // Progress and completion deadlines of a discovered entry count from its discovery (§8).
    progressAt: init.sourceConfirmed ? rec.now : null,
    blockedBy: [],
  };
}

/** Evaluates the VM's entry again, if it still has one (a host's status changed). */
export function reevaluate(ctx: TableContext, rec: Recording, vmId: string, cause: Cause, hostId: string): void {
  const entry = ctx.state.entries.get(vmId);
  if (entry !== undefined) settle(ctx, rec, entry, cause, hostId);
}

/** The entry with its current attempt naming the entry's destination (a discovered entry adopts it late). */
function withAttemptDestination(entry: Migration): Migration {
  const current = entry.attempts[entry.attempts.length - 1];
  if (current === undefined || current.destinationHostId === entry.destination.hostId) return entry;
  return { ...entry, attempts: [...entry.attempts.slice(0, -1), { ...current, destinationHostId: entry.destination.hostId }] };
}

/** Evaluates an entry's next snapshot and either keeps it in flight or ends it as the table decides. */
export function settle(ctx: TableContext, rec: Recording, next: Migration, cause: Cause, hostId: string | null): void {
  // A destination adopted by the very report that decides is the attempt's too (issue 12, item 11).
  const candidate = withAttemptDestination(next);
  const verdict = evaluate(viewOf(ctx, candidate, rec.now));
  if (verdict.outcome === MigrationState.IN_PROGRESS) return keepInFlight(ctx, rec, candidate, verdict, cause, hostId);
  const outcome = verdict.outcome === MigrationState.FAILED && candidate.cancelRequested ? MigrationState.CANCELLED : verdict.outcome;
  // An aborted attempt is not rerun: a VM that does not converge will not converge elsewhere (§8).
  if (outcome === MigrationState.FAILED && candidate.destinationChoice === DestinationChoice.ENGINE && candidate.abortReason === null) {
    if (rerun(ctx, rec, candidate, cause, hostId)) return;
  }
  finish(ctx, rec, candidate, outcome, cause, hostId, reasonOf(outcome, candidate));
}

function keepInFlight(ctx: TableContext, rec: Recording, candidate: Migration, verdict: Evaluation, cause: Cause, hostId: string | null): void {
  const next = withEvaluation(candidate, verdict);
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

/**
 * Tries the migration again on another host (§4): the next attempt goes back to the queue, keeping
 * the migration's place, and the scheduler starts it at once when a free eligible host and the
 * limits allow, or it waits PENDING (§8). False when no host is eligible or no attempt is left.
 */
function rerun(ctx: TableContext, rec: Recording, failed: Migration, cause: Cause, hostId: string | null): boolean {
  const sourceId = failed.source.hostId as string;
  const cluster = ctx.state.hosts.get(sourceId)?.cluster ?? DEFAULT_CLUSTER;
  const tried = new Set(failed.attempts.map((a) => a.destinationHostId).filter((h): h is string => h !== null));
  const attemptsLeft = failed.attempts.length < ctx.settings.maxAttempts;
  if (!attemptsLeft || !eligibleHostExists(ctx, sourceId, cluster, tried)) {
    if (attemptsLeft) rec.event(EventType.MIGRATION_NO_HOST_FOR_RERUN, messages.noHostForRerun(failed), failed);
    return false;
  }
  const reason = reasonOf(MigrationState.FAILED, failed);
  rec.event(EventType.MIGRATION_FAILED, messages.migrationFailed(failed, reason), failed);
  const attempts = failed.attempts.map((a, i) => (i === failed.attempts.length - 1 ? { ...a, state: MigrationState.FAILED, endedAt: rec.now, reason } : a));
  // The transition of the failed report comes first, then the rerun.
  putEntryAndVm(ctx, rec, cause, { ...failed, attempts, vmStatus: VmStatus.MIGRATING_FROM, location: VmLocation.SOURCE }, hostId);
  requeue(ctx, rec, {
    ...failed,
    state: MigrationState.PENDING,
    source: notHeard(sourceId),
    destination: notHeard(null),
    sourceConfirmed: false,
    attempt: failed.attempt + 1,
    attempts,
    progress: null,
    progressAt: null,
    abortReason: null,
    vmStatus: VmStatus.UP,
    location: VmLocation.SOURCE,
    stalled: false,
    stalledReason: null,
    runningOnBoth: false,
    blockedBy: [],
    waitingReason: null,
    queuedAt: rec.now,
  });
  schedule(ctx, rec);
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
    blockedBy: [],
    waitingReason: null,
    queuedAt: null,
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
      // Aborted by Transit (a passed deadline): the outcome says so in the abort's own words (§8).
      if (entry.abortReason !== null) return entry.abortReason;
      return `the VM still runs on the source and the destination reports it down${entry.destination.exitReason ? ` (${entry.destination.exitReason})` : ''}`;
  }
}

const sameSide = (a: Side, b: Side): boolean => a.hostId === b.hostId && a.report === b.report && a.fenced === b.fenced && a.exitReason === b.exitReason;

/** Equal in everything a reader sees (a side's `heardOrder` is bookkeeping). */
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
    a.attempt === b.attempt &&
    a.abortReason === b.abortReason &&
    sameBlockers(a.blockedBy, b.blockedBy)
  );
}

/** Whether two lists of what blocks a decision say the same (`blockedBy` is read by users: §10). Shared lists (evaluate.ts) compare at once. */
export const sameBlockers = (a: readonly DecisionBlocker[], b: readonly DecisionBlocker[]): boolean =>
  a === b || (a.length === b.length && a.every((x, i) => x.code === b[i]?.code && x.hostId === b[i]?.hostId && x.message === b[i]?.message));
