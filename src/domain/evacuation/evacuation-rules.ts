/**
 * The life of an evacuation (docs/contract.md §9): it starts on a host (PREPARING_FOR_MAINTENANCE),
 * gives every VM UP there a migration with an automatic destination or a blocker, takes in the
 * migrations already leaving the host and every VM that arrives, follows its migrations to their
 * outcomes, and ends COMPLETED (the host runs no VM: MAINTENANCE), FAILED (nothing of it is pending
 * or in flight and VMs remain) or CANCELLED.
 *
 * It follows the table through the transitions every command records: after a command's rules have
 * run, `followEvacuations` reads the command's transitions and brings each running evacuation up
 * to date in the same recording, so a command and what it does to an evacuation are one change.
 *
 * §3 holds here too: nothing is decided from partial knowledge. An evacuation ends only while its
 * host answers (PREPARING_FOR_MAINTENANCE): while the host is NON_RESPONSIVE its VMs are UNKNOWN,
 * and a fenced host is not Transit's to put into maintenance until it has reported again. While
 * it waits, its blockers say what holds it back.
 */
import type { Evacuation, EvacuationBlocker, Migration, Transition } from '../model.js';
import { setHostStatus } from '../rules/host-rules.js';
import type { Recording } from '../table/recording.js';
import type { TableContext } from '../table/table-context.js';
import type { HostRecord, TableView, VmRecord } from '../table/table-state.js';
import { Cause, EvacuationState, EventType, HostStatus, isCurrent, MigrationState, VmStatus } from '../vocabulary.js';
import { evacuationMessages as say } from './evacuation-messages.js';
import { cancelPendingOf, migrateForEvacuation, prioritise } from './evacuation-migrations.js';
import type { EvacuationRecord, EvacuationView } from './evacuation-store.js';

/** Pending or in flight: not decided yet. */
const isLive = (m: Migration): boolean => isCurrent(m.state);

/** Starts an evacuation of the host (the command checked it may). */
export function startEvacuation(ctx: TableContext, rec: Recording, host: HostRecord): EvacuationRecord {
  const store = ctx.evacuations;
  const previous = store.latestOn(host.id);
  if (previous !== undefined) previous.holdsHost = false;
  const evacuation = store.create(ctx.settings.epoch, host.id, rec.now);
  setHostStatus(ctx, rec, host.id, HostStatus.PREPARING_FOR_MAINTENANCE, Cause.EVACUATION);
  const onHost = vmsOnHost(ctx.state, host.id);
  rec.hostEvent(EventType.EVACUATION_STARTED, say.started(evacuation, onHost.length), host.id);
  for (const vm of onHost) {
    // Migrations already leaving the host (in flight or pending) join it; every other VM UP there gets one.
    const current = ctx.state.currentMigrationOf(vm.id);
    if (current !== undefined && current.source.hostId === host.id) joinMigration(ctx, rec, evacuation, current);
    else if (needsMigration(ctx, vm, host.id)) joinVm(ctx, rec, evacuation, vm);
  }
  checkEnd(ctx, rec, evacuation);
  return evacuation;
}

/**
 * Ends the host's running evacuation CANCELLED: its pending migrations are cancelled, those in
 * flight go on, the host returns to UP (when it answers; otherwise it comes back UP later).
 */
export function cancelRunning(ctx: TableContext, rec: Recording, evacuation: EvacuationRecord, cause: Cause): void {
  const pending = cancelPendingOf(ctx, rec, [...evacuation.live]);
  const blockers = currentBlockers(ctx.state, evacuation);
  evacuation.holdsHost = false;
  ctx.evacuations.end(evacuation, EvacuationState.CANCELLED, rec.now, { remaining: ctx.state.vmIdsOnHost(evacuation.hostId).size, blockers });
  release(ctx, rec, evacuation.hostId, HostStatus.UP, cause);
  rec.hostEvent(EventType.EVACUATION_CANCELLED, say.cancelled(evacuation, pending), evacuation.hostId);
}

/** Lets a host its FAILED evacuation held go back to `status` (the evacuation stays FAILED). */
export function releaseFailed(ctx: TableContext, rec: Recording, evacuation: EvacuationRecord, status: HostStatus, cause: Cause): void {
  evacuation.holdsHost = false;
  release(ctx, rec, evacuation.hostId, status, cause);
}

function release(ctx: TableContext, rec: Recording, hostId: string, status: HostStatus, cause: Cause): void {
  // A host that does not answer keeps its status; it comes back UP once it reports.
  if (ctx.state.hosts.get(hostId)?.status === HostStatus.PREPARING_FOR_MAINTENANCE) setHostStatus(ctx, rec, hostId, status, cause);
}

