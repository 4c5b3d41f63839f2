/**
 * The whole vocabulary of Transit, in one place (after graphql-ws's `common.ts`).
 * Every other module, the GraphQL layer included, imports its words from here.
 * Each is an `as const` object with a same-named type, so it also runs under plain type stripping.
 */

/** What a host agent says about one VM it sees. */
export const ReportedVmStatus = {
  UP: 'UP',
  DOWN: 'DOWN',
  /** The reporting host is the migration source. */
  MIGRATING_FROM: 'MIGRATING_FROM',
  /** The reporting host is the migration destination. */
  MIGRATING_TO: 'MIGRATING_TO',
} as const;
export type ReportedVmStatus = (typeof ReportedVmStatus)[keyof typeof ReportedVmStatus];
export const REPORTED_VM_STATUSES = Object.values(ReportedVmStatus);

/** What Transit says about a VM. A VM in the migration table is always MIGRATING_FROM (the seed's table wins over its prose). */
export const VmStatus = {
  UP: 'UP',
  DOWN: 'DOWN',
  MIGRATING_FROM: 'MIGRATING_FROM',
  /** Its host stopped responding: nobody can say whether it runs. */
  UNKNOWN: 'UNKNOWN',
} as const;
export type VmStatus = (typeof VmStatus)[keyof typeof VmStatus];
export const VM_STATUSES = Object.values(VmStatus);

/** Where a migrating VM runs, relative to its migration. */
export const VmLocation = { SOURCE: 'SOURCE', DESTINATION: 'DESTINATION' } as const;
export type VmLocation = (typeof VmLocation)[keyof typeof VmLocation];

export const HostStatus = {
  UP: 'UP',
  NON_RESPONSIVE: 'NON_RESPONSIVE',
  /** Fenced successfully: rebooting, none of its VMs run. Its next report makes it UP. */
  REBOOTING: 'REBOOTING',
  /** Keeps reporting and is trusted, but is never chosen as a destination. */
  MAINTENANCE: 'MAINTENANCE',
  /** Being evacuated (§9): responsive and trusted like UP, never a destination, its VMs being moved away. */
  PREPARING_FOR_MAINTENANCE: 'PREPARING_FOR_MAINTENANCE',
} as const;
export type HostStatus = (typeof HostStatus)[keyof typeof HostStatus];
export const HOST_STATUSES = Object.values(HostStatus);

/** A host whose reports are believed as they come: it answers. */
export const isResponsive = (status: HostStatus): boolean =>
  status === HostStatus.UP || status === HostStatus.MAINTENANCE || status === HostStatus.PREPARING_FOR_MAINTENANCE;

export const MigrationState = {
  /** Accepted, waiting for a free slot (docs/contract.md §8): no order sent, the VM runs UP on its host, not in the table. */
  PENDING: 'PENDING',
  IN_PROGRESS: 'IN_PROGRESS',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
  /** Both sides report the VM down: the migration failed and the VM is down. */
  VM_DOWN: 'VM_DOWN',
  CANCELLED: 'CANCELLED',
} as const;
export type MigrationState = (typeof MigrationState)[keyof typeof MigrationState];
export const MIGRATION_STATES = Object.values(MigrationState);

/** A migration that has not decided yet: pending in the queue, or in flight in the table. */
export const isCurrent = (state: MigrationState): boolean => state === MigrationState.PENDING || state === MigrationState.IN_PROGRESS;

/** The scheduler starts evacuations first, then by the time a migration was accepted (docs/contract.md §8). */
export const MigrationPriority = {
  EVACUATION: 'EVACUATION',
  NORMAL: 'NORMAL',
} as const;
export type MigrationPriority = (typeof MigrationPriority)[keyof typeof MigrationPriority];
export const MIGRATION_PRIORITIES = Object.values(MigrationPriority);

/** What holds back the decision of a migration in flight right now (docs/contract.md §10). */
export const DecisionBlockerCode = {
  SOURCE_NOT_HEARD: 'SOURCE_NOT_HEARD',
  DESTINATION_NOT_HEARD: 'DESTINATION_NOT_HEARD',
  SOURCE_UNRESPONSIVE: 'SOURCE_UNRESPONSIVE',
  DESTINATION_UNRESPONSIVE: 'DESTINATION_UNRESPONSIVE',
  SOURCE_NOT_CONFIRMED: 'SOURCE_NOT_CONFIRMED',
  DESTINATION_DOWN_NOT_FRESH: 'DESTINATION_DOWN_NOT_FRESH',
  PEER_UNKNOWN: 'PEER_UNKNOWN',
  HOST_NOT_REGISTERED: 'HOST_NOT_REGISTERED',
  RUNNING_ON_BOTH: 'RUNNING_ON_BOTH',
  ABORT_ORDERED: 'ABORT_ORDERED',
} as const;
export type DecisionBlockerCode = (typeof DecisionBlockerCode)[keyof typeof DecisionBlockerCode];
export const DECISION_BLOCKER_CODES = Object.values(DecisionBlockerCode);

