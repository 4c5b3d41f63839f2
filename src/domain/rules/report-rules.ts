/**
 * What a host's report does (docs/contract.md §2–§3). A report about a VM in the migration table is
 * applied to the side its host plays — or ignored when the host is neither side or contradicts its
 * role — and the entry is evaluated again. A MIGRATING_FROM/MIGRATING_TO report about a VM outside
 * the table brings it in (the seed's second way in). Otherwise the report places the VM.
 */
import { statusOnRecovery } from '../evacuation/evacuation-rules.js';
import { evaluate } from '../evaluate.js';
import { newEntry, reevaluate, sameBlockers, settle, viewOf } from './entry-rules.js';
import { isTrustedNow } from './entry-store.js';
import { addHost, restoreUnknown, setHostStatus } from './host-rules.js';
import { isNormalExit, messages } from '../messages.js';
import type { Host, Migration, ReportVmStatusesInput, Side, VmReportInput } from '../model.js';
import { vmStateOf, type Recording } from '../table/recording.js';
import { notHeard, type TableContext } from '../table/table-context.js';
import type { VmRecord } from '../table/table-state.js';
import { Cause, DEFAULT_CLUSTER, DestinationChoice, EventType, HostStatus, isResponsive, MigrationState, ReportedVmStatus, Severity, VmStatus } from '../vocabulary.js';

/** Replaced boots remembered per host: a batch delayed past this many reboots is no longer recognised. */
export const SUPERSEDED_BOOTS_KEPT = 16;
/**
 * The batch repeats the host's last one that changed nothing, and nothing it depends on has changed
 * since (`QuietBatches`): applying it would change nothing again, so none of its VMs need be read.
 * `fingerprint`: `batchFingerprint(input)`.
 */
export function repeatsQuietBatch(ctx: TableContext, input: ReportVmStatusesInput, fingerprint: string | null): boolean {
  if (fingerprint === null) return false;
  const host = ctx.state.hosts.get(input.hostId);
  if (host === undefined || isRecovering(host) || (input.bootId != null && input.bootId !== host.bootId)) return false;
  return ctx.state.quietBatches.repeats(input.hostId, fingerprint);
}

const isRecovering = (host: Host) => host.status === HostStatus.NON_RESPONSIVE || host.status === HostStatus.REBOOTING;

/**
 * An item that changes nothing and would change nothing again while its VM, its migration and the
 * hosts of that migration stay as they are (`QuietBatches` forgets the batch when one changes), at
 * the memory the VM has: an UP of a VM already UP on the host, in no migration; or a side
 * repeating its report on a migration whose verdict holds without evaluating it (`isRepeat`).
 */
function isQuietItem(ctx: TableContext, hostId: string, item: VmReportInput): boolean {
  const vm = ctx.state.vms.get(item.vmId);
  if (vm === undefined || (item.memoryMiB != null && item.memoryMiB !== vm.memoryMiB)) return false;
  if (vm.migrationId === null) return item.status === ReportedVmStatus.UP && vm.hostId === hostId && vm.status === VmStatus.UP;
  const entry = ctx.state.entries.get(item.vmId);
  if (entry === undefined) return false;
  if (entry.source.hostId === hostId) return item.status === ReportedVmStatus.MIGRATING_FROM && sideRepeats(entry, 'source', item) && holdsVerdict(ctx, entry, 'source');
  if (entry.destination.hostId === hostId) return item.status === ReportedVmStatus.MIGRATING_TO && sideRepeats(entry, 'destination', item) && holdsVerdict(ctx, entry, 'destination');
  return false;
}

/**
 * Applies an accepted batch: the host is heard (and back UP if it was not), then each report.
 * `fingerprint` (`batchFingerprint(input)`): a batch that repeats the host's last quiet one only
 * marks the host heard; a batch found quiet is remembered as such.
 */
