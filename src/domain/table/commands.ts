/**
 * The command side of the table: the only writer. Each command validates its input and changes
 * nothing when it refuses; otherwise the rules (`../rules/`) apply it into one `Recording`, and the
 * recorded transitions, events and orders are appended to the history and published.
 *
 * All or nothing: a refusal is decided before anything is written. A rule that throws part-way
 * (a bug: rules do not throw by design) may leave the state half-written, so the table fails
 * stop: the command's changes are neither kept in the history nor published, and every later
 * command is refused with `TableFailedError`. The process is then restarted and the table rebuilt
 * from the hosts' reports, exactly as after an engine restart (contract §3): nothing accepted is
 * lost that the hosts cannot report again, and nothing is ever decided from a half-written state.
 */
import { cancelRunning, evacuationOf, followEvacuations, releaseFailed, startEvacuation } from '../evacuation/evacuation-rules.js';
import { messages } from '../messages.js';
import type {
  CancelEvacuationInput,
  CancelMigrationInput,
  EngineEvent,
  EvacuateHostInput,
  Evacuation,
  Host,
  Migration,
  MigrateVmInput,
  Millis,
  Outcome,
  RegisterHostInput,
  RemoveHostInput,
  ReportFenceResultInput,
  ReportHostStatusInput,
  ReportVmStatusesInput,
  Transition,
  UserError,
} from '../model.js';
import { settle } from '../rules/entry-rules.js';
import { eligibleHostExists } from '../rules/entry-store.js';
import { abortOverdue, dueDeadlines } from '../rules/deadline-rules.js';
import { addHost, fenced, hostCapRefusal, markUnresponsive, moveRefusal, removeHost as removeHostRule, removeRefusal, setHostStatus, startTimedOut, unknownHost } from '../rules/host-rules.js';
import { cancelPending, enqueue, schedule } from '../rules/queue-rules.js';
import { batchFingerprint } from '../rules/batch-fingerprint.js';
import { staleBatch, vmCapRefusal } from '../rules/batch-refusals.js';
import { applyBatch, repeatsQuietBatch } from '../rules/report-rules.js';
import {
  validateCancelMigration,
  validateEvacuationInput,
  validateMigrateVm,
  validateRegisterHost,
  validateRemoveHost,
  validateReportFenceResult,
  validateReportHostStatus,
  validateBatchHeader,
  validateReportVmStatuses,
  type InputLimits,
} from '../validation.js';
import {
  Cause,
  DEFAULT_CLUSTER,
  DestinationChoice,
  ENGINE_ACTOR,
  ErrorCode,
  EvacuationState,
  EventType,
  HostCommandKind,
  HostStatus,
  isCurrent,
  isResponsive,
  MigrationPriority,
  MigrationState,
  OPEN_ACTOR,
  VmStatus,
} from '../vocabulary.js';
import type { BoundedLog } from './bounded-log.js';
import type { ChangePublisher } from './publisher.js';
import { Recording } from './recording.js';
import type { TableContext } from './table-context.js';
import type { HostRecord, TableState } from './table-state.js';

/** A command reached a table that failed stop: restart the engine (the table is rebuilt from reports). */
export class TableFailedError extends Error {
  constructor(cause: unknown) {
    super('the migration table stopped after a rule failed part-way; restart the engine to rebuild it from the hosts\' reports', { cause });
    this.name = 'TableFailedError';
  }
}

/** The timing settings the command side needs beside those of the rules. */
export interface CommandSettings {
  readonly clock: () => Millis;
  readonly hostTimeoutMs: number;
  readonly migrationStartTimeoutMs: number;
  readonly limits: InputLimits;
  /** What one client can make the table hold or do (docs/contract.md §11). */
  readonly bounds: TableBounds;
  /**
   * Called with every transition and event a command records, before the command completes.
   * Production passes none; tests pass one that throws, to check that a command fails stop.
   */
  readonly faultInjection?: (step: Transition | EngineEvent) => void;
}