/** Who did what (docs/contract.md §10): the engine's own clock, and every caller in open mode. */
export const ENGINE_ACTOR = 'engine';
export const OPEN_ACTOR = 'open';

/** Who chose a migration's destination: only an engine-chosen destination is rerun elsewhere (§4). */
export const DestinationChoice = {
  ENGINE: 'ENGINE',
  USER: 'USER',
  /** The migration was found in the hosts' reports (after a restart, or started outside Transit). */
  DISCOVERED: 'DISCOVERED',
} as const;
export type DestinationChoice = (typeof DestinationChoice)[keyof typeof DestinationChoice];

export const FenceMethod = { AUTOMATIC: 'AUTOMATIC', MANUAL: 'MANUAL' } as const;
export type FenceMethod = (typeof FenceMethod)[keyof typeof FenceMethod];
export const FENCE_METHODS = Object.values(FenceMethod);

/** Why a transition happened. */
export const Cause = {
  MIGRATE_COMMAND: 'MIGRATE_COMMAND',
  HOST_REPORT: 'HOST_REPORT',
  HOST_REGISTERED: 'HOST_REGISTERED',
  HOST_STATUS_REPORTED: 'HOST_STATUS_REPORTED',
  HOST_UNRESPONSIVE: 'HOST_UNRESPONSIVE',
  HOST_RECOVERED: 'HOST_RECOVERED',
  FENCE_SUCCEEDED: 'FENCE_SUCCEEDED',
  FENCE_FAILED: 'FENCE_FAILED',
  CANCEL: 'CANCEL',
  RERUN: 'RERUN',
  START_TIMEOUT: 'START_TIMEOUT',
  /** An evacuation (§9) changed its host's status or started a migration of it. */
  EVACUATION: 'EVACUATION',
  /** The scheduler started a pending migration, changed why it waits, or ended it without starting (docs/contract.md §8). */
  SCHEDULER: 'SCHEDULER',
  /** A pending migration waited longer than the queue timeout. */
  QUEUE_TIMEOUT: 'QUEUE_TIMEOUT',
  /** The source's progress did not rise within the progress timeout: the attempt is aborted. */
  PROGRESS_TIMEOUT: 'PROGRESS_TIMEOUT',
  /** The attempt did not complete within the completion timeout: it is aborted. */
  COMPLETION_TIMEOUT: 'COMPLETION_TIMEOUT',
  /** An operator removed the host (removeHost, §11). */
  HOST_REMOVED: 'HOST_REMOVED',
} as const;
export type Cause = (typeof Cause)[keyof typeof Cause];
export const CAUSES = Object.values(Cause);

/** The event log's types, after oVirt's audit log. */
export const EventType = {
  MIGRATION_STARTED: 'MIGRATION_STARTED',
  MIGRATION_SUCCEEDED: 'MIGRATION_SUCCEEDED',
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  MIGRATION_TRYING_RERUN: 'MIGRATION_TRYING_RERUN',
  MIGRATION_NO_HOST_FOR_RERUN: 'MIGRATION_NO_HOST_FOR_RERUN',
  MIGRATION_CANCELLED: 'MIGRATION_CANCELLED',
  MIGRATION_STALLED: 'MIGRATION_STALLED',
  VM_DOWN: 'VM_DOWN',
  VM_SET_UNKNOWN: 'VM_SET_UNKNOWN',
  VM_STATUS_RESTORED: 'VM_STATUS_RESTORED',
  VM_SET_DOWN_BY_FENCE: 'VM_SET_DOWN_BY_FENCE',
  FENCE_SUCCEEDED: 'FENCE_SUCCEEDED',
  FENCE_FAILED: 'FENCE_FAILED',
  HOST_NOT_RESPONDING: 'HOST_NOT_RESPONDING',
  HOST_RECOVERED: 'HOST_RECOVERED',
  VM_RUNNING_ON_BOTH_HOSTS: 'VM_RUNNING_ON_BOTH_HOSTS',
  REPORT_IGNORED: 'REPORT_IGNORED',
  EVACUATION_STARTED: 'EVACUATION_STARTED',
  EVACUATION_COMPLETED: 'EVACUATION_COMPLETED',
  EVACUATION_FAILED: 'EVACUATION_FAILED',
  EVACUATION_CANCELLED: 'EVACUATION_CANCELLED',
  /** A migration waits for a free slot (docs/contract.md §8). */
  MIGRATION_QUEUED: 'MIGRATION_QUEUED',
  /** A deadline passed: the source is ordered to abort (docs/contract.md §8). */
  MIGRATION_ABORTING: 'MIGRATION_ABORTING',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];
