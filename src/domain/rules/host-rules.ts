/**
 * What a host's status does to its VMs and entries (docs/contract.md §3): a host that stops answering
 * freezes its sides and makes its other VMs UNKNOWN; one that answers again restores them; a
 * successful fence sets its migrating VMs DOWN (trusted) and re-evaluates them; and the clock ends
 * attempts their source never started.
 */
import { evaluate } from '../evaluate.js';
import { finish, reevaluate, settle, viewOf } from './entry-rules.js';
import { messages } from '../messages.js';
import type { Migration, Side, UserError } from '../model.js';
import { commandOf, vmStateOf, type Recording } from '../table/recording.js';
import type { TableContext } from '../table/table-context.js';
import type { HostRecord, VmRecord } from '../table/table-state.js';
import { Cause, ErrorCode, EventType, HostCommandKind, HostStatus, MigrationState, ReportedVmStatus, VmStatus } from '../vocabulary.js';

/** A host Transit hears of for the first time: UP, its timeout counting from now. */
export function addHost(ctx: TableContext, rec: Recording, id: string, cluster: string, cause: Cause): HostRecord {
  const host: HostRecord = { id, cluster, status: HostStatus.UP, lastReportAt: null, lastSeenAt: rec.now, bootId: null, lastSequence: null, supersededBootIds: [] };
  ctx.state.putHost(host);
  rec.host(cause, host, null);
  // Entries that named it before it registered were held back by it (HOST_NOT_REGISTERED): look again.
  for (const vmId of ctx.state.entryVmIdsOfHost(id)) reevaluate(ctx, rec, vmId, cause, id);
  return host;
}

export function setHostStatus(ctx: TableContext, rec: Recording, hostId: string, status: HostStatus, cause: Cause): void {
  const host = ctx.state.hosts.get(hostId) as HostRecord;
  if (host.status === status) return;
  const from = host.status;
  // Back to UP: the timeout counts from now, not from the last report before it went silent.
  const next: HostRecord = { ...host, status, lastSeenAt: status === HostStatus.UP ? rec.now : host.lastSeenAt };
  ctx.state.putHost(next);
  rec.host(cause, next, from);
  if (cause === Cause.HOST_RECOVERED) rec.hostEvent(EventType.HOST_RECOVERED, messages.hostRecovered(hostId), hostId);
}

/** The host stopped answering: its VMs outside the table become UNKNOWN, its entries freeze. */
export function markUnresponsive(ctx: TableContext, rec: Recording, hostId: string, why: string): void {
  setHostStatus(ctx, rec, hostId, HostStatus.NON_RESPONSIVE, Cause.HOST_UNRESPONSIVE);
  rec.hostEvent(EventType.HOST_NOT_RESPONDING, messages.hostNotResponding(hostId, why), hostId);
  for (const vmId of [...ctx.state.vmIdsOnHost(hostId)]) {
    const vm = ctx.state.vms.get(vmId) as VmRecord;
    if (vm.migrationId !== null || vm.status === VmStatus.UNKNOWN) continue;
    const before = vmStateOf(vm);
    ctx.state.updateVm(vm, { status: VmStatus.UNKNOWN, statusBeforeUnknown: vm.status });
    rec.vm(Cause.HOST_UNRESPONSIVE, vm, before, hostId, null);
    rec.event(EventType.VM_SET_UNKNOWN, messages.vmUnknown(vmId, hostId), null, vmId, hostId);
  }
  for (const vmId of ctx.state.entryVmIdsOfHost(hostId)) reevaluate(ctx, rec, vmId, Cause.HOST_UNRESPONSIVE, hostId);
}

/** A VM made UNKNOWN by its host's silence gets back the status it had. */
export function restoreUnknown(ctx: TableContext, rec: Recording, vmId: string, hostId: string, cause: Cause): void {
  const vm = ctx.state.vms.get(vmId) as VmRecord;
  if (vm.status !== VmStatus.UNKNOWN) return;
  const before = vmStateOf(vm);
  ctx.state.updateVm(vm, { status: vm.statusBeforeUnknown ?? VmStatus.UP, statusBeforeUnknown: null });
  rec.vm(cause, vm, before, hostId, null);
  rec.event(EventType.VM_STATUS_RESTORED, messages.vmRestored(vmId, hostId), null, vmId, hostId);
}

/**
 * The seed: after a successful fence, every migrating VM of the host is DOWN on it, and the entries
 * are evaluated again; its other VMs are DOWN. A fenced host's report is trustworthy: it was rebooted.
 */
