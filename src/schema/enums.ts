/**
 * The GraphQL enums, built from the domain's `as const` vocabulary (src/domain/vocabulary.ts), so a
 * value added there appears here, and a value without a description here does not compile.
 */
import {
  Cause,
  DecisionBlockerCode,
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
} from '../domain/vocabulary.js';
import { builder } from './builder.js';

type EnumValues<V extends string> = { readonly [K in V]: { readonly value: K; readonly description: string } };

function enumFrom<const V extends string>(name: string, vocabulary: Readonly<Record<string, V>>, description: string, meanings: Readonly<Record<V, string>>) {
  const values = Object.fromEntries(Object.values(vocabulary).map((value) => [value, { value, description: meanings[value] }])) as EnumValues<V>;
  return builder.enumType(name, { description, values });
}

export const ReportedVmStatusEnum = enumFrom('ReportedVmStatus', ReportedVmStatus, 'What a host agent says about one VM it sees.', {
  UP: 'The VM runs on the reporting host.',
  DOWN: 'The VM does not run on the reporting host.',
  MIGRATING_FROM: 'The reporting host is the migration source and is sending the VM.',
  MIGRATING_TO: 'The reporting host is the migration destination and is receiving the VM.',
});

export const VmStatusEnum = enumFrom('VmStatus', VmStatus, "What Transit says about a VM, derived from its hosts' reports.", {
  UP: 'The VM runs (on `host`).',
  DOWN: 'The VM runs nowhere.',
  MIGRATING_FROM: 'The VM is in the migration table; it runs on the source until a decision (the seed: "Migrating From").',
  UNKNOWN: 'Its host stopped responding: nobody can say whether it runs.',
});

export const VmLocationEnum = enumFrom('VmLocation', VmLocation, 'Where a migrating VM runs, relative to its migration.', {
  SOURCE: 'On the source host.',
  DESTINATION: 'On the destination host.',
});

export const HostStatusEnum = enumFrom('HostStatus', HostStatus, 'The state of a hypervisor host, as Transit sees it.', {
  UP: 'Reports arrive; its reports are trusted and it can take VMs.',
  NON_RESPONSIVE: 'It has not reported for the host timeout, or was reported so: its VMs are UNKNOWN and its migrations are stalled.',
  REBOOTING: 'Fenced successfully: rebooting, none of its VMs run. Its next report makes it UP.',
  MAINTENANCE: 'Keeps reporting and is trusted, but is never chosen as a destination.',
  PREPARING_FOR_MAINTENANCE:
    'Being evacuated (`evacuateHost`): responsive and trusted like UP, never a destination, its VMs being moved away. It becomes MAINTENANCE once it runs no VM.',
});

export const MigrationStateEnum = enumFrom('MigrationState', MigrationState, 'Where a migration stands: waiting in the queue, in progress, or its outcome.', {
  PENDING:
    'Accepted, waiting for a free slot (per-host and per-cluster limits, docs/contract.md §8): no order has been sent and the VM runs UP on its host; `waitingReason` says what it waits for.',
  IN_PROGRESS: 'In the migration table; no outcome decided yet.',
  SUCCEEDED: 'The source let the VM go and the destination runs it (seed row 2).',
  FAILED:
    'The VM still runs on the source and the destination does not run it (seed row 3), the source never started, an aborted attempt failed, or a pending migration could not start (its VM left its host, no host is eligible any more, or the queue timeout passed).',
  VM_DOWN: 'Both sides report the VM down: the migration failed and the VM is down (seed row 1).',
  CANCELLED: 'Cancelled on request; the VM runs on the source (a pending migration ends so at once: no order was sent).',
});

export const MigrationPriorityEnum = enumFrom('MigrationPriority', MigrationPriority, 'Which pending migrations the scheduler starts first.', {
  EVACUATION: 'Moving VMs off a host being evacuated: started before every NORMAL migration.',
  NORMAL: 'Started in the order migrations were accepted.',
});