export interface TableBounds {
  /** Most VMs on one host, running there or migrating to it (TOO_MANY_VMS). */
  readonly maxVmsPerHost: number;
  /** Most hosts known at once (TOO_MANY_HOSTS). */
  readonly maxHosts: number;
  /** A VM DOWN on no host that no report has named for this long is forgotten. */
  readonly vmRetentionMs: number;
  /** Most VMs DOWN on no host kept; beyond it, the least recently named is forgotten. */
  readonly maxDownVms: number;
  /** VMs one tick may mark UNKNOWN, or forget; the rest waits for the next tick. */
  readonly tickBudgetVms: number;
}

export interface CommandTargets {
  readonly state: TableState;
  readonly ctx: TableContext;
  readonly transitions: BoundedLog<Transition>;
  readonly events: BoundedLog<EngineEvent>;
  readonly publisher: ChangePublisher;
  /** Told once, when the table fails stop. */
  onFailure(error: TableFailedError): void;
}

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const refused = <T>(errors: readonly UserError[]): Outcome<T> => ({ ok: false, errors });
const refusedWith = <T>(code: ErrorCode, message: string, field: string | null = null): Outcome<T> => refused([{ code, message, field }]);

export class TableCommands {
  private failure: TableFailedError | null = null;
  /** The sequence number of the latest transition or event kept (shared by both). */
  private seq = 0;
  private readonly state: TableState;
  private readonly ctx: TableContext;
  private readonly limits: InputLimits;

  constructor(
    private readonly settings: CommandSettings,
    private readonly to: CommandTargets,
  ) {
    this.state = to.state;
    this.ctx = to.ctx;
    this.limits = settings.limits;
  }

  get latestSeq(): number {
    return this.seq;
  }

  /** The error that stopped the table, or null while it works. */
  get failedWith(): TableFailedError | null {
    return this.failure;
  }

  /*
   * Every command takes who sends it (`actor`, docs/contract.md §10: the credential's name, `open` in
   * open mode): everything it causes, the scheduler's and the rules' doings included, carries it.
   */

  registerHost(input: RegisterHostInput, actor: string = OPEN_ACTOR): Outcome<Host> {
    this.assertWorking();
    const errors = validateRegisterHost(input, this.limits);
    if (errors.length > 0) return refused(errors);
    const moving = input.cluster == null ? null : moveRefusal(this.ctx, input.hostId, input.cluster);
    if (moving !== null) return refused([moving]);
    const full = hostCapRefusal(this.ctx, input.hostId, this.settings.bounds.maxHosts);
    if (full !== null) return refused([full]);
    return this.run(actor, (rec) => {
      const cluster = input.cluster ?? this.state.hosts.get(input.hostId)?.cluster ?? DEFAULT_CLUSTER;
      const host = this.state.hosts.get(input.hostId);
      if (host === undefined) return ok(addHost(this.ctx, rec, input.hostId, cluster, Cause.HOST_REGISTERED));
      if (host.cluster !== cluster) {
        this.state.putHost({ ...host, cluster });
        rec.host(Cause.HOST_REGISTERED, this.state.hosts.get(input.hostId) as HostRecord, host.status);
      }
      return ok(this.state.hosts.get(input.hostId) as Host);
    });
  }