export function applyBatch(ctx: TableContext, rec: Recording, input: ReportVmStatusesInput, fingerprint: string | null): Host {
  const hostId = input.hostId;
  const repeated = repeatsQuietBatch(ctx, input, fingerprint);
  const host = ctx.state.hosts.get(hostId) ?? addHost(ctx, rec, hostId, input.cluster ?? DEFAULT_CLUSTER, Cause.HOST_REPORT);
  const recovering = isRecovering(host);
  const bootChanged = input.bootId != null && input.bootId !== host.bootId;
  ctx.state.putHost({
    ...host,
    lastReportAt: rec.now,
    lastSeenAt: rec.now,
    bootId: input.bootId ?? host.bootId,
    lastSequence: input.sequence ?? (bootChanged ? null : host.lastSequence),
    // The boot it replaces is over: a batch of it that arrives late is stale (issue 12, item 7).
    supersededBootIds: bootChanged && host.bootId !== null ? [...host.supersededBootIds, host.bootId].slice(-SUPERSEDED_BOOTS_KEPT) : host.supersededBootIds,
  });
  // Back as the operator left it: UP, or PREPARING_FOR_MAINTENANCE while an evacuation holds it (§9).
  if (recovering) setHostStatus(ctx, rec, hostId, statusOnRecovery(ctx, hostId), Cause.HOST_RECOVERED);
  if (repeated) return ctx.state.hosts.get(hostId) as Host;

  // Quiet so far: every item one that changes nothing (checked before it applies).
  let quiet = !recovering && !bootChanged;
  const listed = new Set<string>();
  for (const item of input.vms) {
    listed.add(item.vmId);
    quiet &&= isQuietItem(ctx, hostId, item);
    applyReport(ctx, rec, hostId, item);
  }
  if (input.full === true) {
    // A full batch lists every VM on the host: one it does not list is DOWN there. (Collected
    // first: applying a DOWN moves the VM out of the sets read here.)
    const missing = new Set<string>();
    for (const vmId of ctx.state.vmIdsOnHost(hostId)) if (!listed.has(vmId)) missing.add(vmId);
    for (const vmId of ctx.state.entryVmIdsOfHost(hostId)) if (!listed.has(vmId)) missing.add(vmId);
    for (const vmId of missing) applyReport(ctx, rec, hostId, { vmId, status: ReportedVmStatus.DOWN });
    quiet &&= missing.size === 0;
  }
  if (quiet && fingerprint !== null) ctx.state.quietBatches.remember(hostId, fingerprint);
  if (recovering) {
    // VMs the host did not mention run as before it stopped answering.
    for (const vmId of [...ctx.state.vmIdsOnHost(hostId)]) restoreUnknown(ctx, rec, vmId, hostId, Cause.HOST_RECOVERED);
    for (const vmId of ctx.state.entryVmIdsOfHost(hostId)) reevaluate(ctx, rec, vmId, Cause.HOST_RECOVERED, hostId);
  }
  return ctx.state.hosts.get(hostId) as Host;
}

/** Applies one host's report about one VM. */
function applyReport(ctx: TableContext, rec: Recording, hostId: string, item: VmReportInput): void {
  ctx.state.named(item.vmId); // a VM DOWN on no host starts its retention again (§11)
  applyStatus(ctx, rec, hostId, item);
  // The VM's memory sizes the completion deadline of its migrations (§8).
  const vm = item.memoryMiB == null ? undefined : ctx.state.vms.get(item.vmId);
  if (vm !== undefined && vm.memoryMiB !== item.memoryMiB) ctx.state.updateVm(vm, { memoryMiB: item.memoryMiB as number });
}

function applyStatus(ctx: TableContext, rec: Recording, hostId: string, item: VmReportInput): void {
  // A VM has an entry exactly when it points at one: one map lookup for a VM outside the table.
  const known = ctx.state.vms.get(item.vmId);
  const entry = known !== undefined && known.migrationId !== null ? ctx.state.entries.get(item.vmId) : undefined;
  if (entry !== undefined) return applyToEntry(ctx, rec, hostId, item, entry);
  switch (item.status) {
    case ReportedVmStatus.MIGRATING_FROM:
    case ReportedVmStatus.MIGRATING_TO:
      return discover(ctx, rec, hostId, item);
    case ReportedVmStatus.UP:
      return reportedUp(ctx, rec, hostId, item.vmId, known);
    case ReportedVmStatus.DOWN:
      return reportedDown(ctx, rec, hostId, item);
  }
}

