/**
 * What the entry rules and the queue rules share, below both: how an entry is seen by the
 * decision rules, how its evaluation is written into it, and how a snapshot is stored with its VM.
 */
import { evaluate, isTrusted, type EntryView, type Evaluation } from '../evaluate.js';
import type { Migration, Millis, Side } from '../model.js';
import { isEligible } from '../scheduling/placement.js';
import { vmStateOf, type Recording } from '../table/recording.js';
import type { TableContext } from '../table/table-context.js';
import type { HostRecord, VmRecord } from '../table/table-state.js';
import { DestinationChoice, VmLocation, VmStatus, type Cause, type HostStatus } from '../vocabulary.js';

/** A side's host's status; null when the side or its host is not known (a named function: tsx's keepNames would define a closure's name at every call). */
function statusOf(ctx: TableContext, id: string | null): HostStatus | null {
  return id === null ? null : (ctx.state.hosts.get(id)?.status ?? null);
}

/** The side is known and believed now: set by a fence, or its host responsive (§2, as `evaluate` judges it). */
export const isTrustedNow = (ctx: TableContext, side: Side): boolean => side.hostId !== null && isTrusted(side, statusOf(ctx, side.hostId));

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
    abortOrdered: abortOrderOf(entry),
  };
}

/** Why the source was ordered to abort this attempt (a deadline, or a cancel); null when it was not. */
export const abortOrderOf = (entry: Migration): string | null => entry.abortReason ?? (entry.cancelRequested ? 'cancel requested' : null);

/** The entry with what an evaluation that keeps it in flight says about it. */
export const withEvaluation = (entry: Migration, verdict: Evaluation): Migration => ({
  ...entry,
  vmStatus: verdict.vmStatus,
  location: verdict.location,
  stalled: verdict.stalled,
  stalledReason: verdict.stalledReason,
  runningOnBoth: verdict.runningOnBoth,
  blockedBy: verdict.blockedBy,
});

/** The entry evaluated now, for a snapshot that is stored without a decision (an attempt just started). */
export const evaluated = (ctx: TableContext, entry: Migration, now: Millis): Migration => withEvaluation(entry, evaluate(viewOf(ctx, entry, now)));

/** Whether any host could take a migration from `sourceId` (limits aside): UP, same cluster, not the source, not excluded. */
export function eligibleHostExists(ctx: TableContext, sourceId: string, cluster: string, excluded: ReadonlySet<string>): boolean {
  const request = { sourceHostId: sourceId, cluster, excluded };
  for (const id of ctx.state.hostIdsInCluster(cluster)) if (isEligible(ctx.state.hosts.get(id) as HostRecord, request)) return true;
  return false;
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
