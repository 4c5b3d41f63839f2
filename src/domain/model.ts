/**
 * The plain data the table holds and hands out. Everything handed out is read-only:
 * a migration snapshot is never changed after it is made, so a transition that carries one
 * shows the entry as it was then, whatever happened since.
 */
import type {
  Cause,
  DecisionBlockerCode,
  DestinationChoice,
  ErrorCode,
  EvacuationState,
  EventType,
  FenceMethod,
  HostCommandKind,
  HostStatus,
  MigrationPriority,
  MigrationState,
  ReportedVmStatus,
  Severity,
  VmLocation,
  VmStatus,
} from './vocabulary.js';

/** Milliseconds since the Unix epoch, as the injected clock reads them. */
export type Millis = number;

export interface Host {
  readonly id: string;
  readonly cluster: string;
  readonly status: HostStatus;
  /** When the host last sent an accepted report; null before its first. */
  readonly lastReportAt: Millis | null;
  /** What the host timeout counts from: the last report, the registration, or the return to UP. */
  readonly lastSeenAt: Millis;
  readonly bootId: string | null;
  /** The highest `sequence` accepted from this boot; null when none was sent. */
  readonly lastSequence: number | null;
  /** The boots this host has since replaced, latest last (a few kept): their batches are stale. */
  readonly supersededBootIds: readonly string[];
}

/** A VM's state as a transition shows it. */
export interface VmState {
  readonly status: VmStatus;
  /** Where it runs (the source while it migrates); null when DOWN or not known. */
  readonly hostId: string | null;
  /** Only while it migrates. */
  readonly location: VmLocation | null;
}

export interface Vm extends VmState {
  readonly id: string;
  /** Order in which Transit first heard of the VM; pages of VMs follow it. */
  readonly ordinal: number;
  /** Id of its entry in the migration table; null when it is not in the table (a pending migration is not). */
  readonly migrationId: string | null;
  /** Its memory as a host last reported it (`VmReportInput.memoryMiB`); null while none did. */
  readonly memoryMiB: number | null;
}

/** What one side (source or destination) of an entry has said in the current attempt. */
export interface Side {
  /** Null while the side is not known (an entry rebuilt after a restart waits for its peer). */
  readonly hostId: string | null;
  /** The latest report applied to this side in the current attempt; null while not heard. */
  readonly report: ReportedVmStatus | null;
  /**
   * The table-wide order in which that report arrived; compares reports of the two sides
   * ("a destination DOWN heard after the source's DOWN"). 0 while not heard.
   */
  readonly heardOrder: number;
  /** The report was set by a successful fence: trustworthy, the host was rebooted. */
  readonly fenced: boolean;
  readonly exitReason: string | null;
}

export interface MigrationAttempt {
  readonly attempt: number;
  readonly destinationHostId: string | null;
  readonly state: MigrationState;
  readonly startedAt: Millis;
  readonly endedAt: Millis | null;
  readonly reason: string | null;
}

/** One reason a migration in flight is not decided yet (docs/contract.md §10). */
export interface DecisionBlocker {
  readonly code: DecisionBlockerCode;
  /** The host the condition is about; null when none is known. */
  readonly hostId: string | null;
  readonly message: string;
}

/**
 * A migration: pending in the queue (not in the table), an entry of the migration table (in
 * flight), or one of its recent history (decided).
 */
export interface Migration {
  readonly id: string;
  /** Order in which the migration entered the table; pages of migrations follow it. */
  readonly ordinal: number;
  readonly vmId: string;
  readonly source: Side;
  readonly destination: Side;
  readonly destinationChoice: DestinationChoice;
  readonly vmStatus: VmStatus;
  readonly location: VmLocation | null;
  readonly state: MigrationState;
  readonly stalled: boolean;
  readonly stalledReason: string | null;
  readonly cancelRequested: boolean;
  /** The source has confirmed the current attempt (reported MIGRATING_FROM or DOWN). */
  readonly sourceConfirmed: boolean;
  readonly attempt: number;
  readonly attempts: readonly MigrationAttempt[];
  /** Pre-copy progress of the current attempt, 0–100; never goes down within an attempt. */
  readonly progress: number | null;
  readonly startedAt: Millis;
  readonly attemptStartedAt: Millis;
  readonly endedAt: Millis | null;
  /** Why the migration ended as it did, in words; null while in progress. */
  readonly reason: string | null;
  /** Both sides reported UP when last evaluated (raised once per entry into that state). */
  readonly runningOnBoth: boolean;
  /** Evacuations start first (docs/contract.md §8–§9). */
  readonly priority: MigrationPriority;
  /** What a pending migration waits for, in words; null unless PENDING. */
  readonly waitingReason: string | null;
  /** When the current attempt entered the queue; null unless PENDING. */
  readonly queuedAt: Millis | null;
  /** Why Transit ordered the source to abort the current attempt (a passed deadline); null when it did not. */
  readonly abortReason: string | null;
  /**
   * What the progress timeout counts from: when the source confirmed the attempt (or the entry was
   * discovered) and every time its progress rose since; null before.
   */
  readonly progressAt: Millis | null;
  /** Every reason holding back the decision right now; empty while pending, in progress with nothing pending, or decided. */
  readonly blockedBy: readonly DecisionBlocker[];
}