function applyToEntry(ctx: TableContext, rec: Recording, hostId: string, item: VmReportInput, entry: Migration): void {
  const { status } = item;
  let role: 'source' | 'destination';
  let next: Migration = entry;
  if (entry.source.hostId === hostId) role = 'source';
  else if (entry.destination.hostId === hostId) role = 'destination';
  else if (entry.source.hostId === null && (status === ReportedVmStatus.MIGRATING_FROM || status === ReportedVmStatus.UP)) {
    role = 'source';
    next = { ...entry, source: notHeard(hostId) };
  } else if (entry.destination.hostId === null && (status === ReportedVmStatus.MIGRATING_TO || status === ReportedVmStatus.UP)) {
    role = 'destination';
    next = { ...entry, destination: notHeard(hostId) };
  } else {
    // A host that is neither side saying it does not run the VM agrees with the table: nothing to say.
    if (status !== ReportedVmStatus.DOWN) ignored(ctx, rec, entry, hostId, `host ${hostId} is neither the source nor the destination of migration ${entry.id}`);
    return;
  }
  if (role === 'source' && status === ReportedVmStatus.MIGRATING_TO) return ignored(ctx, rec, entry, hostId, 'the source reported MIGRATING_TO');
  if (role === 'destination' && status === ReportedVmStatus.MIGRATING_FROM) return ignored(ctx, rec, entry, hostId, 'the destination reported MIGRATING_FROM');
  // An UP from the source before it confirmed was sent before the order reached it.
  if (role === 'source' && status === ReportedVmStatus.UP && !next.sourceConfirmed) return;
  if (next === entry && isRepeat(ctx, rec, entry, role, item)) return;
  // An entry that does not know the other side yet takes the peer this report names (docs/contract.md §3).
  const peer = item.peerHostId ?? null;
  if (peer !== null && role === 'source' && next.destination.hostId === null) next = { ...next, destination: notHeard(peer) };
  if (peer !== null && role === 'destination' && next.source.hostId === null) next = { ...next, source: notHeard(peer) };

  const side: Side = {
    hostId,
    report: status,
    heardOrder: ctx.nextHeard(),
    fenced: false,
    exitReason: status === ReportedVmStatus.DOWN ? (item.exitReason ?? null) : null,
  };
  if (role === 'source') {
    const confirms = status === ReportedVmStatus.MIGRATING_FROM || status === ReportedVmStatus.DOWN;
    const progress = status === ReportedVmStatus.MIGRATING_FROM && item.progress != null ? Math.max(next.progress ?? 0, item.progress) : next.progress;
    // The progress timeout counts from the confirmation, and again from every rise (§8).
    const rose = progress !== null && (next.progress === null || progress > next.progress);
    const progressAt = (confirms && !next.sourceConfirmed) || rose ? rec.now : next.progressAt;
    next = { ...next, source: side, sourceConfirmed: next.sourceConfirmed || confirms, progress, progressAt };
  } else {
    next = { ...next, destination: side };
  }
  settle(ctx, rec, next, Cause.HOST_REPORT, hostId);
}

/**
 * A side repeating the report it last made, adding nothing (a source's MIGRATING_FROM at the same
 * progress, every 2 s for the whole migration): nothing a reader sees may change, so the entry is
 * left as it is, neither rebuilt nor re-indexed. Only when
 * - the report is the side's current one, and not DOWN: a side's `heardOrder` is compared only between
 *   two DOWN reports (row 1 of the decision table), and a side that reports DOWN later is heard
 *   afresh then, so a repeated UP, MIGRATING_FROM or MIGRATING_TO need not move it;
 * - the side was not set by a fence, and confirms nothing new, raises no progress, names no peer
 *   the entry lacks;
 * - the entry's verdict, evaluated now, is the one it holds (a host's status or the clock may have
 *   moved since it was last evaluated: then the report goes the whole way, as any other). An entry
 *   that was not stalled, whose source has confirmed and whose sides are still trusted holds its
 *   verdict without evaluating it again (that is all the evaluation reads besides the sides).
 */
function isRepeat(ctx: TableContext, rec: Recording, entry: Migration, role: 'source' | 'destination', item: VmReportInput): boolean {
  if (!sideRepeats(entry, role, item)) return false;
  if (holdsVerdict(ctx, entry, role)) return true;
  const verdict = evaluate(viewOf(ctx, entry, rec.now));
  return (
    verdict.outcome === MigrationState.IN_PROGRESS &&
    verdict.vmStatus === entry.vmStatus &&
    verdict.location === entry.location &&
    verdict.stalled === entry.stalled &&
    verdict.stalledReason === entry.stalledReason &&
    verdict.runningOnBoth === entry.runningOnBoth &&
    sameBlockers(verdict.blockedBy, entry.blockedBy)
  );
}

/** The side's report repeats the one it holds and adds nothing (the first half of `isRepeat`). */
function sideRepeats(entry: Migration, role: 'source' | 'destination', item: VmReportInput): boolean {
  const side = role === 'source' ? entry.source : entry.destination;
  if (item.status === ReportedVmStatus.DOWN || side.report !== item.status || side.fenced) return false;
  if (item.peerHostId != null && (role === 'source' ? entry.destination.hostId : entry.source.hostId) === null) return false;
  if (role === 'source') {
    if (!entry.sourceConfirmed && item.status === ReportedVmStatus.MIGRATING_FROM) return false;
    if (item.status === ReportedVmStatus.MIGRATING_FROM && item.progress != null && item.progress > (entry.progress ?? Number.NEGATIVE_INFINITY)) return false;
  }
  return true;
}

