/**
 * Input checks of the table's commands, run before anything changes. Each refusal names the
 * offending field (`vms.3.progress`) so a client can point at it. Only shape and range are checked
 * here; what depends on the table's state (unknown VM, host not UP, ...) is the table's to say.
 */
import type {
  CancelEvacuationInput,
  CancelMigrationInput,
  EvacuateHostInput,
  MigrateVmInput,
  RegisterHostInput,
  RemoveHostInput,
  ReportFenceResultInput,
  ReportHostStatusInput,
  ReportVmStatusesInput,
  UserError,
} from './model.js';
import { ErrorCode, FENCE_METHODS, HOST_STATUSES, REPORTED_VM_STATUSES, ReportedVmStatus } from './vocabulary.js';

export interface InputLimits {
  /** Longest id (VM, host, cluster, boot), in characters. */
  readonly maxIdLength: number;
  /** Most VMs in one `reportVmStatuses` batch. */
  readonly maxBatchSize: number;
  /** Longest free text (exit reason, fence message), in characters. */
  readonly maxTextLength: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = Object.freeze({
  maxIdLength: 256,
  maxBatchSize: 2_000,
  maxTextLength: 1_024,
});

const invalid = (field: string | null, message: string): UserError => ({ code: ErrorCode.INVALID_INPUT, message, field });

// Ids are printable and free of white space: they end up in logs, metrics labels and messages.
const ID_CHARACTERS = /^[\x21-\x7e\u00a0-\uffff]+$/u;

/** What is wrong with an id, or null. */
function idProblem(value: unknown, limits: InputLimits, what: string): string | null {
  if (typeof value !== 'string' || value.length === 0) return `${what} must be a non-empty string`;
  if (value.length > limits.maxIdLength) return `${what} is longer than ${limits.maxIdLength} characters`;
  if (!ID_CHARACTERS.test(value)) return `${what} must be printable characters without spaces`;
  return null;
}

function checkId(value: unknown, field: string, limits: InputLimits, what: string): UserError | null {
  const problem = idProblem(value, limits, what);
  return problem === null ? null : invalid(field, problem);
}

function checkOptionalId(value: unknown, field: string, limits: InputLimits, what: string): UserError | null {
  return value === undefined || value === null ? null : checkId(value, field, limits, what);
}

function checkText(value: unknown, field: string, limits: InputLimits, what: string): UserError | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return invalid(field, `${what} must be a string`);
  if (value.length > limits.maxTextLength) return invalid(field, `${what} is longer than ${limits.maxTextLength} characters`);
  return null;
}

const present = (errors: readonly (UserError | null)[]): UserError[] => errors.filter((e): e is UserError => e !== null);

export function validateRegisterHost(input: RegisterHostInput, limits: InputLimits): UserError[] {
  return present([checkId(input.hostId, 'hostId', limits, 'hostId'), checkOptionalId(input.cluster, 'cluster', limits, 'cluster')]);
}

export function validateRemoveHost(input: RemoveHostInput, limits: InputLimits): UserError[] {
  return present([checkId(input.hostId, 'hostId', limits, 'hostId')]);
}

export function validateMigrateVm(input: MigrateVmInput, limits: InputLimits): UserError[] {
  return present([
    checkId(input.vmId, 'vmId', limits, 'vmId'),
    checkOptionalId(input.destinationHostId, 'destinationHostId', limits, 'destinationHostId'),
  ]);
}

export function validateCancelMigration(input: CancelMigrationInput, limits: InputLimits): UserError[] {
  const hasVm = input.vmId !== undefined && input.vmId !== null;
  const hasMigration = input.migrationId !== undefined && input.migrationId !== null;
  if (hasVm === hasMigration) return [invalid(null, 'give exactly one of vmId and migrationId')];
  return present([checkOptionalId(input.vmId, 'vmId', limits, 'vmId'), checkOptionalId(input.migrationId, 'migrationId', limits, 'migrationId')]);
}

export function validateReportHostStatus(input: ReportHostStatusInput, limits: InputLimits): UserError[] {
  return present([
    checkId(input.hostId, 'hostId', limits, 'hostId'),
    HOST_STATUSES.includes(input.status) ? null : invalid('status', `status must be one of ${HOST_STATUSES.join(', ')}`),
  ]);
}

/** `evacuateHost` and `cancelEvacuation` name one host. */
export function validateEvacuationInput(input: EvacuateHostInput | CancelEvacuationInput, limits: InputLimits): UserError[] {
  return present([checkId(input.hostId, 'hostId', limits, 'hostId')]);
}