/** Every change to an entry, a VM or a host. `seq` is strictly increasing within an engine epoch. */
export interface Transition {
  readonly seq: number;
  readonly at: Millis;
  readonly cause: Cause;
  readonly vmId: string | null;
  /** The host the change is about or came from. */
  readonly hostId: string | null;
  /** The entry right after this transition (a snapshot), when the VM is or was just migrating. */
  readonly migration: Migration | null;
  readonly from: VmState | null;
  readonly to: VmState | null;
  /** Host status before and after, for a transition of a host. */
  readonly hostStatusFrom: HostStatus | null;
  readonly hostStatusTo: HostStatus | null;
  /** Every host the transition concerns, for filtering subscriptions. */
  readonly hostIds: readonly string[];
  /** Who caused it: the credential that sent the command (`open` in open mode), or `engine` for the clock. */
  readonly actor: string;
}

export interface EngineEvent {
  readonly seq: number;
  readonly at: Millis;
  readonly type: EventType;
  readonly severity: Severity;
  readonly message: string;
  readonly vmId: string | null;
  readonly hostId: string | null;
  readonly migrationId: string | null;
  /** Every host the event concerns (its host, and both sides of its migration), for filtering. */
  readonly hostIds: readonly string[];
  /** Who caused it, as for a transition. */
  readonly actor: string;
}

/** An order on a host agent's command stream. */
export interface HostCommand {
  readonly kind: HostCommandKind;
  /** The host that must carry it out: always the migration's source. */
  readonly hostId: string;
  readonly migrationId: string;
  readonly vmId: string;
  readonly destinationHostId: string | null;
  readonly attempt: number;
  readonly issuedAt: Millis;
}

/** A VM an evacuation cannot move, or has not moved yet, and why (§9). */
export interface EvacuationBlocker {
  readonly vmId: string;
  readonly reason: string;
}

/**
 * An evacuation of one host (§9), as the read side hands it out: the counts and blockers are those
 * of the moment it was read while it runs, and those it ended with once it has ended.
 */
export interface Evacuation {
  readonly id: string;
  /** Order in which evacuations began; pages of evacuations follow it, newest first. */
  readonly ordinal: number;
  readonly hostId: string;
  readonly state: EvacuationState;
  readonly startedAt: Millis;
  readonly endedAt: Millis | null;
  /** Every VM that joined it (grows when one arrives on the host). */
  readonly total: number;
  /** VMs whose migration SUCCEEDED. */
  readonly moved: number;
  /** VMs still on the host. */
  readonly remaining: number;
  /** VMs that will not be moved by it: no eligible host, or every migration of theirs ended without moving them. */
  readonly failed: number;
  /** Its migrations, in the order they joined it. */
  readonly migrationIds: readonly string[];
  readonly blockers: readonly EvacuationBlocker[];
}

/** One move of an evacuation plan: where the VM would go if the evacuation started now. */
export interface EvacuationMove {
  readonly vmId: string;
  readonly destinationHostId: string;
}

/** The dry run of an evacuation (§9): changes nothing. */
export interface EvacuationPlan {
  readonly hostId: string;
  readonly moves: readonly EvacuationMove[];
  readonly blocked: readonly EvacuationBlocker[];
}

/** An expected refusal: typed, with the input field at fault. Nothing changed. */
export interface UserError {
  readonly code: ErrorCode;
  readonly message: string;
  /** Path of the offending input field, e.g. `vms.3.progress`; null when the input as a whole is at fault. */
  readonly field: string | null;
}

/** What a command returns: its result, or the refusals that left the table as it was. */
export type Outcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly UserError[] };

// ---- Inputs of the table's commands -------------------------------------------------------------

export interface RegisterHostInput {
  readonly hostId: string;
  readonly cluster?: string | null;
}

export interface MigrateVmInput {
  readonly vmId: string;
  readonly destinationHostId?: string | null;
}

export interface CancelMigrationInput {
  readonly vmId?: string | null;
  readonly migrationId?: string | null;
}

export interface VmReportInput {
  readonly vmId: string;
  readonly status: ReportedVmStatus;
  readonly progress?: number | null;
  readonly exitReason?: string | null;
  readonly peerHostId?: string | null;
  /** The VM's memory, in MiB: sizes the completion deadline of its migrations (docs/contract.md §8). */
  readonly memoryMiB?: number | null;
}

export interface ReportVmStatusesInput {
  readonly hostId: string;
  readonly vms: readonly VmReportInput[];
  /** The batch lists every VM on the host: a VM it does not list is DOWN there. */
  readonly full?: boolean | null;
  readonly sequence?: number | null;
  readonly bootId?: string | null;
  readonly cluster?: string | null;
}

export interface RemoveHostInput {
  readonly hostId: string;
}

export interface ReportHostStatusInput {
  readonly hostId: string;
  readonly status: HostStatus;
}

export interface EvacuateHostInput {
  readonly hostId: string;
}

export interface CancelEvacuationInput {
  readonly hostId: string;
}

export interface ReportFenceResultInput {
  readonly hostId: string;
  readonly succeeded: boolean;
  readonly method: FenceMethod;
  readonly message?: string | null;
}