  /**
   * Accepts a migration (docs/contract.md §3, §8): it starts at once when the limits allow, else it
   * waits PENDING with the reason. Refused only for what could never work.
   */
  migrateVm(input: MigrateVmInput, actor: string = OPEN_ACTOR): Outcome<Migration> {
    this.assertWorking();
    const errors = validateMigrateVm(input, this.limits);
    if (errors.length > 0) return refused(errors);
    const vm = this.state.vms.get(input.vmId);
    if (vm === undefined) return refusedWith(ErrorCode.VM_NOT_FOUND, `VM ${input.vmId} is not known`, 'vmId');
    const current = this.state.currentMigrationOf(vm.id);
    if (current !== undefined) return refusedWith(ErrorCode.VM_ALREADY_MIGRATING, `VM ${vm.id} is already migrating (${current.id}, ${current.state})`, 'vmId');
    if (vm.status !== VmStatus.UP || vm.hostId === null) return refusedWith(ErrorCode.VM_NOT_UP, `VM ${vm.id} is ${vm.status}, not UP`, 'vmId');
    const source = this.state.hosts.get(vm.hostId);
    if (source === undefined || !isResponsive(source.status)) {
      return refusedWith(ErrorCode.HOST_NOT_UP, `the source host ${vm.hostId} is ${source?.status ?? 'not registered'}`, 'vmId');
    }
    let destinationId: string | null = null;
    if (input.destinationHostId != null) {
      const field = 'destinationHostId';
      const destination = this.state.hosts.get(input.destinationHostId);
      if (destination === undefined) return refused([unknownHost(input.destinationHostId, field)]);
      if (destination.id === source.id) return refusedWith(ErrorCode.SAME_HOST, `VM ${vm.id} already runs on ${source.id}`, field);
      if (destination.status !== HostStatus.UP) return refusedWith(ErrorCode.HOST_NOT_UP, `host ${destination.id} is ${destination.status}`, field);
      if (destination.cluster !== source.cluster) {
        return refusedWith(ErrorCode.CLUSTER_MISMATCH, `host ${destination.id} is in cluster ${destination.cluster}, the VM in ${source.cluster}`, field);
      }
      destinationId = destination.id;
    } else if (!eligibleHostExists(this.ctx, source.id, source.cluster, new Set())) {
      // Only when no host could ever take it: eligible hosts that are merely full make it wait (§8).
      return refusedWith(ErrorCode.NO_ELIGIBLE_HOST, `no host in cluster ${source.cluster} can take VM ${vm.id}`, 'destinationHostId');
    }
    return this.run(actor, (rec) => {
      const queued = enqueue(this.ctx, rec, { vmId: vm.id, priority: MigrationPriority.NORMAL, destinationHostId: destinationId, cause: Cause.MIGRATE_COMMAND });
      schedule(this.ctx, rec);
      return ok(this.state.migrations.get(queued.id) as Migration);
    });
  }

  /**
   * Cancels a migration that has not decided (docs/contract.md §3, §8): a pending one ends CANCELLED
   * at once (no order was ever sent); one in flight has its source told to abort, and the reports
   * decide.
   */
  cancelMigration(input: CancelMigrationInput, actor: string = OPEN_ACTOR): Outcome<Migration> {
    this.assertWorking();
    const errors = validateCancelMigration(input, this.limits);
    if (errors.length > 0) return refused(errors);
    const entry = input.vmId != null ? this.state.currentMigrationOf(input.vmId) : this.currentMigration(input.migrationId as string);
    if (entry === undefined) {
      const field = input.vmId != null ? 'vmId' : 'migrationId';
      return refusedWith(ErrorCode.NOT_MIGRATING, `${input.vmId != null ? `VM ${input.vmId}` : `migration ${input.migrationId}`} is neither pending nor in the migration table`, field);
    }
    if (entry.state === MigrationState.PENDING) return this.run(actor, (rec) => ok(cancelPending(this.ctx, rec, entry)));
    if (entry.cancelRequested) return ok(entry); // asked already: the source has its order
    return this.run(actor, (rec) => {
      const next = { ...entry, cancelRequested: true };
      // An attempt aborted by a deadline already has its CANCEL order.
      if (entry.abortReason === null) rec.command(HostCommandKind.CANCEL, next);
      settle(this.ctx, rec, next, Cause.CANCEL, next.source.hostId);
      return ok(next);
    });
  }