export const EVENT_TYPES = Object.values(EventType);

export const Severity = { INFO: 'INFO', WARNING: 'WARNING', ERROR: 'ERROR' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/** The severity each event type is logged with (VM_DOWN is raised to ERROR when the exit was not normal). */
export const EVENT_SEVERITY: Record<EventType, Severity> = {
  MIGRATION_STARTED: Severity.INFO,
  MIGRATION_SUCCEEDED: Severity.INFO,
  MIGRATION_FAILED: Severity.ERROR,
  MIGRATION_TRYING_RERUN: Severity.WARNING,
  MIGRATION_NO_HOST_FOR_RERUN: Severity.ERROR,
  MIGRATION_CANCELLED: Severity.INFO,
  MIGRATION_STALLED: Severity.WARNING,
  VM_DOWN: Severity.INFO,
  VM_SET_UNKNOWN: Severity.WARNING,
  VM_STATUS_RESTORED: Severity.INFO,
  VM_SET_DOWN_BY_FENCE: Severity.WARNING,
  FENCE_SUCCEEDED: Severity.INFO,
  FENCE_FAILED: Severity.ERROR,
  HOST_NOT_RESPONDING: Severity.ERROR,
  HOST_RECOVERED: Severity.INFO,
  VM_RUNNING_ON_BOTH_HOSTS: Severity.ERROR,
  REPORT_IGNORED: Severity.WARNING,
  EVACUATION_STARTED: Severity.INFO,
  EVACUATION_COMPLETED: Severity.INFO,
  EVACUATION_FAILED: Severity.ERROR,
  EVACUATION_CANCELLED: Severity.INFO,
  MIGRATION_QUEUED: Severity.INFO,
  MIGRATION_ABORTING: Severity.WARNING,
};

/** Exit reasons VDSM sends with DOWN; others are accepted as free text. */
export const ExitReason = {
  NORMAL: 'NORMAL',
  MIGRATION_SUCCEEDED: 'MIGRATION_SUCCEEDED',
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  ERROR: 'ERROR',
} as const;

/** Codes of the expected refusals of a mutation (`UserError.code`). */
export const ErrorCode = {
  INVALID_INPUT: 'INVALID_INPUT',
  VM_NOT_FOUND: 'VM_NOT_FOUND',
  HOST_NOT_FOUND: 'HOST_NOT_FOUND',
  VM_NOT_UP: 'VM_NOT_UP',
  VM_ALREADY_MIGRATING: 'VM_ALREADY_MIGRATING',
  NOT_MIGRATING: 'NOT_MIGRATING',
  SAME_HOST: 'SAME_HOST',
  HOST_NOT_UP: 'HOST_NOT_UP',
  CLUSTER_MISMATCH: 'CLUSTER_MISMATCH',
  NO_ELIGIBLE_HOST: 'NO_ELIGIBLE_HOST',
  HOST_NOT_NON_RESPONSIVE: 'HOST_NOT_NON_RESPONSIVE',
  STALE_REPORT: 'STALE_REPORT',
  /** cancelEvacuation on a host with no running evacuation and no failed one holding it (§9). */
  NOT_EVACUATING: 'NOT_EVACUATING',
  /** A report batch would take a host past TRANSIT_MAX_VMS_PER_HOST (§11): refused whole. */
  TOO_MANY_VMS: 'TOO_MANY_VMS',
  /** A new host past TRANSIT_MAX_HOSTS (§11). */
  TOO_MANY_HOSTS: 'TOO_MANY_HOSTS',
  /** removeHost on a host that runs a VM or is a side of a migration in flight (§11). */
  HOST_NOT_EMPTY: 'HOST_NOT_EMPTY',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
export const ERROR_CODES = Object.values(ErrorCode);

/** Where an evacuation (§9) stands. */
export const EvacuationState = {
  IN_PROGRESS: 'IN_PROGRESS',
  /** The host runs no VM: it is in MAINTENANCE. */
  COMPLETED: 'COMPLETED',
  /** Nothing of it is pending or in flight and VMs still run on the host (see its blockers). */
  FAILED: 'FAILED',
  CANCELLED: 'CANCELLED',
} as const;
export type EvacuationState = (typeof EvacuationState)[keyof typeof EvacuationState];
export const EVACUATION_STATES = Object.values(EvacuationState);

/** The kinds of order a host agent receives on its command stream. */
export const HostCommandKind = { MIGRATE: 'MIGRATE', CANCEL: 'CANCEL' } as const;
export type HostCommandKind = (typeof HostCommandKind)[keyof typeof HostCommandKind];

/** The cluster a host joins when it does not name one. */
export const DEFAULT_CLUSTER = 'default';
