/**
 * Why a host's batch is refused before anything of it applies (docs/contract.md §3, §11): it is
 * stale (delayed, or from a replaced boot), or it would raise its host above the VM cap.
 */
import type { Host, ReportVmStatusesInput, UserError } from '../model.js';
import type { TableContext } from '../table/table-context.js';
import { ErrorCode, ReportedVmStatus } from '../vocabulary.js';

/**
 * How far below the last accepted sequence a batch is taken as delayed (stale); one further below
 * starts its boot's count over. Sequences are compared as serial numbers (RFC 1982), so that no
 * batch can lock a boot: before, nothing could follow a sequence of 2^53 - 1.
 */
export const SEQUENCE_WINDOW = 2 ** 32;

/**
 * Why a batch is refused as stale before anything of it applies, or null (§3 "sequence", issue 12
 * item 7): it comes from a boot the host has since replaced, or its sequence is not above the
 * last accepted from its boot, by less than `SEQUENCE_WINDOW` (a batch without `bootId` comes
 * from the boot last named).
 */
export function staleBatch(host: Host | undefined, input: ReportVmStatusesInput): UserError | null {
  if (host === undefined) return null;
  if (input.bootId != null && host.supersededBootIds.includes(input.bootId)) {
    return { code: ErrorCode.STALE_REPORT, message: `boot ${input.bootId} of host ${host.id} was replaced by boot ${host.bootId ?? '?'}: its batches are stale`, field: 'bootId' };
  }
  const sameBoot = input.bootId == null || input.bootId === host.bootId;
  const last = host.lastSequence;
  if (input.sequence == null || !sameBoot || last === null) return null;
  if (input.sequence > last || last - input.sequence >= SEQUENCE_WINDOW) return null;
  return { code: ErrorCode.STALE_REPORT, message: `sequence ${input.sequence} is not above ${last}, the last accepted from host ${host.id}`, field: 'sequence' };
}

/**
 * TOO_MANY_VMS when the batch would raise the count of its host, the VMs Transit places there plus
 * those migrating to it, above `max` (docs/contract.md §11); null otherwise. A batch that does not
 * raise the count passes, even above the cap (migrations may land more). Time linear in the batch
 * and the host's VMs, both bounded.
 */
export function vmCapRefusal(ctx: TableContext, input: ReportVmStatusesInput, max: number): UserError | null {
  const hostId = input.hostId;
  const { state } = ctx;
  const counted = (vmId: string) => state.vms.get(vmId)?.hostId === hostId || state.entries.get(vmId)?.destination.hostId === hostId;
  const leaves = (vmId: string) => {
    const vm = state.vms.get(vmId);
    return vm !== undefined && vm.hostId === hostId && vm.migrationId === null;
  };
  let added = 0;
  let removed = 0;
  const listed = new Set<string>();
  for (const item of input.vms) {
    if (listed.has(item.vmId)) continue;
    listed.add(item.vmId);
    if (item.status === ReportedVmStatus.DOWN) removed += leaves(item.vmId) ? 1 : 0;
    else added += counted(item.vmId) ? 0 : 1;
  }
  if (added === 0) return null;
  if (input.full === true) for (const vmId of state.vmIdsOnHost(hostId)) if (!listed.has(vmId) && leaves(vmId)) removed++;
  const now = state.loadOf(hostId);
  const after = now + added - removed;
  if (after <= max || after <= now) return null;
  return {
    code: ErrorCode.TOO_MANY_VMS,
    message: `host ${hostId} would hold ${after} VMs (running there or migrating to it), above the limit of ${max} (TRANSIT_MAX_VMS_PER_HOST)`,
    field: 'vms',
  };
}