export function fenced(ctx: TableContext, rec: Recording, hostId: string, message: string): void {
  setHostStatus(ctx, rec, hostId, HostStatus.REBOOTING, Cause.FENCE_SUCCEEDED);
  rec.hostEvent(EventType.FENCE_SUCCEEDED, message, hostId);
  for (const vmId of ctx.state.entryVmIdsOfHost(hostId)) {
    const entry = ctx.state.entries.get(vmId) as Migration;
    const down: Side = { hostId, report: ReportedVmStatus.DOWN, heardOrder: ctx.nextHeard(), fenced: true, exitReason: null };
    const next: Migration = entry.source.hostId === hostId ? { ...entry, source: down, sourceConfirmed: true } : { ...entry, destination: down };
    settle(ctx, rec, next, Cause.FENCE_SUCCEEDED, hostId);
  }
  for (const vmId of [...ctx.state.vmIdsOnHost(hostId)]) {
    const vm = ctx.state.vms.get(vmId) as VmRecord;
    if (vm.migrationId !== null) continue;
    const before = vmStateOf(vm);
    ctx.state.updateVm(vm, { status: VmStatus.DOWN, hostId: null, location: null, statusBeforeUnknown: null });
    rec.vm(Cause.FENCE_SUCCEEDED, vm, before, hostId, null);
    rec.event(EventType.VM_SET_DOWN_BY_FENCE, messages.vmDownByFence(vm.id, hostId), null, vm.id, hostId);
  }
}

/**
 * An attempt its source has not confirmed within the start timeout. The main idea holds here too:
 * no verdict while a side is frozen, nor while the destination shows the VM arriving (or running):
 * such an entry waits, stalled, for a side to change. Otherwise it ends FAILED (CANCELLED when a
 * cancel was asked), and the source is told to drop the order in case it arrives late.
 */
export function startTimedOut(ctx: TableContext, rec: Recording, entry: Migration): void {
  if (evaluate({ ...viewOf(ctx, entry, rec.now), confirmationOverdue: false }).stalled) return;
  const arriving = entry.destination.report === ReportedVmStatus.MIGRATING_TO || entry.destination.report === ReportedVmStatus.UP;
  if (arriving) return settle(ctx, rec, entry, Cause.START_TIMEOUT, entry.source.hostId);
  const outcome = entry.cancelRequested ? MigrationState.CANCELLED : MigrationState.FAILED;
  rec.command(HostCommandKind.CANCEL, entry);
  // An agent away now must still learn it when it subscribes again (issue 12, item 8).
  if (entry.source.hostId !== null) ctx.recentOrders.keep(commandOf(HostCommandKind.CANCEL, entry, rec.now), rec.now + ctx.settings.orderGraceMs);
  finish(ctx, rec, entry, outcome, Cause.START_TIMEOUT, entry.source.hostId, 'the source did not start the migration');
}

/**
 * Why a known host may not move to `cluster` now, or null: a host that is a side of a migration in
 * flight stays in its cluster until the migration is decided (a migration never spans clusters,
 * §3; issue 12, item 9).
 */
export function moveRefusal(ctx: TableContext, hostId: string, cluster: string): UserError | null {
  const host = ctx.state.hosts.get(hostId);
  if (host === undefined || host.cluster === cluster) return null;
  const entries = ctx.state.entryVmIdsOfHost(hostId);
  if (entries.length === 0) return null;
  const ids = entries.slice(0, 3).map((vmId) => ctx.state.entries.get(vmId)?.id ?? vmId);
  return {
    code: ErrorCode.CLUSTER_MISMATCH,
    message: `host ${hostId} is a side of ${entries.length} migration(s) in flight (${ids.join(', ')}${entries.length > 3 ? ', ...' : ''}): it moves to cluster ${cluster} once they are decided`,
    field: 'cluster',
  };
}

/** TOO_MANY_HOSTS when `hostId` would be a new host beyond `max` (docs/contract.md §11); null otherwise. */
export function hostCapRefusal(ctx: TableContext, hostId: string, max: number): UserError | null {
  if (ctx.state.hosts.has(hostId) || ctx.state.hosts.size < max) return null;
  return { code: ErrorCode.TOO_MANY_HOSTS, message: `Transit knows ${ctx.state.hosts.size} hosts, the limit (TRANSIT_MAX_HOSTS): remove one first`, field: 'hostId' };
}

/** HOST_NOT_FOUND for a command naming `hostId` in `field`. */
export const unknownHost = (hostId: string, field = 'hostId'): UserError => ({ code: ErrorCode.HOST_NOT_FOUND, message: `host ${hostId} is not known`, field });

/** Why the host may not be removed (HOST_NOT_FOUND, HOST_NOT_EMPTY), or null. */
export function removeRefusal(ctx: TableContext, hostId: string): UserError | null {
  if (!ctx.state.hosts.has(hostId)) return unknownHost(hostId);
  const vms = ctx.state.vmIdsOnHost(hostId).size;
  const entries = ctx.state.entryVmIdsOfHost(hostId).length;
  if (vms === 0 && entries === 0) return null;
  return {
    code: ErrorCode.HOST_NOT_EMPTY,
    message: `host ${hostId} runs ${vms} VM(s) and is a side of ${entries} migration(s) in flight: move, stop or fence them first`,
    field: 'hostId',
  };
}

/** Forgets a host that runs no VM and is no side of an entry (`removeRefusal` said so); its history stays. */
export function removeHost(ctx: TableContext, rec: Recording, hostId: string): void {
  const host = ctx.state.hosts.get(hostId) as HostRecord;
  ctx.state.removeHost(hostId);
  rec.host(Cause.HOST_REMOVED, host, host.status, null);
}
