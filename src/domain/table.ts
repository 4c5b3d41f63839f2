/**
 * The migration table: the one owner of Transit's state (seed: "the table of VMs statuses will be
 * kept in memory - it will be shared between all hosts"). Each command validates its input, changes
 * nothing when it refuses, and otherwise applies the rules, records every change as a transition
 * (and, where an operator must read it, an event), and hands the changes to its listeners.
 *
 * Time comes only from the injected clock; timeouts fire only when `tick()` is called.
 */
import { BoundedLog, type ReadAfter } from './bounded-log.js';
import { formatCursor, parseCursor } from './cursor.js';
import { evaluate, type EntryView, type Evaluation } from './evaluate.js';
import { isNormalExit, messages } from './messages.js';
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
  Side,
  Transition,
  UserError,
  Vm,
  VmReportInput,
  VmState,
} from './model.js';
import { chooseDestination } from './placement.js';
import { TableState, type HostRecord, type Page, type VmRecord } from './table-state.js';
import {
  DEFAULT_INPUT_LIMITS,
  validateCancelMigration,
  validateMigrateVm,
  validateRegisterHost,
  validateReportFenceResult,
  validateReportHostStatus,
  validateReportVmStatuses,
  type InputLimits,
} from './validation.js';
import {
  Cause,
  DEFAULT_CLUSTER,
  DestinationChoice,
  ErrorCode,
  EVENT_SEVERITY,
  EventType,
  HostCommandKind,
  HostStatus,
  isResponsive,
  MigrationState,
  ReportedVmStatus,
  Severity,
  VmLocation,
  VmStatus,
} from './vocabulary.js';

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

interface Recording {
  transitions: Transition[];
  events: EngineEvent[];
  commands: HostCommand[];
  now: Millis;
  /** VMs first heard of in this command: their first transition comes from nothing (`from: null`). */
  newVms: Set<string>;
}

const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
const refused = <T>(errors: readonly UserError[]): Outcome<T> => ({ ok: false, errors });
const refusal = <T>(code: ErrorCode, message: string, field: string | null = null): Outcome<T> => refused([{ code, message, field }]);

const NOT_HEARD = (hostId: string | null): Side => ({ hostId, report: null, heardAt: 0, fenced: false, exitReason: null });

