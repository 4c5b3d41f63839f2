/**
 * Where a migration goes when Transit chooses (docs/contract.md §3–§4, §8): a host that is
 * **eligible** — UP (never one in maintenance), in the source's cluster, not the source, not tried
 * before by this migration — with the fewest VMs first and then by id, so the choice is the same
 * on every run. The scheduler (`scheduler.ts`) offers only the eligible hosts that are also **free**
 * (below their incoming limit).
 */
import { HostStatus } from '../vocabulary.js';

export interface PlacementCandidate {
  readonly id: string;
  readonly cluster: string;
  readonly status: HostStatus;
  /**
   * VMs on the host, counting those already migrating to it: otherwise a burst of migrations
   * would all pick the same emptiest host.
   */
  readonly load: number;
}

export interface PlacementRequest {
  readonly sourceHostId: string;
  readonly cluster: string;
  readonly excluded: ReadonlySet<string>;
}

/** Could this host ever take the migration (limits aside)? */
export const isEligible = (host: Omit<PlacementCandidate, 'load'>, request: PlacementRequest): boolean =>
  host.status === HostStatus.UP && host.cluster === request.cluster && host.id !== request.sourceHostId && !request.excluded.has(host.id);

export function chooseDestination(candidates: Iterable<PlacementCandidate>, request: PlacementRequest): string | null {
  let best: PlacementCandidate | null = null;
  for (const host of candidates) {
    if (!isEligible(host, request)) continue;
    if (best === null || host.load < best.load || (host.load === best.load && host.id < best.id)) best = host;
  }
  return best === null ? null : best.id;
}
