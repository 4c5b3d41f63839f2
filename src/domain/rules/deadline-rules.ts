/**
 * Deadlines of an attempt in flight beyond the start timeout (docs/contract.md §8): progress (the
 * source confirmed but its progress has not risen for `migrationProgressTimeoutMs`) and completion
 * (`migrationCompletionTimeoutPerGibMs` per GiB of the VM's memory, at least 2 GiB, from the
 * attempt's start). A passed deadline orders the source to abort: a CANCEL order, a
 * `MIGRATION_ABORTING` event and `abortReason`. The outcome still comes only from the two sides'
 * reports (`settle`); an aborted attempt that fails is not rerun.
 *
 * None fires while the entry is frozen (a side not responding, not registered or not known), once
 * the source has let the VM go (its report is DOWN: nothing is left to abort), or once an abort or a
 * cancel was ordered.
 */
import { messages } from '../messages.js';
import type { Migration, Millis } from '../model.js';
import type { Recording } from '../table/recording.js';
import type { TableContext } from '../table/table-context.js';
import { Cause, EventType, HostCommandKind, ReportedVmStatus } from '../vocabulary.js';
import { settle } from './entry-rules.js';
import { isTrustedNow } from './entry-store.js';

/** Memory counted for a VM whose size is unknown or smaller (as Nova). */
export const MIN_COMPLETION_GIB = 2;

export interface DueDeadline {
  readonly vmId: string;
  readonly migrationId: string;
  readonly attempt: number;
  readonly cause: typeof Cause.PROGRESS_TIMEOUT | typeof Cause.COMPLETION_TIMEOUT;
  readonly reason: string;
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/** The completion deadline of an attempt of a VM with this memory, in ms (0: none). */
export function completionTimeoutMs(perGibMs: number, memoryMiB: number | null): number {
  return perGibMs * Math.max(MIN_COMPLETION_GIB, (memoryMiB ?? 0) / 1024);
}

/** Every attempt in flight whose progress or completion deadline has passed at `now`, and why. */
export function dueDeadlines(ctx: TableContext, now: Millis): DueDeadline[] {
  if (ctx.settings.migrationProgressTimeoutMs === 0 && ctx.settings.migrationCompletionTimeoutPerGibMs === 0) return [];
  const due: DueDeadline[] = [];
  for (const entry of ctx.state.entries.values()) {
    const passed = deadlineOf(ctx, entry, now);
    if (passed !== null) due.push({ vmId: entry.vmId, migrationId: entry.id, attempt: entry.attempt, ...passed });
  }
  return due;
}

/**
 * Orders the source to abort an attempt whose deadline passed. Checked again when applied: what the
 * same tick did before (a host timeout freezing the entry, a start timeout ending it) wins.
 */
export function abortOverdue(ctx: TableContext, rec: Recording, due: DueDeadline): void {
  const entry = ctx.state.entries.get(due.vmId);
  if (entry === undefined || entry.id !== due.migrationId || entry.attempt !== due.attempt) return;
  const passed = deadlineOf(ctx, entry, rec.now);
  if (passed === null) return;
  const next: Migration = { ...entry, abortReason: passed.reason };
  rec.command(HostCommandKind.CANCEL, next);
  settle(ctx, rec, next, passed.cause, next.source.hostId);
  rec.event(EventType.MIGRATION_ABORTING, messages.aborting(next, passed.reason), next);
}

/** The deadline of this attempt that has passed at `now`, with why; null when none has (or none may fire). */
function deadlineOf(ctx: TableContext, entry: Migration, now: Millis): Pick<DueDeadline, 'cause' | 'reason'> | null {
  const { migrationProgressTimeoutMs: progressMs, migrationCompletionTimeoutPerGibMs: perGibMs } = ctx.settings;
  if (entry.abortReason !== null || entry.cancelRequested || entry.source.report === ReportedVmStatus.DOWN || isFrozen(ctx, entry)) return null;
  const sending = entry.sourceConfirmed && entry.source.report === ReportedVmStatus.MIGRATING_FROM && entry.progressAt !== null;
  if (progressMs > 0 && sending && now - (entry.progressAt as Millis) >= progressMs) {
    const reason = `no progress for ${seconds(now - (entry.progressAt as Millis))} (progress timeout ${seconds(progressMs)}, progress ${entry.progress ?? 0}%)`;
    return { cause: Cause.PROGRESS_TIMEOUT, reason };
  }
  const memoryMiB = ctx.state.vms.get(entry.vmId)?.memoryMiB ?? null;
  const limitMs = completionTimeoutMs(perGibMs, memoryMiB);
  if (perGibMs > 0 && now - entry.attemptStartedAt >= limitMs) {
    const gib = Math.max(MIN_COMPLETION_GIB, (memoryMiB ?? 0) / 1024);
    const reason = `not completed within ${seconds(limitMs)} (completion timeout ${seconds(perGibMs)} per GiB × ${Math.round(gib * 100) / 100} GiB)`;
    return { cause: Cause.COMPLETION_TIMEOUT, reason };
  }
  return null;
}

/** A side not known, or whose host is neither responsive nor fenced: nothing is decided, no deadline fires. */
function isFrozen(ctx: TableContext, entry: Migration): boolean {
  return !isTrustedNow(ctx, entry.source) || !isTrustedNow(ctx, entry.destination);
}