export const DecisionBlockerCodeEnum = enumFrom(
  'DecisionBlockerCode',
  DecisionBlockerCode,
  'Why a migration in flight is not decided yet (docs/contract.md §10): each code is one condition of the decision rules that does not hold right now.',
  {
    SOURCE_NOT_HEARD: 'The source host has not reported the VM in this attempt.',
    DESTINATION_NOT_HEARD: 'The destination host has not reported the VM in this attempt.',
    SOURCE_UNRESPONSIVE: 'The source host does not answer (NON_RESPONSIVE or REBOOTING, not fenced): its reports cannot be trusted.',
    DESTINATION_UNRESPONSIVE: 'The destination host does not answer (NON_RESPONSIVE or REBOOTING, not fenced): its reports cannot be trusted.',
    SOURCE_NOT_CONFIRMED: 'The source has not confirmed the attempt yet (reported MIGRATING_FROM or DOWN): it may not have received the order.',
    DESTINATION_DOWN_NOT_FRESH: "Both report DOWN, but the destination's DOWN was heard before the source's: it may not have received the VM yet.",
    PEER_UNKNOWN: 'A side of the migration is not known yet (an entry rebuilt from one side waits for its peer).',
    HOST_NOT_REGISTERED: 'A side names a host that has not registered.',
    RUNNING_ON_BOTH: 'Both hosts report the VM UP: nothing is decided until one side changes.',
    ABORT_ORDERED: 'Transit ordered the source to abort (a deadline passed, or a cancel) and the source still reports MIGRATING_FROM.',
  },
);

export const FenceMethodEnum = enumFrom('FenceMethod', FenceMethod, 'How a host was fenced.', {
  AUTOMATIC: 'By the fencing agent (power management), without an operator.',
  MANUAL: 'By an operator, who confirms the host was rebooted.',
});

export const TransitionCauseEnum = enumFrom('TransitionCause', Cause, 'Why a transition happened.', {
  MIGRATE_COMMAND: 'A `migrateVm` request.',
  HOST_REPORT: "A host's report of its VMs (`reportVmStatuses`).",
  HOST_REGISTERED: 'A host registered, or moved to another cluster.',
  HOST_STATUS_REPORTED: 'An operator set a host status (`reportHostStatus`).',
  HOST_UNRESPONSIVE: 'A host stopped reporting for the host timeout, or was reported NON_RESPONSIVE.',
  HOST_RECOVERED: 'A NON_RESPONSIVE or REBOOTING host reported again.',
  FENCE_SUCCEEDED: 'A host was fenced successfully: its side of each migration is DOWN.',
  FENCE_FAILED: 'Reserved: a failed fence changes nothing (contract §3), so no transition carries this cause; the FENCE_FAILED event reports it.',
  CANCEL: 'A `cancelMigration` request.',
  RERUN: 'A failed attempt is tried again on another host.',
  START_TIMEOUT: 'The source did not confirm the attempt within the migration start timeout.',
  EVACUATION: 'An evacuation (`evacuateHost`, `cancelEvacuation`, or its end) changed its host status or started a migration of one of its VMs.',
  SCHEDULER: 'The scheduler started a pending migration, changed why one waits, or ended one that can never start.',
  QUEUE_TIMEOUT: 'A pending migration waited longer than the queue timeout.',
  PROGRESS_TIMEOUT: "The source's progress did not rise within the progress timeout: the source is ordered to abort.",
  COMPLETION_TIMEOUT: 'The attempt did not complete within the completion timeout: the source is ordered to abort.',
  HOST_REMOVED: 'An operator removed a host that ran no VM (`removeHost`).',
});

export const EventTypeEnum = enumFrom('EventType', EventType, "The kinds of event in the operator's log (after oVirt's audit log).", {
  MIGRATION_STARTED: 'A migration entered the table (ordered, or found in a report).',
  MIGRATION_SUCCEEDED: 'A migration succeeded.',
  MIGRATION_FAILED: 'A migration attempt failed.',
  MIGRATION_TRYING_RERUN: 'A failed migration is tried again on another host.',
  MIGRATION_NO_HOST_FOR_RERUN: 'A failed migration has attempts left but no eligible host.',
  MIGRATION_CANCELLED: 'A migration ended cancelled.',
  MIGRATION_STALLED: 'A migration is frozen: a side is not responding, not registered or not known.',
  VM_DOWN: 'A VM went down (ERROR when it did not exit normally).',
  VM_SET_UNKNOWN: 'A VM is UNKNOWN because its host stopped responding.',
  VM_STATUS_RESTORED: 'A VM got its status back when its host answered again.',
  VM_SET_DOWN_BY_FENCE: 'A VM is DOWN because its host was fenced.',
  FENCE_SUCCEEDED: 'A host was fenced and is rebooting.',
  FENCE_FAILED: 'Fencing a host failed; its VMs stay as they were.',
  HOST_NOT_RESPONDING: 'A host stopped responding.',
  HOST_RECOVERED: 'A host responds again.',
  VM_RUNNING_ON_BOTH_HOSTS: 'Two hosts say they run the same VM: split brain.',
  REPORT_IGNORED: "A report was not applied (it contradicts the host's role, or comes from a third host).",
  EVACUATION_STARTED: 'An evacuation of a host began: the host is PREPARING_FOR_MAINTENANCE.',
  EVACUATION_COMPLETED: 'An evacuated host runs no VM any more: it is in MAINTENANCE.',
  EVACUATION_FAILED: 'An evacuation has nothing left pending or in flight and VMs still run on the host (see its blockers).',
  EVACUATION_CANCELLED: 'An evacuation was cancelled (`cancelEvacuation`, or the host set UP): its pending migrations are cancelled, the host is UP.',
  MIGRATION_QUEUED: 'A migration waits for a free slot (PENDING); the message says for what.',
  MIGRATION_ABORTING: 'A deadline of an attempt passed: the source is ordered to abort; the outcome follows from the reports.',
});

