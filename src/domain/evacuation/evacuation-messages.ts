/** The words of evacuations (docs/contract.md §9): event messages and blocker reasons. */
import type { Migration } from '../model.js';
import type { EvacuationRecord } from './evacuation-store.js';

const vmsWord = (n: number) => `${n} VM${n === 1 ? '' : 's'}`;

export const evacuationMessages = {
  started: (e: EvacuationRecord, vms: number) => `Evacuation ${e.id} of host ${e.hostId} started: ${vmsWord(vms)} to move; the host is preparing for maintenance.`,
  completed: (e: EvacuationRecord) =>
    `Evacuation ${e.id} of host ${e.hostId} completed: the host runs no VM (${e.moved.size} of ${vmsWord(e.vms.size)} moved) and is in maintenance.`,
  failed: (e: EvacuationRecord, remaining: number) =>
    `Evacuation ${e.id} of host ${e.hostId} failed: ${vmsWord(remaining)} still run on it and nothing more is moving them (${e.moved.size} of ${vmsWord(e.vms.size)} moved); the host stays preparing for maintenance until it is evacuated again or the evacuation is cancelled.`,
  cancelled: (e: EvacuationRecord, pending: number) =>
    `Evacuation ${e.id} of host ${e.hostId} was cancelled (${e.moved.size} of ${vmsWord(e.vms.size)} moved${pending > 0 ? `, ${pending} pending migrations cancelled` : ''}); the host is UP again.`,
  hostUnknown: (hostId: string) => `host ${hostId} is not known`,
  noEligibleHost: (hostId: string, cluster: string) => `no host can take it: none is UP in cluster ${cluster} besides ${hostId}`,
  migrationEnded: (m: Migration) => `its migration ${m.id} ended ${m.state}${m.reason ? `: ${m.reason}` : ''}`,
  stalled: (m: Migration) => `its migration ${m.id} is stalled: ${m.stalledReason ?? 'a side is not responding'}`,
  hostNotResponding: (hostId: string) => `host ${hostId} is not responding: whether the VM still runs there is unknown until it answers or is fenced`,
  stillOnHost: (hostId: string) => `it still runs on ${hostId} and no migration of this evacuation is moving it`,
};
