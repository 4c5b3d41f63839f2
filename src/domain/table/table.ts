/**
 * The migration table: the one owner of Transit's state (seed: "the table of VMs statuses will be
 * kept in memory - it will be shared between all hosts"). Each command validates its input, changes
 * nothing when it refuses, and otherwise applies the rules, records every change as a transition
 * (and, where an operator must read it, an event), and hands the changes to its listeners.
 *
 * Time comes only from the injected clock; timeouts fire only when `tick()` is called.
 *
 * This module checks and dispatches; the rules live beside it: `report-rules.ts` (what a report
 * does), `entry-rules.ts` (an entry's evaluation, rerun and end), `host-rules.ts` (host status,
 * fence, start timeout), all writing into one `Recording` per command.
 */
import { BoundedLog, type ReadAfter } from './bounded-log.js';
import { formatCursor, parseCursor } from './cursor.js';
import { chooseFor, newEntry, putEntryAndVm } from '../rules/entry-rules.js';
import { addHost, fenced, markUnresponsive, setHostStatus, startTimedOut } from '../rules/host-rules.js';
import { messages } from '../messages.js';
import type {
  CancelMigrationInput,
  EngineEvent,
  Host,
  HostCommand,
  Migration,
  MigrateVmInput,
  Millis,
  Outcome,
  RegisterHostInput,
  ReportFenceResultInput,
  ReportHostStatusInput,
  ReportVmStatusesInput,
  Transition,
  UserError,
  Vm,
} from '../model.js';
import { commandOf, Recording } from './recording.js';
import { applyBatch } from '../rules/report-rules.js';
import { notHeard, type ReportCounts, type TableContext } from './table-context.js';
import { TableState, type HostRecord, type Page } from './table-state.js';
import {
  DEFAULT_INPUT_LIMITS,
  validateCancelMigration,
  validateMigrateVm,
  validateRegisterHost,
  validateReportFenceResult,
  validateReportHostStatus,
  validateReportVmStatuses,
  type InputLimits,
} from '../validation.js';
import {
  Cause,
  DEFAULT_CLUSTER,
  DestinationChoice,
  ErrorCode,
  EventType,
  HostCommandKind,
  HostStatus,
  isResponsive,
  MigrationState,
  VmStatus,
} from '../vocabulary.js';

export interface TableOptions {
  /** Identifies this engine run; part of every cursor, so cursors of an earlier run are refused. */
  readonly epoch: string;
  /** The engine's clock, in milliseconds since the Unix epoch. */
  readonly clock: () => Millis;
  /** A host that has not reported for this long becomes NON_RESPONSIVE. */
  readonly hostTimeoutMs: number;
  /** An attempt the source has not confirmed within this long ends FAILED. */
  readonly migrationStartTimeoutMs: number;
  /** At most this many hosts are tried for one migration (oVirt's MaxRerunVmOnVdsCount). */
  readonly maxAttempts: number;
  /** Transitions, events and decided migrations kept, each, for queries and resume. */
  readonly historyLimit: number;
  readonly inputLimits?: InputLimits;
}

export const DEFAULT_TABLE_SETTINGS = Object.freeze({
  hostTimeoutMs: 60_000,
  migrationStartTimeoutMs: 30_000,
  maxAttempts: 3,
  historyLimit: 100_000,
});

/** What one command changed, in order. */
export interface ChangeSet {
  readonly transitions: readonly Transition[];
  readonly events: readonly EngineEvent[];
  readonly commands: readonly HostCommand[];
}

export type ChangeListener = (changes: ChangeSet) => void;

/** VM reports since the engine started, by what became of them (monitoring). */
export interface ReportTotals {
  /** Reports of accepted batches that the table applied. */
  readonly applied: number;
  /** Reports of accepted batches not applied to their entry (a `REPORT_IGNORED` event each). */
  readonly ignored: number;
  /** Reports of batches refused whole as stale (`STALE_REPORT`). */
  readonly staleBatch: number;
  /** Reports of batches refused whole as invalid (`INVALID_INPUT`). */
  readonly invalidBatch: number;
}