export function validateReportFenceResult(input: ReportFenceResultInput, limits: InputLimits): UserError[] {
  return present([
    checkId(input.hostId, 'hostId', limits, 'hostId'),
    typeof input.succeeded === 'boolean' ? null : invalid('succeeded', 'succeeded must be true or false'),
    FENCE_METHODS.includes(input.method) ? null : invalid('method', `method must be one of ${FENCE_METHODS.join(', ')}`),
    checkText(input.message, 'message', limits, 'message'),
  ]);
}

/**
 * The batch's own fields and the size of its list, not its VMs: all that a repeat of a batch
 * accepted before needs checked again (its VMs are the ones already checked).
 */
export function validateBatchHeader(input: ReportVmStatusesInput, limits: InputLimits): UserError[] {
  const errors = present([
    checkId(input.hostId, 'hostId', limits, 'hostId'),
    checkOptionalId(input.bootId, 'bootId', limits, 'bootId'),
    checkOptionalId(input.cluster, 'cluster', limits, 'cluster'),
    input.sequence === undefined || input.sequence === null || (Number.isSafeInteger(input.sequence) && input.sequence >= 0)
      ? null
      : invalid('sequence', 'sequence must be a non-negative integer'),
  ]);
  if (!Array.isArray(input.vms)) return [...errors, invalid('vms', 'vms must be a list')];
  if (input.vms.length > limits.maxBatchSize) {
    return [...errors, invalid('vms', `a batch holds at most ${limits.maxBatchSize} VMs, got ${input.vms.length}`)];
  }
  return errors;
}

export function validateReportVmStatuses(input: ReportVmStatusesInput, limits: InputLimits): UserError[] {
  const errors = validateBatchHeader(input, limits);
  if (!Array.isArray(input.vms) || input.vms.length > limits.maxBatchSize) return errors;
  const seen = new Set<string>();
  // Field names (`vms.3.progress`) are written only for a refusal: a thousand valid VMs build none.
  const field = (i: number, name: string) => `vms.${i}.${name}`;
  let validPeer: string | null = null; // the last peer found valid: a batch's VMs mostly name the same few
  for (let i = 0; i < input.vms.length; i++) {
    const vm = input.vms[i] as ReportVmStatusesInput['vms'][number];
    const idError = idProblem(vm.vmId, limits, 'vmId');
    if (idError !== null) errors.push(invalid(field(i, 'vmId'), idError));
    else if (seen.has(vm.vmId)) errors.push(invalid(field(i, 'vmId'), `VM ${vm.vmId} is listed twice in one batch`));
    else seen.add(vm.vmId);

    if (!REPORTED_VM_STATUSES.includes(vm.status)) {
      errors.push(invalid(field(i, 'status'), `status must be one of ${REPORTED_VM_STATUSES.join(', ')}`));
      continue;
    }
    if (vm.progress !== undefined && vm.progress !== null) {
      if (vm.status !== ReportedVmStatus.MIGRATING_FROM) errors.push(invalid(field(i, 'progress'), 'progress goes only with MIGRATING_FROM'));
      else if (typeof vm.progress !== 'number' || !Number.isFinite(vm.progress) || vm.progress < 0 || vm.progress > 100) {
        errors.push(invalid(field(i, 'progress'), 'progress must be between 0 and 100'));
      }
    }
    if (vm.exitReason !== undefined && vm.exitReason !== null) {
      if (vm.status !== ReportedVmStatus.DOWN) errors.push(invalid(field(i, 'exitReason'), 'exitReason goes only with DOWN'));
      else {
        const textError = checkText(vm.exitReason, field(i, 'exitReason'), limits, 'exitReason');
        if (textError) errors.push(textError);
      }
    }
    if (vm.memoryMiB !== undefined && vm.memoryMiB !== null && !(Number.isSafeInteger(vm.memoryMiB) && vm.memoryMiB > 0)) {
      errors.push(invalid(field(i, 'memoryMiB'), 'memoryMiB must be a positive whole number of MiB'));
    }
    if (vm.peerHostId !== undefined && vm.peerHostId !== null) {
      const migrating = vm.status === ReportedVmStatus.MIGRATING_FROM || vm.status === ReportedVmStatus.MIGRATING_TO;
      const peerError = vm.peerHostId === validPeer ? null : idProblem(vm.peerHostId, limits, 'peerHostId');
      if (peerError === null) validPeer = vm.peerHostId;
      if (!migrating) errors.push(invalid(field(i, 'peerHostId'), 'peerHostId goes only with MIGRATING_FROM or MIGRATING_TO'));
      else if (peerError !== null) errors.push(invalid(field(i, 'peerHostId'), peerError));
      else if (vm.peerHostId === input.hostId) errors.push(invalid(field(i, 'peerHostId'), 'peerHostId names the reporting host itself'));
    }
  }
  return errors;
}