/**
 * Not stalled when last evaluated means both sides' hosts were trusted then (responsive, or the
 * side fenced) and no start timeout was due: if that still holds, the verdict is the same one,
 * whatever the clock says. The reporting side is trusted: its host has just been heard (and set UP
 * if it was not).
 */
function holdsVerdict(ctx: TableContext, entry: Migration, role: 'source' | 'destination'): boolean {
  const other = role === 'source' ? entry.destination : entry.source;
  return !entry.stalled && (entry.sourceConfirmed || entry.destinationChoice === DestinationChoice.DISCOVERED) && isTrustedNow(ctx, other);
}

/** The seed's second way into the table: a host reports a migration Transit does not know of. */
function discover(ctx: TableContext, rec: Recording, hostId: string, item: VmReportInput): void {
  const vm = vmFor(ctx, rec, item.vmId);
  const heard: Side = { hostId, report: item.status, heardOrder: ctx.nextHeard(), fenced: false, exitReason: null };
  const peer = item.peerHostId ?? null;
  // No order of ours is in flight, so the source need not confirm: the hosts' word is all there is.
  const entry =
    item.status === ReportedVmStatus.MIGRATING_FROM
      ? newEntry(ctx, rec, vm, {
          source: heard,
          destination: notHeard(peer),
          destinationChoice: DestinationChoice.DISCOVERED,
          sourceConfirmed: true,
          progress: item.progress ?? null,
        })
      : newEntry(ctx, rec, vm, {
          // Where the VM ran before is where it comes from, unless the report names its peer.
          source: notHeard(peer ?? (vm.hostId !== null && vm.hostId !== hostId ? vm.hostId : null)),
          destination: heard,
          destinationChoice: DestinationChoice.DISCOVERED,
          sourceConfirmed: true,
        });
  settle(ctx, rec, entry, Cause.HOST_REPORT, hostId);
  rec.event(EventType.MIGRATION_STARTED, messages.migrationDiscovered(entry, hostId), entry);
}

function reportedUp(ctx: TableContext, rec: Recording, hostId: string, vmId: string, known: VmRecord | undefined): void {
  const vm = known ?? vmFor(ctx, rec, vmId);
  if (vm.hostId === hostId && vm.status === VmStatus.UP) return;
  if (vm.hostId === hostId && vm.status === VmStatus.UNKNOWN) return restoreUnknown(ctx, rec, vmId, hostId, Cause.HOST_REPORT);
  const before = vmStateOf(vm);
  const formerHost = vm.hostId !== null ? ctx.state.hosts.get(vm.hostId) : undefined;
  if (formerHost !== undefined && vm.status === VmStatus.UP && isResponsive(formerHost.status)) {
    // Split brain, or a migration Transit never saw: the latest report places the VM, loudly.
    rec.event(EventType.VM_RUNNING_ON_BOTH_HOSTS, messages.runningOnBoth(vmId, formerHost.id, hostId), null, vmId, hostId);
  }
  ctx.state.updateVm(vm, { status: VmStatus.UP, hostId, location: null, statusBeforeUnknown: null });
  rec.vm(Cause.HOST_REPORT, vm, before, hostId, null);
}

function reportedDown(ctx: TableContext, rec: Recording, hostId: string, item: VmReportInput): void {
  const existing = ctx.state.vms.get(item.vmId);
  if (existing === undefined) {
    const vm = vmFor(ctx, rec, item.vmId); // known from now on, DOWN nowhere
    rec.vm(Cause.HOST_REPORT, vm, vmStateOf(vm), hostId, null, true);
    return;
  }
  if (existing.hostId !== hostId) return; // another host does not run it: nothing changes
  const before = vmStateOf(existing);
  ctx.state.updateVm(existing, { status: VmStatus.DOWN, hostId: null, location: null, statusBeforeUnknown: null });
  rec.vm(Cause.HOST_REPORT, existing, before, hostId, null);
  const reason = item.exitReason ?? null;
  rec.event(EventType.VM_DOWN, messages.vmDown(existing.id, hostId, reason), null, existing.id, hostId, isNormalExit(reason) ? undefined : Severity.ERROR);
}

function ignored(ctx: TableContext, rec: Recording, entry: Migration, hostId: string, why: string): void {
  ctx.reportCounts.ignored++;
  rec.event(EventType.REPORT_IGNORED, messages.reportIgnored(entry.vmId, hostId, why), entry, entry.vmId, hostId);
}

/** The VM's record, created (DOWN, on no host) when Transit first hears of it. */
function vmFor(ctx: TableContext, rec: Recording, vmId: string): VmRecord {
  const known = ctx.state.vms.get(vmId);
  if (known !== undefined) return known;
  rec.newVms.add(vmId);
  return ctx.state.createVm(vmId);
}