/** The table's size and make-up, as a monitoring scrape reads it: counts, read without walking VMs or entries. */
export interface TableStats {
  readonly vms: number;
  readonly vmsByStatus: ReadonlyMap<VmStatus, number>;
  /** Entries in flight: the migration table's size. */
  readonly entries: number;
  readonly stalledEntries: number;
  /** Kept migrations (in flight and recently decided) by state. */
  readonly migrationsByState: ReadonlyMap<MigrationState, number>;
  readonly hostsByStatus: ReadonlyMap<HostStatus, number>;
  readonly reports: ReportTotals;
}

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const refused = <T>(errors: readonly UserError[]): Outcome<T> => ({ ok: false, errors });
const refusal = <T>(code: ErrorCode, message: string, field: string | null = null): Outcome<T> => refused([{ code, message, field }]);

export class MigrationTable {
  readonly epoch: string;
  readonly startedAt: Millis;
  private readonly state: TableState;
  private readonly transitions: BoundedLog<Transition>;
  private readonly events: BoundedLog<EngineEvent>;
  private readonly listeners = new Set<ChangeListener>();
  private readonly limits: InputLimits;
  private seq = 0;
  /** Orders every report the table applies, across hosts ("heard after"). */
  private heardCounter = 0;
  private readonly reportCounts: ReportCounts = { accepted: 0, ignored: 0, stale: 0, invalid: 0 };
  /** What the rule modules work on. */
  private readonly ctx: TableContext;

  constructor(private readonly options: TableOptions) {
    this.epoch = options.epoch;
    this.startedAt = options.clock();
    this.limits = options.inputLimits ?? DEFAULT_INPUT_LIMITS;
    this.state = new TableState(options.historyLimit);
    this.transitions = new BoundedLog(options.historyLimit);
    this.events = new BoundedLog(options.historyLimit);
    this.ctx = {
      state: this.state,
      settings: { epoch: options.epoch, migrationStartTimeoutMs: options.migrationStartTimeoutMs, maxAttempts: options.maxAttempts },
      nextHeard: () => ++this.heardCounter,
      reportCounts: this.reportCounts,
    };
  }

  // =============================================================================================
  // Commands
  // =============================================================================================