  reportVmStatuses(input: ReportVmStatusesInput, actor: string = OPEN_ACTOR): Outcome<Host> {
    this.assertWorking();
    const reports = Array.isArray(input.vms) ? input.vms.length : 0;
    // A repeat of the host's last quiet batch (`QuietBatches`) changes nothing: its VMs were checked
    // when it first came and it adds none, so neither the input checks nor the cap read them again.
    const fingerprint = batchFingerprint(input);
    const repeated = fingerprint !== null && repeatsQuietBatch(this.ctx, input, fingerprint);
    const errors = repeated ? validateBatchHeader(input, this.limits) : validateReportVmStatuses(input, this.limits);
    if (errors.length > 0) {
      this.ctx.reportCounts.invalid += reports;
      return refused(errors);
    }
    const known = this.state.hosts.get(input.hostId);
    if (known !== undefined && input.cluster != null && input.cluster !== known.cluster) {
      this.ctx.reportCounts.invalid += reports;
      return refusedWith(ErrorCode.INVALID_INPUT, `host ${known.id} belongs to cluster ${known.cluster}; register it again to move it`, 'cluster');
    }
    const stale = staleBatch(known, input);
    if (stale !== null) {
      this.ctx.reportCounts.outOfOrder += reports;
      return refused([stale]);
    }
    const beyond = hostCapRefusal(this.ctx, input.hostId, this.settings.bounds.maxHosts) ?? (repeated ? null : vmCapRefusal(this.ctx, input, this.settings.bounds.maxVmsPerHost));
    if (beyond !== null) {
      this.ctx.reportCounts.invalid += reports;
      return refused([beyond]);
    }
    this.ctx.reportCounts.inAcceptedBatches += reports;
    return this.run(actor, (rec) => ok(applyBatch(this.ctx, rec, input, fingerprint)));
  }

  reportHostStatus(input: ReportHostStatusInput, actor: string = OPEN_ACTOR): Outcome<Host> {
    const host = this.namedHost(input, validateReportHostStatus);
    if (Array.isArray(host)) return refused(host);
    if (input.status === host.status) return ok(host);
    if (input.status === HostStatus.REBOOTING) {
      return refusedWith(ErrorCode.INVALID_INPUT, 'only a successful fence (reportFenceResult) puts a host into REBOOTING', 'status');
    }
    if (input.status === HostStatus.PREPARING_FOR_MAINTENANCE) {
      return refusedWith(ErrorCode.INVALID_INPUT, 'only evacuateHost puts a host into PREPARING_FOR_MAINTENANCE: it also moves its VMs away', 'status');
    }
    if (input.status !== HostStatus.NON_RESPONSIVE && !isResponsive(host.status)) {
      // Its old reports would be believed again without a word from it: only its own report recovers it.
      return refusedWith(ErrorCode.INVALID_INPUT, `host ${host.id} is ${host.status}: it becomes UP again only by reporting`, 'status');
    }
    const running = this.ctx.evacuations.runningOn(host.id);
    if (running !== undefined && input.status === HostStatus.MAINTENANCE) {
      return refusedWith(
        ErrorCode.INVALID_INPUT,
        `host ${host.id} is being evacuated (${running.id}): it goes into MAINTENANCE once it runs no VM; cancel the evacuation to set its status yourself`,
        'status',
      );
    }
    const held = this.ctx.evacuations.latestOn(host.id);
    return this.run(actor, (rec) => {
      if (input.status === HostStatus.NON_RESPONSIVE) markUnresponsive(this.ctx, rec, host.id, 'reported so');
      // UP during an evacuation cancels it (§9); UP or MAINTENANCE after a failed one releases the host.
      else if (running !== undefined) cancelRunning(this.ctx, rec, running, Cause.HOST_STATUS_REPORTED);
      else if (held?.holdsHost === true && host.status === HostStatus.PREPARING_FOR_MAINTENANCE) releaseFailed(this.ctx, rec, held, input.status, Cause.HOST_STATUS_REPORTED);
      else setHostStatus(this.ctx, rec, host.id, input.status, Cause.HOST_STATUS_REPORTED);
      return ok(this.state.hosts.get(host.id) as Host);
    });
  }

  /**
   * Starts evacuating a host (§9): UP, PREPARING_FOR_MAINTENANCE or MAINTENANCE; asked again while
   * one runs, the running one, unchanged.
   */
  evacuateHost(input: EvacuateHostInput, actor: string = OPEN_ACTOR): Outcome<Evacuation> {
    const host = this.namedHost(input, validateEvacuationInput);
    if (Array.isArray(host)) return refused(host);
    const running = this.ctx.evacuations.runningOn(host.id);
    if (running !== undefined) return ok(evacuationOf(this.state, running));
    if (!isResponsive(host.status)) {
      return refusedWith(ErrorCode.HOST_NOT_UP, `host ${host.id} is ${host.status}: only a host that answers (UP, PREPARING_FOR_MAINTENANCE or MAINTENANCE) is evacuated`, 'hostId');
    }
    return this.run(actor, (rec) => {
      const evacuation = startEvacuation(this.ctx, rec, host);
      return ok(evacuation);
    }, (evacuation) => evacuationOf(this.state, evacuation));
  }