/** The status a host that answers again returns to: PREPARING_FOR_MAINTENANCE while an evacuation holds it. */
export function statusOnRecovery(ctx: TableContext, hostId: string): HostStatus {
  return ctx.evacuations.holds(hostId) ? HostStatus.PREPARING_FOR_MAINTENANCE : HostStatus.UP;
}

/**
 * Brings running evacuations up to date with the transitions recorded from index `from` on (the
 * command's own, then those this step records itself), and ends those that are done.
 */
export function followEvacuations(ctx: TableContext, rec: Recording, from = 0): number {
  const store = ctx.evacuations;
  if (store.runningCount === 0) return rec.transitions.length;
  const touched = new Set<EvacuationRecord>();
  for (let i = from; i < rec.transitions.length; i++) {
    const t = rec.transitions[i] as Transition;
    if (t.migration !== null) followMigration(ctx, rec, t.migration, touched);
    if (t.vmId !== null) followVm(ctx, rec, t.vmId, touched);
    for (const hostId of t.hostIds) {
      const running = store.runningOn(hostId);
      if (running !== undefined) touched.add(running);
    }
    // Ending an evacuation records a transition of its host: read on until nothing is left.
    if (i === rec.transitions.length - 1) {
      for (const evacuation of touched) checkEnd(ctx, rec, evacuation);
      touched.clear();
    }
  }
  return rec.transitions.length;
}

function followMigration(ctx: TableContext, rec: Recording, m: Migration, touched: Set<EvacuationRecord>): void {
  const store = ctx.evacuations;
  const own = store.ofMigration(m.id);
  if (own === undefined) {
    // A migration leaving the evacuated host joins its evacuation (a user's, or one found in a report).
    const running = m.source.hostId === null ? undefined : store.runningOn(m.source.hostId);
    const current = ctx.state.migrations.get(m.id);
    if (running !== undefined && current !== undefined && isLive(current)) {
      joinMigration(ctx, rec, running, current);
      touched.add(running);
    }
    return;
  }
  if (own.state !== EvacuationState.IN_PROGRESS || !own.live.has(m.id) || isLive(m)) return;
  own.live.delete(m.id);
  touched.add(own);
  if (m.state === MigrationState.SUCCEEDED) {
    // Moved, whatever an earlier migration of it said: a VM counts once, as moved or as failed.
    own.moved.add(m.vmId);
    own.failed.delete(m.vmId);
    own.reasons.delete(m.vmId);
    return;
  }
  const vm = ctx.state.vms.get(m.vmId);
  if (vm !== undefined && needsMigration(ctx, vm, own.hostId) && !own.ownMigrationVms.has(vm.id)) {
    // It left with a migration not of the evacuation's making (a named destination, or found in
    // a report) that did not move it: it gets one of its own, with an automatic destination.
    giveMigration(ctx, rec, own, vm);
    return;
  }
  const next = ctx.state.currentMigrationOf(m.vmId);
  if (next !== undefined && store.ofMigration(next.id) === own) return; // another of its migrations moves it
  markFailed(own, m.vmId, say.migrationEnded(m));
}

function followVm(ctx: TableContext, rec: Recording, vmId: string, touched: Set<EvacuationRecord>): void {
  const vm = ctx.state.vms.get(vmId);
  if (vm === undefined || vm.hostId === null) return;
  const running = ctx.evacuations.runningOn(vm.hostId);
  if (running === undefined || !needsMigration(ctx, vm, vm.hostId)) return;
  touched.add(running);
  if (running.vms.has(vm.id) && !running.moved.has(vm.id)) return; // joined already: moving, or failed with its reason
  // A VM that arrives on the host joins it (one it moved that came back joins again).
  running.moved.delete(vm.id);
  running.ownMigrationVms.delete(vm.id);
  joinVm(ctx, rec, running, vm);
}

/** A VM UP on the host with no current migration (pending or in flight) needs moving. */
const needsMigration = (ctx: TableContext, vm: VmRecord, hostId: string): boolean =>
  vm.hostId === hostId && vm.status === VmStatus.UP && vm.migrationId === null && ctx.state.currentMigrationOf(vm.id) === undefined;

function joinVm(ctx: TableContext, rec: Recording, evacuation: EvacuationRecord, vm: VmRecord): void {
  evacuation.vms.add(vm.id);
  giveMigration(ctx, rec, evacuation, vm);
}

function giveMigration(ctx: TableContext, rec: Recording, evacuation: EvacuationRecord, vm: VmRecord): void {
  evacuation.ownMigrationVms.add(vm.id);
  const host = ctx.state.hosts.get(evacuation.hostId) as HostRecord;
  const migration = migrateForEvacuation(ctx, rec, vm, host);
  if (migration === null) markFailed(evacuation, vm.id, say.noEligibleHost(host.id, host.cluster));
  else joinMigration(ctx, rec, evacuation, migration);
}