  registerHost(input: RegisterHostInput): Outcome<Host> {
    const errors = validateRegisterHost(input, this.limits);
    if (errors.length > 0) return refused(errors);
    return this.run((rec) => {
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

  migrateVm(input: MigrateVmInput): Outcome<Migration> {
    const errors = validateMigrateVm(input, this.limits);
    if (errors.length > 0) return refused(errors);
    const vm = this.state.vms.get(input.vmId);
    if (vm === undefined) return refusal(ErrorCode.VM_NOT_FOUND, `VM ${input.vmId} is not known`, 'vmId');
    if (vm.migrationId !== null) return refusal(ErrorCode.VM_ALREADY_MIGRATING, `VM ${vm.id} is already migrating (${vm.migrationId})`, 'vmId');
    if (vm.status !== VmStatus.UP || vm.hostId === null) return refusal(ErrorCode.VM_NOT_UP, `VM ${vm.id} is ${vm.status}, not UP`, 'vmId');
    const source = this.state.hosts.get(vm.hostId);
    if (source === undefined || !isResponsive(source.status)) {
      return refusal(ErrorCode.HOST_NOT_UP, `the source host ${vm.hostId} is ${source?.status ?? 'not registered'}`, 'vmId');
    }
    let destinationId: string;
    let choice: DestinationChoice;
    if (input.destinationHostId != null) {
      const field = 'destinationHostId';
      const destination = this.state.hosts.get(input.destinationHostId);
      if (destination === undefined) return refusal(ErrorCode.HOST_NOT_FOUND, `host ${input.destinationHostId} is not known`, field);
      if (destination.id === source.id) return refusal(ErrorCode.SAME_HOST, `VM ${vm.id} already runs on ${source.id}`, field);
      if (destination.status !== HostStatus.UP) return refusal(ErrorCode.HOST_NOT_UP, `host ${destination.id} is ${destination.status}`, field);
      if (destination.cluster !== source.cluster) {
        return refusal(ErrorCode.CLUSTER_MISMATCH, `host ${destination.id} is in cluster ${destination.cluster}, the VM in ${source.cluster}`, field);
      }
      destinationId = destination.id;
      choice = DestinationChoice.USER;
    } else {
      const chosen = chooseFor(this.ctx, source.id, source.cluster, new Set());
      if (chosen === null) return refusal(ErrorCode.NO_ELIGIBLE_HOST, `no host in cluster ${source.cluster} can take VM ${vm.id}`, 'destinationHostId');
      destinationId = chosen;
      choice = DestinationChoice.ENGINE;
    }
    return this.run((rec) => {
      const entry = newEntry(this.ctx, rec, vm, {
        source: notHeard(source.id),
        destination: notHeard(destinationId),
        destinationChoice: choice,
        sourceConfirmed: false,
      });
      putEntryAndVm(this.ctx, rec, Cause.MIGRATE_COMMAND, entry, source.id);
      rec.event(EventType.MIGRATION_STARTED, messages.migrationStarted(entry), entry);
      rec.command(HostCommandKind.MIGRATE, entry);
      return ok(entry);
    });
  }

  cancelMigration(input: CancelMigrationInput): Outcome<Migration> {
    const errors = validateCancelMigration(input, this.limits);
    if (errors.length > 0) return refused(errors);
    const entry =
      input.vmId != null ? this.state.entries.get(input.vmId) : this.entryOfMigration(input.migrationId as string);
    if (entry === undefined) {
      const field = input.vmId != null ? 'vmId' : 'migrationId';
      return refusal(ErrorCode.NOT_MIGRATING, `${input.vmId != null ? `VM ${input.vmId}` : `migration ${input.migrationId}`} is not in the migration table`, field);
    }
    if (entry.cancelRequested) return ok(entry); // asked already: the source has its order
    return this.run((rec) => {
      const next = { ...entry, cancelRequested: true };
      rec.command(HostCommandKind.CANCEL, next);
      putEntryAndVm(this.ctx, rec, Cause.CANCEL, next, next.source.hostId);
      return ok(next);
    });
  }

  reportVmStatuses(input: ReportVmStatusesInput): Outcome<Host> {
    const reports = Array.isArray(input.vms) ? input.vms.length : 0;
    const errors = validateReportVmStatuses(input, this.limits);
    if (errors.length > 0) {
      this.reportCounts.invalid += reports;
      return refused(errors);
    }
    const known = this.state.hosts.get(input.hostId);
    if (known !== undefined && input.cluster != null && input.cluster !== known.cluster) {
      this.reportCounts.invalid += reports;
      return refusal(ErrorCode.INVALID_INPUT, `host ${known.id} belongs to cluster ${known.cluster}; register it again to move it`, 'cluster');
    }
    if (known !== undefined && this.isStale(known, input)) {
      this.reportCounts.stale += reports;
      return refusal(ErrorCode.STALE_REPORT, `sequence ${input.sequence} is not above ${known.lastSequence}, the last accepted from host ${known.id}`, 'sequence');
    }
    this.reportCounts.accepted += reports;
    return this.run((rec) => ok(applyBatch(this.ctx, rec, input)));
  }

  reportHostStatus(input: ReportHostStatusInput): Outcome<Host> {
    const errors = validateReportHostStatus(input, this.limits);
    if (errors.length > 0) return refused(errors);
    const host = this.state.hosts.get(input.hostId);
    if (host === undefined) return refusal(ErrorCode.HOST_NOT_FOUND, `host ${input.hostId} is not known`, 'hostId');
    if (input.status === host.status) return ok(host);
    if (input.status === HostStatus.REBOOTING) {
      return refusal(ErrorCode.INVALID_INPUT, 'only a successful fence (reportFenceResult) puts a host into REBOOTING', 'status');
    }
    if (input.status !== HostStatus.NON_RESPONSIVE && !isResponsive(host.status)) {
      // Its old reports would be believed again without a word from it: only its own report recovers it.
      return refusal(ErrorCode.INVALID_INPUT, `host ${host.id} is ${host.status}: it becomes UP again only by reporting`, 'status');
    }
    return this.run((rec) => {
      if (input.status === HostStatus.NON_RESPONSIVE) markUnresponsive(this.ctx, rec, host.id, 'reported so');
      else setHostStatus(this.ctx, rec, host.id, input.status, Cause.HOST_STATUS_REPORTED);
      return ok(this.state.hosts.get(host.id) as Host);
    });
  }

  reportFenceResult(input: ReportFenceResultInput): Outcome<Host> {
    const errors = validateReportFenceResult(input, this.limits);
    if (errors.length > 0) return refused(errors);
    const host = this.state.hosts.get(input.hostId);
    if (host === undefined) return refusal(ErrorCode.HOST_NOT_FOUND, `host ${input.hostId} is not known`, 'hostId');
    if (host.status !== HostStatus.NON_RESPONSIVE) {
      return refusal(ErrorCode.HOST_NOT_NON_RESPONSIVE, `host ${host.id} is ${host.status}; only a NON_RESPONSIVE host is fenced`, 'hostId');
    }
    const message = input.message ?? null;
    return this.run((rec) => {
      if (input.succeeded) fenced(this.ctx, rec, host.id, messages.fenceSucceeded(host.id, input.method, message));
      else rec.hostEvent(EventType.FENCE_FAILED, messages.fenceFailed(host.id, input.method, message), host.id);
      return ok(this.state.hosts.get(host.id) as Host);
    });
  }

  /**
   * Fires what the clock says is due: hosts silent for `hostTimeoutMs` become NON_RESPONSIVE, and
   * attempts the source has not confirmed within `migrationStartTimeoutMs` end.
   */
  tick(): void {
    const now = this.options.clock();
    const silent = [...this.state.hosts.values()].filter(
      (h) => isResponsive(h.status) && now - h.lastSeenAt >= this.options.hostTimeoutMs,
    );
    const due = [...this.state.unconfirmed]
      .map((vmId) => this.state.entries.get(vmId) as Migration)
      .filter((e) => e.destinationChoice !== DestinationChoice.DISCOVERED && now - e.attemptStartedAt >= this.options.migrationStartTimeoutMs);
    if (silent.length === 0 && due.length === 0) return;
    this.run((rec) => {
      for (const host of silent) markUnresponsive(this.ctx, rec, host.id, `no report for ${Math.round((now - host.lastSeenAt) / 1000)} s`);
      for (const stale of due) {
        const entry = this.state.entries.get(stale.vmId);
        if (entry !== undefined && entry.id === stale.id && !entry.sourceConfirmed) startTimedOut(this.ctx, rec, entry);
      }
      return ok(undefined);
    });
  }

  // =============================================================================================
  // Queries
  // =============================================================================================

  get cursor(): string {
    return formatCursor(this.epoch, this.seq);
  }

  get latestSeq(): number {
    return this.seq;
  }

  host(id: string): Host | undefined {
    return this.state.hosts.get(id);
  }

  hosts(filter: { cluster?: string | null; status?: HostStatus | null } = {}): Host[] {
    const ids = filter.cluster == null ? this.state.hosts.keys() : this.state.hostIdsInCluster(filter.cluster);
    const hosts: Host[] = [];
    for (const id of ids) {
      const host = this.state.hosts.get(id) as HostRecord;
      if (filter.status == null || host.status === filter.status) hosts.push(host);
    }
    return hosts.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  vm(id: string): Vm | undefined {
    return this.state.vms.get(id);
  }

  vmCount(): number {
    return this.state.vms.size;
  }

  hostCount(): number {
    return this.state.hosts.size;
  }

  /** The VMs of the host that runs the most (what `Host.vms` may hold), in time linear in the hosts. */
  mostVmsOnOneHost(): number {
    return this.state.mostVmsOnOneHost();
  }

  stats(): TableStats {
    const hostsByStatus = new Map<HostStatus, number>();
    for (const host of this.state.hosts.values()) hostsByStatus.set(host.status, (hostsByStatus.get(host.status) ?? 0) + 1);
    const { accepted, ignored, stale, invalid } = this.reportCounts;
    return {
      vms: this.state.vms.size,
      vmsByStatus: this.state.vmCountsByStatus(),
      entries: this.state.entries.size,
      stalledEntries: this.state.stalledEntries,
      migrationsByState: this.state.migrationCountsByState(),
      hostsByStatus,
      reports: { applied: accepted - ignored, ignored, staleBatch: stale, invalidBatch: invalid },
    };
  }

  vms(filter: { status?: VmStatus | null; hostId?: string | null }, afterOrdinal = 0, first = 50): Page<Vm> {
    return this.state.listVms(filter, afterOrdinal, first);
  }

  vmIdsOnHost(hostId: string): readonly string[] {
    return [...this.state.vmIdsOnHost(hostId)];
  }

  migration(id: string): Migration | undefined {
    return this.state.migrations.get(id);
  }

  /** The VM's entry in the table, while it migrates. */
  entryOf(vmId: string): Migration | undefined {
    return this.state.entries.get(vmId);
  }

  entries(): IterableIterator<Migration> {
    return this.state.entries.values();
  }

  migrations(filter: { state?: MigrationState | null; vmId?: string | null; hostId?: string | null }, afterOrdinal = 0, first = 50): Page<Migration> {
    return this.state.listMigrations(filter, afterOrdinal, first);
  }

  eventLog(filter: { vmId?: string | null; hostId?: string | null; type?: EventType | null }, afterSeq = 0, first = 50): Page<EngineEvent> {
    const { items, hasMore } = this.events.scan(afterSeq, first, (e) => matchesEvent(e, filter));
    return { items, hasNextPage: hasMore };
  }

  /** Up to `limit` kept transitions after `afterSeq`, or EVICTED when some were dropped from the history. */
  transitionsAfter(afterSeq: number, limit?: number): ReadAfter<Transition> {
    return this.transitions.readAfter(afterSeq, limit);
  }

  /** Up to `limit` kept events after `afterSeq`, or EVICTED when some were dropped from the history. */
  eventsAfter(afterSeq: number, limit?: number): ReadAfter<EngineEvent> {
    return this.events.readAfter(afterSeq, limit);
  }

  /** Whether a reader of the event log at `afterSeq` has missed nothing that was dropped. */
  eventsKeptAfter(afterSeq: number): boolean {
    return this.events.keepsAfter(afterSeq);
  }

  /** Reads a cursor of this engine run: its seq, or why it cannot be resumed from. */
  resolveCursor(cursor: string): { ok: true; seq: number } | { ok: false; reason: 'MALFORMED' | 'OTHER_EPOCH' | 'FUTURE' } {
    const position = parseCursor(cursor);
    if (position === null) return { ok: false, reason: 'MALFORMED' };
    if (position.epoch !== this.epoch) return { ok: false, reason: 'OTHER_EPOCH' };
    if (position.seq > this.seq) return { ok: false, reason: 'FUTURE' };
    return { ok: true, seq: position.seq };
  }

  /**
   * The orders a host agent must hold now: for every migration still in progress from it, the
   * migrate order of the current attempt, and the cancel order when one was asked. An agent that
   * (re)connects gets these first, so it misses no order; orders are idempotent by
   * (migrationId, attempt, kind).
   */
  pendingCommands(hostId: string): HostCommand[] {
    const commands: HostCommand[] = [];
    for (const vmId of this.state.entryVmIdsOfHost(hostId)) {
      const entry = this.state.entries.get(vmId) as Migration;
      if (entry.source.hostId !== hostId) continue;
      if (entry.destinationChoice !== DestinationChoice.DISCOVERED) commands.push(commandOf(HostCommandKind.MIGRATE, entry, entry.attemptStartedAt));
      if (entry.cancelRequested) commands.push(commandOf(HostCommandKind.CANCEL, entry, entry.attemptStartedAt));
    }
    return commands;
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Index and record disagreements (empty when consistent): for tests and diagnostics. */
  checkConsistency(): string[] {
    return this.state.checkIndexes();
  }

  // =============================================================================================
  // Plumbing
  // =============================================================================================

  private run<T>(body: (rec: Recording) => Outcome<T>): Outcome<T> {
    const rec = new Recording(this.options.clock(), () => ++this.seq);
    const result = body(rec);
    for (const t of rec.transitions) this.transitions.append(t);
    for (const e of rec.events) this.events.append(e);
    if (!rec.isEmpty) {
      const changes: ChangeSet = { transitions: rec.transitions, events: rec.events, commands: rec.commands };
      let failure: unknown = null;
      for (const listener of this.listeners) {
        try {
          listener(changes);
        } catch (error) {
          failure ??= error; // every listener hears the change; the first failure is raised after
        }
      }
      if (failure !== null) throw failure;
    }
    return result;
  }

  private isStale(host: Host, input: ReportVmStatusesInput): boolean {
    if (input.sequence == null || host.lastSequence === null) return false;
    // A batch without a bootId comes from the boot the host last named.
    const sameBoot = input.bootId == null || input.bootId === host.bootId;
    return sameBoot && input.sequence <= host.lastSequence;
  }

  private entryOfMigration(id: string): Migration | undefined {
    const m = this.state.migrations.get(id);
    return m !== undefined && m.state === MigrationState.IN_PROGRESS ? m : undefined;
  }
}

function matchesEvent(e: EngineEvent, filter: { vmId?: string | null; hostId?: string | null; type?: EventType | null }): boolean {
  return (
    (filter.vmId == null || e.vmId === filter.vmId) &&
    (filter.hostId == null || e.hostIds.includes(filter.hostId)) &&
    (filter.type == null || e.type === filter.type)
  );
}