  /**
   * Cancels the host's running evacuation (§9), or lets a host whose latest evacuation FAILED go
   * back to UP; NOT_EVACUATING otherwise.
   */
  cancelEvacuation(input: CancelEvacuationInput, actor: string = OPEN_ACTOR): Outcome<Evacuation> {
    const host = this.namedHost(input, validateEvacuationInput);
    if (Array.isArray(host)) return refused(host);
    const running = this.ctx.evacuations.runningOn(host.id);
    const latest = this.ctx.evacuations.latestOn(host.id);
    const failedHolding = latest?.state === EvacuationState.FAILED && latest.holdsHost && host.status === HostStatus.PREPARING_FOR_MAINTENANCE;
    if (running === undefined && !failedHolding) {
      return refusedWith(ErrorCode.NOT_EVACUATING, `host ${host.id} is not being evacuated${latest ? ` (its latest evacuation ${latest.id} is ${latest.state})` : ''}`, 'hostId');
    }
    return this.run(actor, (rec) => {
      if (running !== undefined) cancelRunning(this.ctx, rec, running, Cause.EVACUATION);
      else if (latest !== undefined) releaseFailed(this.ctx, rec, latest, HostStatus.UP, Cause.EVACUATION);
      return ok((running ?? latest) as NonNullable<typeof latest>);
    }, (evacuation) => evacuationOf(this.state, evacuation));
  }

  reportFenceResult(input: ReportFenceResultInput, actor: string = OPEN_ACTOR): Outcome<Host> {
    const host = this.namedHost(input, validateReportFenceResult);
    if (Array.isArray(host)) return refused(host);
    if (host.status !== HostStatus.NON_RESPONSIVE) {
      return refusedWith(ErrorCode.HOST_NOT_NON_RESPONSIVE, `host ${host.id} is ${host.status}; only a NON_RESPONSIVE host is fenced`, 'hostId');
    }
    const message = input.message ?? null;
    return this.run(actor, (rec) => {
      if (input.succeeded) fenced(this.ctx, rec, host.id, messages.fenceSucceeded(host.id, input.method, message));
      else rec.hostEvent(EventType.FENCE_FAILED, messages.fenceFailed(host.id, input.method, message), host.id);
      return ok(this.state.hosts.get(host.id) as Host);
    });
  }

  /** Forgets a host that runs no VM and is no side of a migration in flight (docs/contract.md §11). */
  removeHost(input: RemoveHostInput, actor: string = OPEN_ACTOR): Outcome<string> {
    this.assertWorking();
    const errors = validateRemoveHost(input, this.limits);
    if (errors.length > 0) return refused(errors);
    const refusal = removeRefusal(this.ctx, input.hostId);
    if (refusal !== null) return refused([refusal]);
    return this.run(actor, (rec) => {
      removeHostRule(this.ctx, rec, input.hostId);
      this.ctx.recentOrders.dropHost(input.hostId);
      return ok(input.hostId);
    });
  }