export const SeverityEnum = enumFrom('Severity', Severity, 'How urgently an operator should read an event.', {
  INFO: 'For the record.',
  WARNING: 'Something is off and may need attention.',
  ERROR: 'Something failed or is inconsistent.',
});

export const ErrorCodeEnum = enumFrom('ErrorCode', ErrorCode, 'Why a mutation was refused. A refused mutation changed nothing.', {
  INVALID_INPUT: 'An input value is malformed or out of range; `field` names it.',
  VM_NOT_FOUND: 'No VM with that id is known.',
  HOST_NOT_FOUND: 'No host with that id is known.',
  VM_NOT_UP: 'The VM is not UP, so it cannot be migrated.',
  VM_ALREADY_MIGRATING: 'The VM already has a current migration: pending or in the migration table.',
  NOT_MIGRATING: 'The VM or migration is neither pending nor in the migration table.',
  SAME_HOST: 'The destination is the host the VM runs on.',
  HOST_NOT_UP: 'The host is not UP (or, for a source or a host to evacuate, not UP, PREPARING_FOR_MAINTENANCE or MAINTENANCE).',
  CLUSTER_MISMATCH: "The destination is in another cluster than the VM's host; or `registerHost` would move a side of a migration in flight to another cluster.",
  NO_ELIGIBLE_HOST: 'No host could ever take the VM: none is UP in its cluster besides its own (hosts that are merely full make it wait PENDING).',
  HOST_NOT_NON_RESPONSIVE: 'Only a NON_RESPONSIVE host can be fenced.',
  STALE_REPORT: "The report's sequence is not above the last one accepted from this host's boot, or its boot was replaced: ignored whole.",
  NOT_EVACUATING: 'The host has no running evacuation, nor a failed one keeping it PREPARING_FOR_MAINTENANCE.',
  TOO_MANY_VMS: 'The batch would put more VMs on its host (running there or migrating to it) than TRANSIT_MAX_VMS_PER_HOST: ignored whole.',
  TOO_MANY_HOSTS: 'Transit knows TRANSIT_MAX_HOSTS hosts already: a new one is refused until one is removed.',
  HOST_NOT_EMPTY: 'The host still runs a VM or is a side of a migration in flight.',
});

export const EvacuationStateEnum = enumFrom('EvacuationState', EvacuationState, 'Where an evacuation of a host stands.', {
  IN_PROGRESS: 'Its VMs are being moved away; the host is PREPARING_FOR_MAINTENANCE (it waits while the host does not answer).',
  COMPLETED: 'The host runs no VM: it is in MAINTENANCE.',
  FAILED: 'Nothing of it is pending or in flight and VMs still run on the host; `blockers` says why each stays. The host stays PREPARING_FOR_MAINTENANCE until it is evacuated again or the evacuation is cancelled.',
  CANCELLED: 'Cancelled: its pending migrations were cancelled, those in flight went on, the host is UP.',
});

export const HostCommandKindEnum = enumFrom('HostCommandKind', HostCommandKind, 'The kinds of order a host agent receives.', {
  MIGRATE: 'Start migrating the VM to the destination (for this migration and attempt).',
  CANCEL:
    "Abort the VM's migration (a cancel was asked, or a deadline passed: docs/contract.md §8), or drop the migrate order if it has not started. Match it by VM and destination: a migration found in the reports after a restart carries Transit's own id.",
});
