/**
 * Where an evacuation meets the migration queue (docs/contract.md §8–§9): the one place that gives
 * a VM of the evacuated host a migration, and the one place that cancels an evacuation's pending
 * migrations. Everything else of the evacuation only follows the migrations' transitions.
 */
import type { Migration } from '../model.js';
import { eligibleHostExists } from '../rules/entry-store.js';
import { cancelPending, enqueue, reprioritize } from '../rules/queue-rules.js';
import type { Recording } from '../table/recording.js';
import type { TableContext } from '../table/table-context.js';
import type { HostRecord, VmRecord } from '../table/table-state.js';
import { Cause, MigrationPriority, MigrationState } from '../vocabulary.js';

/**
 * Queues a migration of the VM (UP on `source`, with no current migration) with an automatic
 * destination and priority EVACUATION: the scheduler starts it first, within the limits, and it is
 * rerun like any engine-chosen migration (§4, §8). Null when no host is eligible: a blocker.
 */
export function migrateForEvacuation(ctx: TableContext, rec: Recording, vm: VmRecord, source: HostRecord): Migration | null {
  if (!eligibleHostExists(ctx, source.id, source.cluster, new Set())) return null;
  return enqueue(ctx, rec, { vmId: vm.id, priority: MigrationPriority.EVACUATION, destinationHostId: null, cause: Cause.EVACUATION });
}

/** A migration already leaving the host joins the evacuation: a pending one takes evacuation priority (a transition says so). */
export function prioritise(ctx: TableContext, rec: Recording, migration: Migration): void {
  reprioritize(ctx, rec, migration, MigrationPriority.EVACUATION, Cause.EVACUATION);
}

/** Cancels the evacuation's migrations that wait in the queue; returns how many. */
export function cancelPendingOf(ctx: TableContext, rec: Recording, migrationIds: Iterable<string>): number {
  let cancelled = 0;
  for (const id of migrationIds) {
    const m = ctx.state.migrations.get(id);
    if (m?.state !== MigrationState.PENDING) continue;
    cancelPending(ctx, rec, m);
    cancelled++;
  }
  return cancelled;
}