const vmStateOf = (vm: VmRecord): VmState => ({ status: vm.status, hostId: vm.hostId, location: vm.location });
const sameVmState = (a: VmState, b: VmState) => a.status === b.status && a.hostId === b.hostId && a.location === b.location;

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
  private readonly reportCounts = { accepted: 0, ignored: 0, stale: 0, invalid: 0 };

  constructor(private readonly options: TableOptions) {
    this.epoch = options.epoch;
    this.startedAt = options.clock();
    this.limits = options.inputLimits ?? DEFAULT_INPUT_LIMITS;
    this.state = new TableState(options.historyLimit);
    this.transitions = new BoundedLog(options.historyLimit);
    this.events = new BoundedLog(options.historyLimit);
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
      if (host === undefined) return ok(this.addHost(rec, input.hostId, cluster, Cause.HOST_REGISTERED));
      if (host.cluster !== cluster) {
        this.state.putHost({ ...host, cluster });
        this.hostTransition(rec, Cause.HOST_REGISTERED, this.state.hosts.get(input.hostId) as HostRecord, host.status);
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
      const chosen = this.chooseFor(source.id, source.cluster, new Set());
      if (chosen === null) return refusal(ErrorCode.NO_ELIGIBLE_HOST, `no host in cluster ${source.cluster} can take VM ${vm.id}`, 'destinationHostId');
      destinationId = chosen;
      choice = DestinationChoice.ENGINE;
    }
    return this.run((rec) => {
      const entry = this.newEntry(rec, vm, {
        source: NOT_HEARD(source.id),
        destination: NOT_HEARD(destinationId),
        destinationChoice: choice,
        sourceConfirmed: false,
      });
      this.putEntryAndVm(rec, Cause.MIGRATE_COMMAND, entry, source.id);
      this.event(rec, EventType.MIGRATION_STARTED, messages.migrationStarted(entry), entry);
      this.command(rec, HostCommandKind.MIGRATE, entry);
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
      if (next.source.hostId !== null) this.command(rec, HostCommandKind.CANCEL, next);
      this.putEntryAndVm(rec, Cause.CANCEL, next, next.source.hostId);
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
    return this.run((rec) => {
      const hostId = input.hostId;
      const host = known ?? this.addHost(rec, hostId, input.cluster ?? DEFAULT_CLUSTER, Cause.HOST_REPORT);
      const recovering = host.status === HostStatus.NON_RESPONSIVE || host.status === HostStatus.REBOOTING;
      const bootChanged = input.bootId != null && input.bootId !== host.bootId;
      this.state.putHost({
        ...host,
        lastReportAt: rec.now,
        lastSeenAt: rec.now,
        bootId: input.bootId ?? host.bootId,
        lastSequence: input.sequence ?? (bootChanged ? null : host.lastSequence),
      });
      if (recovering) this.setHostStatus(rec, hostId, HostStatus.UP, Cause.HOST_RECOVERED);

      const listed = new Set<string>();
      for (const item of input.vms) {
        listed.add(item.vmId);
        this.applyReport(rec, hostId, item);
      }
      if (input.full === true) {
        // A full batch lists every VM on the host: one it does not list is DOWN there.
        const onHost = new Set([...this.state.vmIdsOnHost(hostId), ...this.state.entryVmIdsOfHost(hostId)]);
        for (const vmId of onHost) if (!listed.has(vmId)) this.applyReport(rec, hostId, { vmId, status: ReportedVmStatus.DOWN });
      }
      if (recovering) {
        // VMs the host did not mention run as before it stopped answering.
        for (const vmId of [...this.state.vmIdsOnHost(hostId)]) this.restoreUnknown(rec, vmId, hostId, Cause.HOST_RECOVERED);
        for (const vmId of this.state.entryVmIdsOfHost(hostId)) this.reevaluate(rec, vmId, Cause.HOST_RECOVERED, hostId);
      }
      return ok(this.state.hosts.get(hostId) as Host);
    });
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
      if (input.status === HostStatus.NON_RESPONSIVE) this.markUnresponsive(rec, host.id, 'reported so');
      else this.setHostStatus(rec, host.id, input.status, Cause.HOST_STATUS_REPORTED);
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
      if (!input.succeeded) {
        this.hostEvent(rec, EventType.FENCE_FAILED, messages.fenceFailed(host.id, input.method, message), host.id);
        return ok(host as Host);
      }
      this.setHostStatus(rec, host.id, HostStatus.REBOOTING, Cause.FENCE_SUCCEEDED);
      this.hostEvent(rec, EventType.FENCE_SUCCEEDED, messages.fenceSucceeded(host.id, input.method, message), host.id);
      // The seed: after a successful fence, every migrating VM of the host is DOWN on it, and re-evaluated.
      for (const vmId of this.state.entryVmIdsOfHost(host.id)) {
        const entry = this.state.entries.get(vmId) as Migration;
        const fencedDown: Side = { hostId: host.id, report: ReportedVmStatus.DOWN, heardAt: ++this.heardCounter, fenced: true, exitReason: null };
        const isSource = entry.source.hostId === host.id;
        const next: Migration = isSource
          ? { ...entry, source: fencedDown, sourceConfirmed: true }
          : { ...entry, destination: fencedDown };
        this.settle(rec, next, Cause.FENCE_SUCCEEDED, host.id);
      }
      for (const vmId of [...this.state.vmIdsOnHost(host.id)]) {
        const vm = this.state.vms.get(vmId) as VmRecord;
        if (vm.migrationId !== null) continue;
        const before = vmStateOf(vm);
        this.state.updateVm(vm, { status: VmStatus.DOWN, hostId: null, location: null, statusBeforeUnknown: null });
        this.vmTransition(rec, Cause.FENCE_SUCCEEDED, vm, before, host.id, null);
        this.event(rec, EventType.VM_SET_DOWN_BY_FENCE, messages.vmDownByFence(vm.id, host.id), null, vm.id, host.id);
      }
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
      for (const host of silent) this.markUnresponsive(rec, host.id, `no report for ${Math.round((now - host.lastSeenAt) / 1000)} s`);
      for (const stale of due) {
        const entry = this.state.entries.get(stale.vmId);
        if (entry === undefined || entry.id !== stale.id || entry.sourceConfirmed) continue;
        // The main idea holds here too: no verdict while a side is frozen...
        if (evaluate({ ...this.viewOf(entry, now), confirmationOverdue: false }).stalled) continue;
        // ...nor while the destination shows the VM arriving (or running): the entry waits, stalled, for a side to change.
        const arriving = entry.destination.report === ReportedVmStatus.MIGRATING_TO || entry.destination.report === ReportedVmStatus.UP;
        if (arriving) {
          this.settle(rec, entry, Cause.START_TIMEOUT, entry.source.hostId);
          continue;
        }
        const outcome = entry.cancelRequested ? MigrationState.CANCELLED : MigrationState.FAILED;
        // Tell the source to drop the order in case it arrives late.
        this.command(rec, HostCommandKind.CANCEL, entry);
        this.finish(rec, entry, outcome, Cause.START_TIMEOUT, entry.source.hostId, 'the source did not start the migration');
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
  // Rules
  // =============================================================================================

  /** Applies one host's report about one VM. */
  private applyReport(rec: Recording, hostId: string, item: VmReportInput): void {
    const entry = this.state.entries.get(item.vmId);
    if (entry !== undefined) return this.applyToEntry(rec, hostId, item, entry);
    switch (item.status) {
      case ReportedVmStatus.MIGRATING_FROM:
      case ReportedVmStatus.MIGRATING_TO:
        return this.discover(rec, hostId, item);
      case ReportedVmStatus.UP:
        return this.reportedUp(rec, hostId, item.vmId);
      case ReportedVmStatus.DOWN:
        return this.reportedDown(rec, hostId, item);
    }
  }

  private applyToEntry(rec: Recording, hostId: string, item: VmReportInput, entry: Migration): void {
    const { status } = item;
    let role: 'source' | 'destination';
    let next: Migration = entry;
    if (entry.source.hostId === hostId) role = 'source';
    else if (entry.destination.hostId === hostId) role = 'destination';
    else if (entry.source.hostId === null && (status === ReportedVmStatus.MIGRATING_FROM || status === ReportedVmStatus.UP)) {
      role = 'source';
      next = { ...entry, source: NOT_HEARD(hostId) };
    } else if (entry.destination.hostId === null && (status === ReportedVmStatus.MIGRATING_TO || status === ReportedVmStatus.UP)) {
      role = 'destination';
      next = { ...entry, destination: NOT_HEARD(hostId) };
    } else {
      // A host that is neither side saying it does not run the VM agrees with the table: nothing to say.
      if (status !== ReportedVmStatus.DOWN) this.ignored(rec, entry, hostId, `host ${hostId} is neither the source nor the destination of migration ${entry.id}`);
      return;
    }
    if (role === 'source' && status === ReportedVmStatus.MIGRATING_TO) {
      return this.ignored(rec, entry, hostId, `the source reported MIGRATING_TO`);
    }
    if (role === 'destination' && status === ReportedVmStatus.MIGRATING_FROM) {
      return this.ignored(rec, entry, hostId, `the destination reported MIGRATING_FROM`);
    }
    // An UP from the source before it confirmed was sent before the order reached it.
    if (role === 'source' && status === ReportedVmStatus.UP && !next.sourceConfirmed) return;
    // An entry that does not know the other side yet takes the peer this report names (DESIGN.md §3).
    const peer = item.peerHostId ?? null;
    if (peer !== null && role === 'source' && next.destination.hostId === null) next = { ...next, destination: NOT_HEARD(peer) };
    if (peer !== null && role === 'destination' && next.source.hostId === null) next = { ...next, source: NOT_HEARD(peer) };

    const side: Side = {
      hostId,
      report: status,
      heardAt: ++this.heardCounter,
      fenced: false,
      exitReason: status === ReportedVmStatus.DOWN ? (item.exitReason ?? null) : null,
    };
    if (role === 'source') {
      const confirms = status === ReportedVmStatus.MIGRATING_FROM || status === ReportedVmStatus.DOWN;
      const progress =
        status === ReportedVmStatus.MIGRATING_FROM && item.progress != null ? Math.max(next.progress ?? 0, item.progress) : next.progress;
      next = { ...next, source: side, sourceConfirmed: next.sourceConfirmed || confirms, progress };
    } else {
      next = { ...next, destination: side };
    }
    this.settle(rec, next, Cause.HOST_REPORT, hostId);
  }

  /** The seed's second way into the table: a host reports a migration Transit does not know of. */
  private discover(rec: Recording, hostId: string, item: VmReportInput): void {
    const vm = this.vmFor(rec, item.vmId);
    const heard: Side = { hostId, report: item.status, heardAt: ++this.heardCounter, fenced: false, exitReason: null };
    const peer = item.peerHostId ?? null;
    let entry: Migration;
    if (item.status === ReportedVmStatus.MIGRATING_FROM) {
      entry = this.newEntry(rec, vm, {
        source: heard,
        destination: NOT_HEARD(peer),
        destinationChoice: DestinationChoice.DISCOVERED,
        sourceConfirmed: true,
        progress: item.progress ?? null,
      });
    } else {
      // Where the VM ran before is where it comes from, unless the report names its peer.
      const formerHost = vm.hostId !== null && vm.hostId !== hostId ? vm.hostId : null;
      entry = this.newEntry(rec, vm, {
        source: NOT_HEARD(peer ?? formerHost),
        destination: heard,
        destinationChoice: DestinationChoice.DISCOVERED,
        // No order of ours is in flight: the hosts' word is all there is to wait for.
        sourceConfirmed: true,
      });
    }
    this.settle(rec, entry, Cause.HOST_REPORT, hostId);
    this.event(rec, EventType.MIGRATION_STARTED, messages.migrationDiscovered(entry, hostId), entry);
  }

  private reportedUp(rec: Recording, hostId: string, vmId: string): void {
    const vm = this.vmFor(rec, vmId);
    if (vm.hostId === hostId && vm.status === VmStatus.UP) return;
    if (vm.hostId === hostId && vm.status === VmStatus.UNKNOWN) return this.restoreUnknown(rec, vmId, hostId, Cause.HOST_REPORT);
    const before = vmStateOf(vm);
    const formerHost = vm.hostId !== null ? this.state.hosts.get(vm.hostId) : undefined;
    if (formerHost !== undefined && vm.status === VmStatus.UP && isResponsive(formerHost.status)) {
      // Split brain, or a migration Transit never saw: the latest report places the VM, loudly.
      this.event(rec, EventType.VM_RUNNING_ON_BOTH_HOSTS, messages.runningOnBoth(vmId, formerHost.id, hostId), null, vmId, hostId);
    }
    this.state.updateVm(vm, { status: VmStatus.UP, hostId, location: null, statusBeforeUnknown: null });
    this.vmTransition(rec, Cause.HOST_REPORT, vm, before, hostId, null);
  }

  private reportedDown(rec: Recording, hostId: string, item: VmReportInput): void {
    const existing = this.state.vms.get(item.vmId);
    if (existing === undefined) {
      const vm = this.vmFor(rec, item.vmId); // known from now on, DOWN nowhere
      this.vmTransition(rec, Cause.HOST_REPORT, vm, vmStateOf(vm), hostId, null, true);
      return;
    }
    if (existing.hostId !== hostId) return; // another host does not run it: nothing changes
    const before = vmStateOf(existing);
    this.state.updateVm(existing, { status: VmStatus.DOWN, hostId: null, location: null, statusBeforeUnknown: null });
    this.vmTransition(rec, Cause.HOST_REPORT, existing, before, hostId, null);
    const reason = item.exitReason ?? null;
    this.event(rec, EventType.VM_DOWN, messages.vmDown(existing.id, hostId, reason), null, existing.id, hostId, isNormalExit(reason) ? undefined : Severity.ERROR);
  }

  private restoreUnknown(rec: Recording, vmId: string, hostId: string, cause: Cause): void {
    const vm = this.state.vms.get(vmId) as VmRecord;
    if (vm.status !== VmStatus.UNKNOWN) return;
    const before = vmStateOf(vm);
    this.state.updateVm(vm, { status: vm.statusBeforeUnknown ?? VmStatus.UP, statusBeforeUnknown: null });
    this.vmTransition(rec, cause, vm, before, hostId, null);
    this.event(rec, EventType.VM_STATUS_RESTORED, messages.vmRestored(vmId, hostId), null, vmId, hostId);
  }

  private markUnresponsive(rec: Recording, hostId: string, why: string): void {
    this.setHostStatus(rec, hostId, HostStatus.NON_RESPONSIVE, Cause.HOST_UNRESPONSIVE);
    this.hostEvent(rec, EventType.HOST_NOT_RESPONDING, messages.hostNotResponding(hostId, why), hostId);
    for (const vmId of [...this.state.vmIdsOnHost(hostId)]) {
      const vm = this.state.vms.get(vmId) as VmRecord;
      if (vm.migrationId !== null || vm.status === VmStatus.UNKNOWN) continue;
      const before = vmStateOf(vm);
      this.state.updateVm(vm, { status: VmStatus.UNKNOWN, statusBeforeUnknown: vm.status });
      this.vmTransition(rec, Cause.HOST_UNRESPONSIVE, vm, before, hostId, null);
      this.event(rec, EventType.VM_SET_UNKNOWN, messages.vmUnknown(vmId, hostId), null, vmId, hostId);
    }
    for (const vmId of this.state.entryVmIdsOfHost(hostId)) this.reevaluate(rec, vmId, Cause.HOST_UNRESPONSIVE, hostId);
  }

  private reevaluate(rec: Recording, vmId: string, cause: Cause, hostId: string): void {
    const entry = this.state.entries.get(vmId);
    if (entry !== undefined) this.settle(rec, entry, cause, hostId);
  }

  /** Evaluates an entry's next snapshot and either keeps it in flight or ends it as the table decides. */
  private settle(rec: Recording, candidate: Migration, cause: Cause, hostId: string | null): void {
    const verdict = evaluate(this.viewOf(candidate, rec.now));
    if (verdict.outcome === MigrationState.IN_PROGRESS) return this.keepInFlight(rec, candidate, verdict, cause, hostId);
    const outcome = verdict.outcome === MigrationState.FAILED && candidate.cancelRequested ? MigrationState.CANCELLED : verdict.outcome;
    if (outcome === MigrationState.FAILED && candidate.destinationChoice === DestinationChoice.ENGINE) {
      if (this.rerun(rec, candidate, cause, hostId)) return;
    }
    this.finish(rec, candidate, outcome, cause, hostId, reasonOf(outcome, candidate));
  }

  private keepInFlight(rec: Recording, candidate: Migration, verdict: Evaluation, cause: Cause, hostId: string | null): void {
    const next: Migration = {
      ...candidate,
      vmStatus: verdict.vmStatus,
      location: verdict.location,
      stalled: verdict.stalled,
      stalledReason: verdict.stalledReason,
      runningOnBoth: verdict.runningOnBoth,
    };
    const previous = this.state.migrations.get(next.id);
    if (next.stalled && (previous === undefined || !previous.stalled || previous.stalledReason !== next.stalledReason)) {
      this.event(rec, EventType.MIGRATION_STALLED, messages.stalled(next), next);
    }
    if (next.runningOnBoth && previous?.runningOnBoth !== true) {
      this.event(rec, EventType.VM_RUNNING_ON_BOTH_HOSTS, messages.runningOnBoth(next.vmId, next.source.hostId ?? '?', next.destination.hostId ?? '?'), next);
    }
    if (previous !== undefined && sameEntry(previous, next)) {
      // A side repeated itself: keep when it was heard (row 1 compares it), but nothing visible changed.
      this.state.putEntry(next);
      return;
    }
    this.putEntryAndVm(rec, cause, next, hostId);
  }

  /** Starts the next attempt on another host (§4); false when there is none to try. */
  private rerun(rec: Recording, failed: Migration, cause: Cause, hostId: string | null): boolean {
    const sourceId = failed.source.hostId as string;
    const cluster = this.state.hosts.get(sourceId)?.cluster ?? DEFAULT_CLUSTER;
    const tried = new Set(failed.attempts.map((a) => a.destinationHostId).filter((h): h is string => h !== null));
    const nextHost = failed.attempts.length < this.options.maxAttempts ? this.chooseFor(sourceId, cluster, tried) : null;
    if (nextHost === null) {
      if (failed.attempts.length < this.options.maxAttempts) this.event(rec, EventType.MIGRATION_NO_HOST_FOR_RERUN, messages.noHostForRerun(failed), failed);
      return false;
    }
    const reason = reasonOf(MigrationState.FAILED, failed);
    this.event(rec, EventType.MIGRATION_FAILED, messages.migrationFailed(failed, reason), failed);
    this.event(rec, EventType.MIGRATION_TRYING_RERUN, messages.tryingRerun(failed, nextHost), failed);
    const attempts = failed.attempts.map((a, i) =>
      i === failed.attempts.length - 1 ? { ...a, state: MigrationState.FAILED, endedAt: rec.now, reason } : a,
    );
    const attempt = failed.attempt + 1;
    const next: Migration = {
      ...failed,
      source: NOT_HEARD(sourceId),
      destination: NOT_HEARD(nextHost),
      sourceConfirmed: false,
      attempt,
      attempts: [...attempts, { attempt, destinationHostId: nextHost, state: MigrationState.IN_PROGRESS, startedAt: rec.now, endedAt: null, reason: null }],
      progress: null,
      attemptStartedAt: rec.now,
      vmStatus: VmStatus.MIGRATING_FROM,
      location: VmLocation.SOURCE,
      stalled: false,
      stalledReason: null,
      runningOnBoth: false,
    };
    this.command(rec, HostCommandKind.MIGRATE, next);
    // The transition of the failed report comes first, then the rerun.
    this.putEntryAndVm(rec, cause, { ...failed, attempts, vmStatus: VmStatus.MIGRATING_FROM, location: VmLocation.SOURCE }, hostId);
    this.putEntryAndVm(rec, Cause.RERUN, next, sourceId);
    return true;
  }

  /** Ends a migration: out of the table, into history; the VM lands where the outcome says. */
  private finish(rec: Recording, entry: Migration, outcome: MigrationState, cause: Cause, hostId: string | null, reason: string): void {
    const vm = this.state.vms.get(entry.vmId) as VmRecord;
    const before = vmStateOf(vm);
    const landed: VmState =
      outcome === MigrationState.SUCCEEDED
        ? { status: VmStatus.UP, hostId: entry.destination.hostId, location: null }
        : outcome === MigrationState.VM_DOWN
          ? { status: VmStatus.DOWN, hostId: null, location: null }
          : { status: VmStatus.UP, hostId: entry.source.hostId, location: null };
    const done: Migration = {
      ...entry,
      state: outcome,
      vmStatus: landed.status,
      location: outcome === MigrationState.SUCCEEDED ? VmLocation.DESTINATION : outcome === MigrationState.VM_DOWN ? null : VmLocation.SOURCE,
      stalled: false,
      stalledReason: null,
      runningOnBoth: false,
      endedAt: rec.now,
      reason,
      attempts: entry.attempts.map((a, i) => (i === entry.attempts.length - 1 ? { ...a, state: outcome, endedAt: rec.now, reason } : a)),
    };
    this.state.archiveEntry(done);
    this.state.updateVm(vm, { ...landed, migrationId: null, statusBeforeUnknown: null });
    this.vmTransition(rec, cause, vm, before, hostId, done);
    switch (outcome) {
      case MigrationState.SUCCEEDED:
        this.event(rec, EventType.MIGRATION_SUCCEEDED, messages.migrationSucceeded(done), done);
        break;
      case MigrationState.FAILED:
        this.event(rec, EventType.MIGRATION_FAILED, messages.migrationFailed(done, reason), done);
        break;
      case MigrationState.CANCELLED:
        this.event(rec, EventType.MIGRATION_CANCELLED, messages.migrationCancelled(done), done);
        break;
      case MigrationState.VM_DOWN:
        this.event(rec, EventType.VM_DOWN, messages.migrationVmDown(done), done, done.vmId, hostId, Severity.ERROR);
        break;
    }
  }

  // =============================================================================================
  // Plumbing
  // =============================================================================================

  private run<T>(body: (rec: Recording) => Outcome<T>): Outcome<T> {
    const rec: Recording = { transitions: [], events: [], commands: [], now: this.options.clock(), newVms: new Set() };
    const result = body(rec);
    for (const t of rec.transitions) this.transitions.append(t);
    for (const e of rec.events) this.events.append(e);
    if (rec.transitions.length + rec.events.length + rec.commands.length > 0) {
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

  private viewOf(entry: Migration, now: Millis): EntryView {
    const statusOf = (id: string | null) => (id === null ? null : (this.state.hosts.get(id)?.status ?? null));
    return {
      source: entry.source,
      destination: entry.destination,
      sourceHostStatus: statusOf(entry.source.hostId),
      destinationHostStatus: statusOf(entry.destination.hostId),
      sourceConfirmed: entry.sourceConfirmed,
      confirmationOverdue:
        entry.destinationChoice !== DestinationChoice.DISCOVERED && now - entry.attemptStartedAt >= this.options.migrationStartTimeoutMs,
    };
  }

  private chooseFor(sourceId: string, cluster: string, excluded: ReadonlySet<string>): string | null {
    const candidates = [...this.state.hostIdsInCluster(cluster)].map((id) => {
      const host = this.state.hosts.get(id) as HostRecord;
      return { id, cluster: host.cluster, status: host.status, load: this.state.loadOf(id) };
    });
    return chooseDestination(candidates, { sourceHostId: sourceId, cluster, excluded });
  }

  private newEntry(
    rec: Recording,
    vm: VmRecord,
    init: Pick<Migration, 'source' | 'destination' | 'destinationChoice' | 'sourceConfirmed'> & { progress?: number | null },
  ): Migration {
    const ordinal = this.state.nextMigrationOrdinal();
    return {
      id: `${this.epoch}-m${ordinal}`,
      ordinal,
      vmId: vm.id,
      source: init.source,
      destination: init.destination,
      destinationChoice: init.destinationChoice,
      vmStatus: VmStatus.MIGRATING_FROM,
      location: VmLocation.SOURCE,
      state: MigrationState.IN_PROGRESS,
      stalled: false,
      stalledReason: null,
      cancelRequested: false,
      sourceConfirmed: init.sourceConfirmed,
      attempt: 1,
      attempts: [
        { attempt: 1, destinationHostId: init.destination.hostId, state: MigrationState.IN_PROGRESS, startedAt: rec.now, endedAt: null, reason: null },
      ],
      progress: init.progress ?? null,
      startedAt: rec.now,
      attemptStartedAt: rec.now,
      endedAt: null,
      reason: null,
      runningOnBoth: false,
    };
  }

  /** Stores an in-flight snapshot and moves its VM to MIGRATING_FROM at the source; one transition. */
  private putEntryAndVm(rec: Recording, cause: Cause, entry: Migration, hostId: string | null): void {
    // A newly adopted destination also becomes the current attempt's destination.
    const current = entry.attempts[entry.attempts.length - 1];
    const next =
      current !== undefined && current.destinationHostId !== entry.destination.hostId
        ? { ...entry, attempts: [...entry.attempts.slice(0, -1), { ...current, destinationHostId: entry.destination.hostId }] }
        : entry;
    const vm = this.state.vms.get(next.vmId) as VmRecord;
    const before = vmStateOf(vm);
    this.state.putEntry(next);
    this.state.updateVm(vm, {
      status: VmStatus.MIGRATING_FROM,
      hostId: next.source.hostId,
      location: VmLocation.SOURCE,
      migrationId: next.id,
      statusBeforeUnknown: null,
    });
    this.vmTransition(rec, cause, vm, before, hostId, next);
  }

  private addHost(rec: Recording, id: string, cluster: string, cause: Cause): HostRecord {
    const host: HostRecord = { id, cluster, status: HostStatus.UP, lastReportAt: null, lastSeenAt: rec.now, bootId: null, lastSequence: null };
    this.state.putHost(host);
    this.hostTransition(rec, cause, host, null);
    return host;
  }

  private setHostStatus(rec: Recording, hostId: string, status: HostStatus, cause: Cause): void {
    const host = this.state.hosts.get(hostId) as HostRecord;
    if (host.status === status) return;
    const from = host.status;
    // Back to UP: the timeout counts from now, not from the last report before it went silent.
    const next: HostRecord = { ...host, status, lastSeenAt: status === HostStatus.UP ? rec.now : host.lastSeenAt };
    this.state.putHost(next);
    this.hostTransition(rec, cause, next, from);
    if (cause === Cause.HOST_RECOVERED) this.hostEvent(rec, EventType.HOST_RECOVERED, messages.hostRecovered(hostId), hostId);
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

  private ignored(rec: Recording, entry: Migration, hostId: string, why: string): void {
    this.reportCounts.ignored++;
    this.event(rec, EventType.REPORT_IGNORED, messages.reportIgnored(entry.vmId, hostId, why), entry, entry.vmId, hostId);
  }

  /** The VM's record, created (DOWN, on no host) when Transit first hears of it. */
  private vmFor(rec: Recording, vmId: string): VmRecord {
    const known = this.state.vms.get(vmId);
    if (known !== undefined) return known;
    rec.newVms.add(vmId);
    return this.state.createVm(vmId);
  }

  private vmTransition(
    rec: Recording,
    cause: Cause,
    vm: VmRecord,
    state: VmState,
    hostId: string | null,
    migration: Migration | null,
    always = false,
  ): void {
    const to = vmStateOf(vm);
    const isNew = rec.newVms.delete(vm.id);
    const before = isNew ? null : state;
    if (!always && migration === null && before !== null && sameVmState(before, to)) return;
    const hostIds = new Set<string>();
    for (const h of [hostId, before?.hostId, to.hostId, migration?.source.hostId, migration?.destination.hostId]) if (h != null) hostIds.add(h);
    rec.transitions.push({
      seq: ++this.seq,
      at: rec.now,
      cause,
      vmId: vm.id,
      hostId,
      migration,
      from: before,
      to,
      hostStatusFrom: null,
      hostStatusTo: null,
      hostIds: [...hostIds],
    });
  }

  private hostTransition(rec: Recording, cause: Cause, host: HostRecord, from: HostStatus | null): void {
    rec.transitions.push({
      seq: ++this.seq,
      at: rec.now,
      cause,
      vmId: null,
      hostId: host.id,
      migration: null,
      from: null,
      to: null,
      hostStatusFrom: from,
      hostStatusTo: host.status,
      hostIds: [host.id],
    });
  }

  private event(
    rec: Recording,
    type: EventType,
    message: string,
    migration: Migration | null,
    vmId: string | null = migration?.vmId ?? null,
    hostId: string | null = migration?.source.hostId ?? null,
    severity: Severity = EVENT_SEVERITY[type],
  ): void {
    const hostIds = new Set<string>();
    for (const h of [hostId, migration?.source.hostId, migration?.destination.hostId]) if (h != null) hostIds.add(h);
    rec.events.push({ seq: ++this.seq, at: rec.now, type, severity, message, vmId, hostId, migrationId: migration?.id ?? null, hostIds: [...hostIds] });
  }

  private hostEvent(rec: Recording, type: EventType, message: string, hostId: string): void {
    this.event(rec, type, message, null, null, hostId);
  }

  private command(rec: Recording, kind: HostCommandKind, entry: Migration): void {
    if (entry.source.hostId === null) return;
    rec.commands.push(commandOf(kind, entry, rec.now));
  }
}

function commandOf(kind: HostCommandKind, entry: Migration, issuedAt: Millis): HostCommand {
  return {
    kind,
    hostId: entry.source.hostId as string,
    migrationId: entry.id,
    vmId: entry.vmId,
    destinationHostId: entry.destination.hostId,
    attempt: entry.attempt,
    issuedAt,
  };
}

function reasonOf(outcome: MigrationState, entry: Migration): string {
  switch (outcome) {
    case MigrationState.SUCCEEDED:
      return 'the source let the VM go and the destination runs it';
    case MigrationState.VM_DOWN:
      return 'both hosts report the VM down';
    case MigrationState.CANCELLED:
      return 'cancelled; the VM still runs on the source';
    default:
      return `the VM still runs on the source and the destination reports it down${entry.destination.exitReason ? ` (${entry.destination.exitReason})` : ''}`;
  }
}

const sameSide = (a: Side, b: Side): boolean =>
  a.hostId === b.hostId && a.report === b.report && a.fenced === b.fenced && a.exitReason === b.exitReason;

/** Equal in everything a reader sees (a side's `heardAt` is bookkeeping). */
function sameEntry(a: Migration, b: Migration): boolean {
  return (
    sameSide(a.source, b.source) &&
    sameSide(a.destination, b.destination) &&
    a.sourceConfirmed === b.sourceConfirmed &&
    a.cancelRequested === b.cancelRequested &&
    a.progress === b.progress &&
    a.stalled === b.stalled &&
    a.stalledReason === b.stalledReason &&
    a.runningOnBoth === b.runningOnBoth &&
    a.vmStatus === b.vmStatus &&
    a.location === b.location &&
    a.attempt === b.attempt
  );
}

function matchesEvent(e: EngineEvent, filter: { vmId?: string | null; hostId?: string | null; type?: EventType | null }): boolean {
  return (
    (filter.vmId == null || e.vmId === filter.vmId) &&
    (filter.hostId == null || e.hostIds.includes(filter.hostId)) &&
    (filter.type == null || e.type === filter.type)
  );
}
