/**
 * The GraphQL enums, built from the domain's `as const` vocabulary (src/domain/vocabulary.ts), so a
 * value added there appears here, and a value without a description here does not compile.
 */
import {
  Cause,
  ErrorCode,
  EventType,
  FenceMethod,
  HostCommandKind,
  HostStatus,
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
});

export const MigrationStateEnum = enumFrom('MigrationState', MigrationState, 'Where a migration stands: in progress, or its outcome.', {
  IN_PROGRESS: 'In the migration table; no outcome decided yet.',
  SUCCEEDED: 'The source let the VM go and the destination runs it (seed row 2).',
  FAILED: 'The VM still runs on the source and the destination does not run it (seed row 3), or the source never started.',
  VM_DOWN: 'Both sides report the VM down: the migration failed and the VM is down (seed row 1).',
  CANCELLED: 'Cancelled on request; the VM runs on the source.',
});

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
  VM_ALREADY_MIGRATING: 'The VM is already in the migration table.',
  NOT_MIGRATING: 'The VM or migration is not in the migration table.',
  SAME_HOST: 'The destination is the host the VM runs on.',
  HOST_NOT_UP: 'The host is not UP (or, for a source, not UP or MAINTENANCE).',
  CLUSTER_MISMATCH: "The destination is in another cluster than the VM's host; or `registerHost` would move a side of a migration in flight to another cluster.",
  NO_ELIGIBLE_HOST: 'No host can take the VM: none is UP in its cluster besides its own.',
  HOST_NOT_NON_RESPONSIVE: 'Only a NON_RESPONSIVE host can be fenced.',
  STALE_REPORT: "The report's sequence is not above the last one accepted from this host's boot, or its boot was replaced: ignored whole.",
  TOO_MANY_VMS: 'The batch would put more VMs on its host (running there or migrating to it) than TRANSIT_MAX_VMS_PER_HOST: ignored whole.',
  TOO_MANY_HOSTS: 'Transit knows TRANSIT_MAX_HOSTS hosts already: a new one is refused until one is removed.',
  HOST_NOT_EMPTY: 'The host still runs a VM or is a side of a migration in flight.',
});

export const HostCommandKindEnum = enumFrom('HostCommandKind', HostCommandKind, 'The kinds of order a host agent receives.', {
  MIGRATE: 'Start migrating the VM to the destination (for this migration and attempt).',
  CANCEL: 'Abort the migration of the VM, or drop the migrate order if it has not started.',
});
