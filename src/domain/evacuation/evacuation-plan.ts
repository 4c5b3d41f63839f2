/**
 * The dry run of an evacuation (docs/contract.md §9 `evacuationPlan`): for each VM UP on the host,
 * the destination it would get if the evacuation started now — §4 order among the eligible hosts
 * (UP, same cluster, not the host itself), fewest VMs first then by id, counting the plan's own
 * earlier moves as load, limits ignored — or why it cannot move. It reads and never writes.
 */
import type { EvacuationBlocker, EvacuationMove, EvacuationPlan } from '../model.js';
import { chooseDestination, type PlacementCandidate } from '../scheduling/placement.js';
import type { TableView } from '../table/table-state.js';
import { VmStatus } from '../vocabulary.js';
import { evacuationMessages } from './evacuation-messages.js';

/** The hosts a VM of `hostId` could go to, with their load now. */
function candidatesFor(state: TableView, hostId: string, cluster: string): PlacementCandidate[] {
  return [...state.hostIdsInCluster(cluster)].map((id) => {
    const host = state.hosts.get(id);
    return { id, cluster, status: host?.status ?? 'NON_RESPONSIVE', load: state.loadOf(id) };
  });
}

/** Why no VM of the host can move: no host is eligible (null when one is). */
export function noEligibleHostReason(state: TableView, hostId: string): string | null {
  const host = state.hosts.get(hostId);
  if (host === undefined) return evacuationMessages.hostUnknown(hostId);
  const anyone = chooseDestination(candidatesFor(state, hostId, host.cluster), { sourceHostId: hostId, cluster: host.cluster, excluded: new Set() });
  return anyone === null ? evacuationMessages.noEligibleHost(hostId, host.cluster) : null;
}

/** The plan for the host now; null when the host is not known. */
export function planEvacuation(state: TableView, hostId: string): EvacuationPlan | null {
  const host = state.hosts.get(hostId);
  if (host === undefined) return null;
  const candidates = candidatesFor(state, hostId, host.cluster);
  const planned = new Map<string, number>();
  const moves: EvacuationMove[] = [];
  const blocked: EvacuationBlocker[] = [];
  const vms = [...state.vmIdsOnHost(hostId)].map((id) => state.vms.get(id)).filter((vm) => vm !== undefined && vm.status === VmStatus.UP);
  vms.sort((a, b) => (a?.ordinal ?? 0) - (b?.ordinal ?? 0));
  for (const vm of vms) {
    if (vm === undefined) continue;
    const loaded = candidates.map((c) => ({ ...c, load: c.load + (planned.get(c.id) ?? 0) }));
    const destination = chooseDestination(loaded, { sourceHostId: hostId, cluster: host.cluster, excluded: new Set() });
    if (destination === null) {
      blocked.push({ vmId: vm.id, reason: evacuationMessages.noEligibleHost(hostId, host.cluster) });
      continue;
    }
    planned.set(destination, (planned.get(destination) ?? 0) + 1);
    moves.push({ vmId: vm.id, destinationHostId: destination });
  }
  return { hostId, moves, blocked };
}
