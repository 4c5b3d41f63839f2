/** The words of the event log: what an operator reads, with the ids to follow up. */
import type { Migration } from './model.js';
import { ExitReason } from './vocabulary.js';

const dest = (m: Migration): string => m.destination.hostId ?? 'an unknown destination';
const src = (m: Migration): string => m.source.hostId ?? 'an unknown source';
const exit = (reason: string | null): string => (reason ? ` (exit reason: ${reason})` : '');

export const messages = {
  migrationStarted: (m: Migration) => `Migration of VM ${m.vmId} from ${src(m)} to ${dest(m)} started (attempt ${m.attempt}).`,
  migrationDiscovered: (m: Migration, reporter: string) =>
    `Migration of VM ${m.vmId} from ${src(m)} to ${dest(m)} found in the report of host ${reporter}.`,
  migrationSucceeded: (m: Migration) => `Migration of VM ${m.vmId} from ${src(m)} to ${dest(m)} succeeded${exit(m.source.exitReason)}.`,
  migrationFailed: (m: Migration, reason: string) =>
    `Migration of VM ${m.vmId} from ${src(m)} to ${dest(m)} failed (attempt ${m.attempt}): ${reason}.`,
  migrationVmDown: (m: Migration) =>
    `Migration of VM ${m.vmId} from ${src(m)} to ${dest(m)} failed and the VM is down${exit(m.source.exitReason ?? m.destination.exitReason)}.`,
  migrationCancelled: (m: Migration) => `Migration of VM ${m.vmId} from ${src(m)} to ${dest(m)} was cancelled; the VM runs on ${src(m)}.`,
  /** `m` is the next attempt, about to start or to wait for a slot. */
  tryingRerun: (m: Migration, next: string) => `Trying to migrate VM ${m.vmId} again from ${src(m)}, now to ${next} (attempt ${m.attempt}).`,
  rerunWaits: (m: Migration, reason: string) =>
    `Trying to migrate VM ${m.vmId} again from ${src(m)} (attempt ${m.attempt}) when a slot frees: ${reason}.`,
  queued: (m: Migration, reason: string) => `Migration of VM ${m.vmId} from ${src(m)} waits for a free slot (attempt ${m.attempt}): ${reason}.`,
  pendingFailed: (m: Migration, reason: string) => `Migration of VM ${m.vmId} from ${src(m)} ended before it started (attempt ${m.attempt}): ${reason}.`,
  pendingCancelled: (m: Migration) => `Migration of VM ${m.vmId} from ${src(m)} was cancelled before it started; no order had been sent.`,
  aborting: (m: Migration, reason: string) =>
    `Migration of VM ${m.vmId} from ${src(m)} to ${dest(m)} (attempt ${m.attempt}) is aborted: ${reason}. The source is ordered to cancel; the outcome follows from both hosts' reports.`,
  noHostForRerun: (m: Migration) => `No other host can take VM ${m.vmId}: the migration is not tried again.`,
  stalled: (m: Migration) => `Migration of VM ${m.vmId} is stalled: ${m.stalledReason ?? 'unknown reason'}.`,
  runningOnBoth: (vmId: string, a: string, b: string) => `VM ${vmId} is reported running on both ${a} and ${b}.`,
  reportIgnored: (vmId: string, hostId: string, why: string) => `Report of host ${hostId} about VM ${vmId} ignored: ${why}.`,
  vmDown: (vmId: string, hostId: string, reason: string | null) => `VM ${vmId} is down on host ${hostId}${exit(reason)}.`,
  vmUnknown: (vmId: string, hostId: string) => `VM ${vmId} is set to UNKNOWN: host ${hostId} is not responding.`,
  vmRestored: (vmId: string, hostId: string) => `VM ${vmId} is reported again by host ${hostId}.`,
  vmDownByFence: (vmId: string, hostId: string) => `VM ${vmId} is set DOWN: host ${hostId} was fenced.`,
  fenceSucceeded: (hostId: string, method: string, message: string | null) =>
    `Host ${hostId} was fenced (${method.toLowerCase()})${message ? `: ${message}` : ''}; it is rebooting.`,
  fenceFailed: (hostId: string, method: string, message: string | null) =>
    `Fencing host ${hostId} (${method.toLowerCase()}) failed${message ? `: ${message}` : ''}; its VMs stay as they are.`,
  hostNotResponding: (hostId: string, why: string) => `Host ${hostId} is not responding: ${why}.`,
  hostRecovered: (hostId: string) => `Host ${hostId} is responding again.`,
};

/** A DOWN with a normal exit is ordinary; any other exit is an error an operator must see. */
export const isNormalExit = (reason: string | null): boolean =>
  reason === null || reason === ExitReason.NORMAL || reason === ExitReason.MIGRATION_SUCCEEDED;
