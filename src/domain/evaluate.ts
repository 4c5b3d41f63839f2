/**
 * The main idea of the seed, made precise (docs/contract.md §2): success or failure is declared only
 * from correct statuses of both hosts. This pure function looks an entry's pair of reports up in
 * the decision table and lets a deciding row (1–3) through only when
 *   - both sides are heard in the current attempt,
 *   - both sides are trustworthy (host responsive, or the report was set by a successful fence),
 *   - the source has confirmed the attempt, and
 *   - for row 1, the destination's DOWN was heard after the source's DOWN (or was set by a fence).
 * The same evaluation says what holds an undecided entry back (`blockedBy`, docs/contract.md §10):
 * each condition above that fails is a blocker, so the explanation can never disagree with the
 * decision.
 */
import { decide, type Decision } from './decision-table.js';
import { Interned } from './interned.js';
import type { DecisionBlocker, Side } from './model.js';
import { DecisionBlockerCode, HostStatus, isResponsive, MigrationState, ReportedVmStatus, VmLocation, VmStatus } from './vocabulary.js';

export interface EntryView {
  readonly source: Side;
  readonly destination: Side;
  /** Status of each side's host; null when the side or its host is not known. */
  readonly sourceHostStatus: HostStatus | null;
  readonly destinationHostStatus: HostStatus | null;
  readonly sourceConfirmed: boolean;
  /** The source has not confirmed within the start timeout (an engine-started attempt only). */
  readonly confirmationOverdue?: boolean;
  /** Transit ordered the source to abort this attempt (a passed deadline, or a cancel): why, in words; null when it did not. */
  readonly abortOrdered?: string | null;
}

export interface Evaluation {
  readonly vmStatus: VmStatus;
  readonly location: VmLocation | null;
  /** IN_PROGRESS, or the outcome decided now. */
  readonly outcome: MigrationState;
  readonly stalled: boolean;
  readonly stalledReason: string | null;
  /** Both sides, heard and trusted, say the VM runs. */
  readonly runningOnBoth: boolean;
  /** The table's rule for the pair, once both sides are heard; null before. */
  readonly rule: Decision | null;
  /** Every reason the decision is held back right now (docs/contract.md §10); empty once decided. */
  readonly blockedBy: readonly DecisionBlocker[];
}

/** A fenced host's report is trustworthy: it was rebooted. Otherwise only a responsive host is believed. */
export const isTrusted = (side: Side, hostStatus: HostStatus | null): boolean =>
  side.fenced || (hostStatus !== null && isResponsive(hostStatus));

const stallOf = (role: 'source' | 'destination', side: Side, hostStatus: HostStatus | null): string | null => {
  if (side.hostId === null) return `peer unknown: waiting for the ${role} host to report the VM`;
  if (side.fenced) return null;
  if (hostStatus === null) return `${role} host ${side.hostId} has not registered`;
  if (hostStatus === HostStatus.NON_RESPONSIVE) return `${role} host ${side.hostId} is not responding`;
  if (hostStatus === HostStatus.REBOOTING) return `${role} host ${side.hostId} is rebooting`;
  return null;
};

type Role = 'source' | 'destination';

const CODES = {
  source: {
    notHeard: DecisionBlockerCode.SOURCE_NOT_HEARD,
    unresponsive: DecisionBlockerCode.SOURCE_UNRESPONSIVE,
  },
  destination: {
    notHeard: DecisionBlockerCode.DESTINATION_NOT_HEARD,
    unresponsive: DecisionBlockerCode.DESTINATION_UNRESPONSIVE,
  },
} as const;

/**
 * Blockers and lists of blockers are shared, not built per entry: every entry in flight holds its
 * `blockedBy` (and every snapshot a transition keeps), and most say the same few things about the
 * same hosts. Built anew, they cost about 330 B per entry (the memory benchmark: 100,000 entries).
 * Snapshots are immutable, so sharing is safe (interned.ts).
 */
const blockers = new Interned<DecisionBlocker>(20_000);
const blockerLists = new Interned<readonly DecisionBlocker[]>(20_000);
const NO_BLOCKERS: readonly DecisionBlocker[] = Object.freeze([]);

/** The message names the role and the host: it identifies the blocker. */
const blocker = (code: DecisionBlockerCode, hostId: string | null, message: string): DecisionBlocker =>
  blockers.of(message, () => ({ code, hostId, message }), (kept) => kept.code === code && kept.hostId === hostId);

/** The one shared list holding these blockers, in this order. */
function interned(list: DecisionBlocker[]): readonly DecisionBlocker[] {
  if (list.length === 0) return NO_BLOCKERS;
  const key = list.length === 1 ? (list[0] as DecisionBlocker).message : list.map((b) => b.message).join('\n');
  return blockerLists.of(key, () => list, (kept) => kept.length === list.length && kept.every((b, i) => b === list[i]));
}