function joinMigration(ctx: TableContext, rec: Recording, evacuation: EvacuationRecord, migration: Migration): void {
  if (ctx.evacuations.ofMigration(migration.id) === evacuation) return;
  prioritise(ctx, rec, migration);
  ctx.evacuations.addMigration(evacuation, migration.id);
  evacuation.vms.add(migration.vmId);
  evacuation.failed.delete(migration.vmId);
  evacuation.reasons.delete(migration.vmId);
}

function markFailed(evacuation: EvacuationRecord, vmId: string, reason: string): void {
  evacuation.moved.delete(vmId);
  evacuation.failed.add(vmId);
  evacuation.reasons.set(vmId, reason);
}

/** Ends the evacuation when it is done, and only while its host answers. */
function checkEnd(ctx: TableContext, rec: Recording, evacuation: EvacuationRecord): void {
  if (evacuation.state !== EvacuationState.IN_PROGRESS) return;
  const { state } = ctx;
  const hostId = evacuation.hostId;
  if (state.hosts.get(hostId)?.status !== HostStatus.PREPARING_FOR_MAINTENANCE) return;
  // A VM on its way to the host will run there: it joins when it arrives.
  if (state.entryVmIdsOfHost(hostId).some((vmId) => state.entries.get(vmId)?.destination.hostId === hostId)) return;
  const remaining = state.vmIdsOnHost(hostId).size;
  if (remaining === 0) {
    evacuation.holdsHost = false;
    ctx.evacuations.end(evacuation, EvacuationState.COMPLETED, rec.now, { remaining: 0, blockers: [] });
    setHostStatus(ctx, rec, hostId, HostStatus.MAINTENANCE, Cause.EVACUATION);
    rec.hostEvent(EventType.EVACUATION_COMPLETED, say.completed(evacuation), hostId);
    return;
  }
  if (evacuation.live.size > 0) return;
  const blockers = vmsOnHost(state, hostId).map((vm) => ({ vmId: vm.id, reason: evacuation.reasons.get(vm.id) ?? say.stillOnHost(hostId) }));
  ctx.evacuations.end(evacuation, EvacuationState.FAILED, rec.now, { remaining, blockers });
  rec.hostEvent(EventType.EVACUATION_FAILED, say.failed(evacuation, remaining), hostId);
}

/** The host's VMs, in the order Transit first heard of them. */
function vmsOnHost(state: TableView, hostId: string): VmRecord[] {
  return [...state.vmIdsOnHost(hostId)].map((id) => state.vms.get(id) as VmRecord).sort((a, b) => a.ordinal - b.ordinal);
}

/**
 * What holds a running evacuation back now: each VM on the host that it will not move (and why),
 * whose host does not answer, or whose migration is stalled.
 */
function currentBlockers(state: TableView, evacuation: EvacuationRecord): EvacuationBlocker[] {
  const blockers: EvacuationBlocker[] = [];
  for (const vm of vmsOnHost(state, evacuation.hostId)) {
    const reason = evacuation.reasons.get(vm.id);
    const entry = state.entries.get(vm.id);
    if (reason !== undefined) blockers.push({ vmId: vm.id, reason });
    else if (vm.status === VmStatus.UNKNOWN) blockers.push({ vmId: vm.id, reason: say.hostNotResponding(evacuation.hostId) });
    else if (entry?.stalled === true) blockers.push({ vmId: vm.id, reason: say.stalled(entry) });
  }
  // A VM on its way to the host, held back: the evacuation waits for it too.
  for (const vmId of state.entryVmIdsOfHost(evacuation.hostId)) {
    const entry = state.entries.get(vmId);
    if (entry?.destination.hostId === evacuation.hostId && entry.stalled) blockers.push({ vmId, reason: say.stalled(entry) });
  }
  return blockers;
}

/** An evacuation as clients read it: live counts and blockers while it runs, those it ended with after. */
export function evacuationOf(state: TableView, record: EvacuationRecord): Evacuation {
  return {
    id: record.id,
    ordinal: record.ordinal,
    hostId: record.hostId,
    state: record.state,
    startedAt: record.startedAt,
    endedAt: record.endedAt,
    total: record.vms.size,
    moved: record.moved.size,
    remaining: record.ended?.remaining ?? state.vmIdsOnHost(record.hostId).size,
    failed: record.failed.size,
    migrationIds: [...record.migrationIds],
    blockers: record.ended?.blockers ?? currentBlockers(state, record),
  };
}

export type { EvacuationView };