  /**
   * Fires what the clock says is due, as the engine (`actor: engine`): hosts silent for
   * `hostTimeoutMs` become NON_RESPONSIVE; attempts the source has not confirmed within
   * `migrationStartTimeoutMs` end; attempts past their progress or completion deadline are aborted;
   * the scheduler runs (queue starts and queue timeouts, docs/contract.md §8); the orders of ended
   * attempts whose grace period is over are let go; VMs past their retention are forgotten (§11).
   * Work proportional to VMs is bounded per tick (`tickBudgetVms`); the rest waits for the next.
   */
  tick(): void {
    this.assertWorking();
    const now = this.settings.clock();
    const { tickBudgetVms, vmRetentionMs, maxDownVms } = this.settings.bounds;
    this.ctx.recentOrders.prune(now);
    // VMs DOWN on no host that no report named for the retention are forgotten, a budget at a time.
    this.state.forgetDownVms(now - vmRetentionMs, maxDownVms, tickBudgetVms);
    // Silent hosts, until their VMs reach the budget (the others on the next ticks): one step stays short.
    const silent: HostRecord[] = [];
    let work = 0;
    for (const host of this.state.hosts.values()) {
      if (work >= tickBudgetVms) break;
      if (!isResponsive(host.status) || now - host.lastSeenAt < this.settings.hostTimeoutMs) continue;
      silent.push(host);
      work += this.state.vmIdsOnHost(host.id).size + 1;
    }
    const due = [...this.state.unconfirmed]
      .map((vmId) => this.state.entries.get(vmId) as Migration)
      .filter((e) => e.destinationChoice !== DestinationChoice.DISCOVERED && now - e.attemptStartedAt >= this.settings.migrationStartTimeoutMs);
    const overdue = dueDeadlines(this.ctx, now);
    if (silent.length === 0 && due.length === 0 && overdue.length === 0 && this.state.pending.size === 0) return;
    this.run(ENGINE_ACTOR, (rec) => {
      for (const host of silent) markUnresponsive(this.ctx, rec, host.id, `no report for ${Math.round((now - host.lastSeenAt) / 1000)} s`);
      for (const late of due) {
        const entry = this.state.entries.get(late.vmId);
        if (entry !== undefined && entry.id === late.id && !entry.sourceConfirmed) startTimedOut(this.ctx, rec, entry);
      }
      for (const deadline of overdue) abortOverdue(this.ctx, rec, deadline);
      schedule(this.ctx, rec);
      return ok(undefined);
    });
  }

  /** A table that failed stop refuses everything, refusals included: its state cannot be trusted. */
  private assertWorking(): void {
    if (this.failure !== null) throw this.failure;
  }

  /**
   * What every command about one known host checks first: the table works, the input passes its
   * checks, the host it names is known. The host, or the refusals.
   */
  private namedHost<I extends { readonly hostId: string }>(input: I, validate: (input: I, limits: InputLimits) => UserError[]): HostRecord | UserError[] {
    this.assertWorking();
    const errors = validate(input, this.limits);
    if (errors.length > 0) return errors;
    return this.state.hosts.get(input.hostId) ?? [unknownHost(input.hostId)];
  }

  /**
   * Runs a command's rules into one recording; then, until nothing more follows, brings the running
   * evacuations up to date with what was recorded (§9) and runs the scheduler when a slot may have
   * freed or the queue changed (§8). `view` turns the result into what the caller receives, once
   * all is done.
   */
  private run<T, R = T>(actor: string, body: (rec: Recording) => Outcome<T>, view?: (value: T) => R): Outcome<R> {
    const seqBefore = this.seq;
    const rec = new Recording(this.settings.clock(), () => ++this.seq, actor, this.settings.faultInjection);
    let result: Outcome<T>;
    try {
      result = body(rec);
      for (let followed = 0; ; ) {
        followed = followEvacuations(this.ctx, rec, followed);
        if (!this.state.schedulerDue) break;
        schedule(this.ctx, rec);
      }
      // Beyond the most VMs DOWN on no host kept, the least recently named go (as many as came in).
      this.state.forgetDownVms(Number.NEGATIVE_INFINITY, this.settings.bounds.maxDownVms, Number.POSITIVE_INFINITY);
    } catch (error) {
      this.seq = seqBefore; // nothing of the failed command is kept or published
      this.failure = new TableFailedError(error);
      this.to.onFailure(this.failure);
      throw this.failure;
    }
    for (const t of rec.transitions) this.to.transitions.append(t);
    for (const e of rec.events) this.to.events.append(e);
    if (!rec.isEmpty) this.to.publisher.publish({ transitions: rec.transitions, events: rec.events, commands: rec.commands });
    if (!result.ok || view === undefined) return result as Outcome<R>;
    return ok(view(result.value));
  }

  /** The migration with this id while it is pending or in flight. */
  private currentMigration(id: string): Migration | undefined {
    const m = this.state.migrations.get(id);
    return m !== undefined && isCurrent(m.state) ? m : undefined;
  }
}