/** What one side holds back: not known, not registered, not trustworthy, not heard. */
function sideBlockers(role: Role, side: Side, hostStatus: HostStatus | null): DecisionBlocker[] {
  if (side.hostId === null) return [blocker(DecisionBlockerCode.PEER_UNKNOWN, null, `the ${role} host is not known yet: waiting for a host to report the VM`)];
  const found: DecisionBlocker[] = [];
  if (!side.fenced && hostStatus === null) found.push(blocker(DecisionBlockerCode.HOST_NOT_REGISTERED, side.hostId, `${role} host ${side.hostId} has not registered`));
  else if (!isTrusted(side, hostStatus)) {
    found.push(blocker(CODES[role].unresponsive, side.hostId, `${role} host ${side.hostId} is ${hostStatus}: its reports cannot be trusted`));
  }
  if (side.report === null) found.push(blocker(CODES[role].notHeard, side.hostId, `${role} host ${side.hostId} has not reported the VM in this attempt`));
  return found;
}

/** Why an entry whose pair of reports is `rule` (null: a side not heard) is not decided, in the order of §2's conditions. */
function blockersOf(entry: EntryView, rule: Decision | null, runningOnBoth: boolean): readonly DecisionBlocker[] {
  const { source, destination } = entry;
  const found = [...sideBlockers('source', source, entry.sourceHostStatus), ...sideBlockers('destination', destination, entry.destinationHostStatus)];
  if (!entry.sourceConfirmed) {
    const late = entry.confirmationOverdue === true ? ' within the start timeout' : '';
    found.push(blocker(DecisionBlockerCode.SOURCE_NOT_CONFIRMED, source.hostId, `the source has not confirmed the attempt (MIGRATING_FROM or DOWN)${late}`));
  }
  if (rule?.outcome === MigrationState.VM_DOWN && !destination.fenced && destination.heardOrder <= source.heardOrder) {
    found.push(
      blocker(
        DecisionBlockerCode.DESTINATION_DOWN_NOT_FRESH,
        destination.hostId,
        "the destination's DOWN was heard before the source's DOWN: it may not have received the VM yet",
      ),
    );
  }
  if (runningOnBoth) found.push(blocker(DecisionBlockerCode.RUNNING_ON_BOTH, null, 'both hosts report the VM running: nothing is decided until one side changes'));
  if (entry.abortOrdered != null && source.report === ReportedVmStatus.MIGRATING_FROM) {
    found.push(blocker(DecisionBlockerCode.ABORT_ORDERED, source.hostId, `the source was ordered to abort (${entry.abortOrdered}) and still reports MIGRATING_FROM`));
  }
  return interned(found);
}

/**
 * An entry still in flight: its VM migrating, at the source. Written out as a literal: an object
 * spread followed by properties its source lacks (`{ ...view, stalled }`) takes V8 11.3 (Node 20)
 * a slow path of about 10 µs, and this runs at every report about a migrating VM.
 */
const inProgress = (stalled: boolean, stalledReason: string | null, runningOnBoth: boolean, rule: Decision | null, blockedBy: readonly DecisionBlocker[]): Evaluation => ({
  vmStatus: VmStatus.MIGRATING_FROM,
  location: VmLocation.SOURCE,
  outcome: MigrationState.IN_PROGRESS,
  stalled,
  stalledReason,
  runningOnBoth,
  rule,
  blockedBy,
});

/** Two reasons as one, either may be absent. */
const joined = (a: string | null, b: string | null): string | null => (a === null ? b : b === null ? a : `${a}; ${b}`);

export function evaluate(entry: EntryView): Evaluation {
  const { source, destination, sourceHostStatus, destinationHostStatus } = entry;
  // The start timeout is held back while the destination shows the VM arriving: say so.
  const overdue = entry.confirmationOverdue === true && !entry.sourceConfirmed ? 'the source has not confirmed the migration within the start timeout' : null;
  const stalledReason = joined(joined(stallOf('source', source, sourceHostStatus), stallOf('destination', destination, destinationHostStatus)), overdue);
  const stalled = stalledReason !== null;

  if (source.report === null || destination.report === null) {
    // An unconfirmed source still runs the VM (its UP is only not applied): a destination that
    // runs it too, past the start timeout, is a VM on two hosts.
    const runningOnBoth =
      entry.confirmationOverdue === true && !entry.sourceConfirmed && destination.report === ReportedVmStatus.UP && isTrusted(destination, destinationHostStatus);
    return inProgress(stalled, stalledReason, runningOnBoth, null, blockersOf(entry, null, runningOnBoth));
  }
  const rule = decide(source.report, destination.report);
  const trusted = isTrusted(source, sourceHostStatus) && isTrusted(destination, destinationHostStatus);
  const runningOnBoth = trusted && source.report === ReportedVmStatus.UP && destination.report === ReportedVmStatus.UP;

  const destinationDownIsFresh =
    rule.outcome !== MigrationState.VM_DOWN || destination.fenced || destination.heardOrder > source.heardOrder;
  const decisive = rule.outcome !== MigrationState.IN_PROGRESS && trusted && entry.sourceConfirmed && destinationDownIsFresh;

  if (!decisive) return inProgress(stalled, stalledReason, runningOnBoth, rule, blockersOf(entry, rule, runningOnBoth));
  return {
    vmStatus: rule.vmStatus,
    location: rule.location,
    outcome: rule.outcome,
    stalled: false,
    stalledReason: null,
    runningOnBoth: false,
    rule,
    blockedBy: NO_BLOCKERS,
  };
}
