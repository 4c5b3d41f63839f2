/**
 * The read side of the table: queries, pages, statistics, the kept history and the orders a host
 * agent must hold. It reads the state through read-only views and never writes; the command side
 * (`commands.ts`) is the only writer.
 */
import { planEvacuation } from '../evacuation/evacuation-plan.js';
import { evacuationOf } from '../evacuation/evacuation-rules.js';
import type { EvacuationView } from '../evacuation/evacuation-store.js';
import { matchesEvent, type EventFilter } from '../event-filter.js';
import type { EngineEvent, Evacuation, EvacuationPlan, Host, HostCommand, Migration, Millis, Transition, Vm } from '../model.js';
import { DestinationChoice, HostCommandKind, type EvacuationState, type HostStatus, type MigrationState, type VmStatus } from '../vocabulary.js';
import type { BoundedLog, ReadAfter } from './bounded-log.js';
import { formatCursor, parseCursor } from './cursor.js';
import { commandOf } from './recording.js';
import type { RecentOrders } from './recent-orders.js';
import type { ReportCounts } from './table-context.js';
import type { HostRecord, Page, TableView } from './table-state.js';

/** VM reports since the engine started, by what became of them (monitoring). */
export interface ReportTotals {
  /** Reports of accepted batches that the table applied. */
  readonly applied: number;
  /** Reports of accepted batches not applied to their entry (a `REPORT_IGNORED` event each). */
  readonly ignored: number;
  /** Reports of batches refused whole as out of order (`STALE_REPORT`). */
  readonly outOfOrderBatch: number;
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
  /** Kept evacuations (running, and ended ones up to the history limit) by state. */
  readonly evacuationsByState: ReadonlyMap<EvacuationState, number>;
  readonly reports: ReportTotals;
  /** Migrations waiting in the queue. */
  readonly pending: number;
  /** Attempts in flight per host with any: leaving it and heading to it. */
  readonly inFlightByHost: ReadonlyMap<string, { readonly outgoing: number; readonly incoming: number }>;
  /** Attempts in flight per cluster (every cluster with a host). */
  readonly inFlightByCluster: ReadonlyMap<string, number>;
}

/** Why a cursor cannot be resumed from. */
export type CursorProblem = 'MALFORMED' | 'OTHER_EPOCH' | 'FUTURE';

/** What the read side reads: the state's views, the kept history and the sequence so far. */
export interface ReadSources {
  readonly epoch: string;
  readonly startedAt: Millis;
  readonly state: TableView;
  readonly evacuations: EvacuationView;
  readonly transitions: BoundedLog<Transition>;
  readonly events: BoundedLog<EngineEvent>;
  readonly reportCounts: Readonly<ReportCounts>;
  /** Orders of ended attempts still redelivered (read only here). */
  readonly recentOrders: Pick<RecentOrders, 'forHost'>;
  /** The sequence number of the latest transition or event. */
  latestSeq(): number;
}

export class TableReader {
  constructor(private readonly from: ReadSources) {}

  get epoch(): string {
    return this.from.epoch;
  }

  get startedAt(): Millis {
    return this.from.startedAt;
  }

  get cursor(): string {
    return formatCursor(this.from.epoch, this.from.latestSeq());
  }

  get latestSeq(): number {
    return this.from.latestSeq();
  }

  host(id: string): Host | undefined {
    return this.from.state.hosts.get(id);
  }

  /** Hosts, by id, of one cluster and/or status. */
  hosts(filter: { cluster?: string | null; status?: HostStatus | null } = {}): Host[] {
    const { state } = this.from;
    const ids = filter.cluster == null ? state.hosts.keys() : state.hostIdsInCluster(filter.cluster);
    const hosts: Host[] = [];
    for (const id of ids) {
      const host = state.hosts.get(id) as HostRecord;
      if (filter.status == null || host.status === filter.status) hosts.push(host);
    }
    return hosts.sort(byId);
  }

  vm(id: string): Vm | undefined {
    return this.from.state.vms.get(id);
  }

  vmCount(): number {
    return this.from.state.vms.size;
  }

  hostCount(): number {
    return this.from.state.hosts.size;
  }

  /** The VMs of the host that runs the most (what `Host.vms` may hold), in time linear in the hosts. */
  mostVmsOnOneHost(): number {
    return this.from.state.mostVmsOnOneHost();
  }

  vms(filter: { status?: VmStatus | null; hostId?: string | null }, afterOrdinal = 0, first = 50): Page<Vm> {
    return this.from.state.listVms(filter, afterOrdinal, first);
  }

  /** The VMs a host runs, in the order Transit first heard of them (the order of `vms` pages). */
  vmsOnHost(hostId: string): Vm[] {
    const { state } = this.from;
    return [...state.vmIdsOnHost(hostId)].map((id) => state.vms.get(id) as Vm).sort((a, b) => a.ordinal - b.ordinal);
  }

  vmIdsOnHost(hostId: string): readonly string[] {
    return [...this.from.state.vmIdsOnHost(hostId)];
  }

  migration(id: string): Migration | undefined {
    return this.from.state.migrations.get(id);
  }

  /** The VM's entry in the table, while it migrates. */
  entryOf(vmId: string): Migration | undefined {
    return this.from.state.entries.get(vmId);
  }

  /** The VM's current migration: pending in the queue, or in flight in the table (docs/contract.md §8). */
  currentMigrationOf(vmId: string): Migration | undefined {
    return this.from.state.currentMigrationOf(vmId);
  }

  /** Pending migrations, in no particular order. */
  pendingMigrations(): IterableIterator<Migration> {
    return this.from.state.pending.values();
  }

  entries(): IterableIterator<Migration> {
    return this.from.state.entries.values();
  }

  migrations(filter: { state?: MigrationState | null; vmId?: string | null; hostId?: string | null }, afterOrdinal = 0, first = 50): Page<Migration> {
    return this.from.state.listMigrations(filter, afterOrdinal, first);
  }

  stats(): TableStats {
    const { state, reportCounts } = this.from;
    const hostsByStatus = new Map<HostStatus, number>();
    for (const host of state.hosts.values()) hostsByStatus.set(host.status, (hostsByStatus.get(host.status) ?? 0) + 1);
    const { inAcceptedBatches, ignored, outOfOrder, invalid } = reportCounts;
    return {
      vms: state.vms.size,
      vmsByStatus: state.vmCountsByStatus(),
      entries: state.entries.size,
      stalledEntries: state.stalledEntries,
      migrationsByState: state.migrationCountsByState(),
      hostsByStatus,
      evacuationsByState: this.from.evacuations.countsByState(),
      reports: { applied: inAcceptedBatches - ignored, ignored, outOfOrderBatch: outOfOrder, invalidBatch: invalid },
      pending: state.pending.size,
      inFlightByHost: new Map([...state.hostIdsWithAttemptsInFlight()].map((id) => [id, { outgoing: state.outgoingOf(id), incoming: state.incomingOf(id) }])),
      inFlightByCluster: new Map([...new Set([...state.hosts.values()].map((h) => h.cluster))].map((c) => [c, state.inFlightInCluster(c)])),
    };
  }

  /** The evacuation with this id, running or kept in the history (§9). */
  evacuation(id: string): Evacuation | undefined {
    const record = this.from.evacuations.byId(id);
    return record === undefined ? undefined : evacuationOf(this.from.state, record);
  }

  /** The host's running evacuation, if any. */
  runningEvacuationOf(hostId: string): Evacuation | undefined {
    const record = this.from.evacuations.runningOn(hostId);
    return record === undefined ? undefined : evacuationOf(this.from.state, record);
  }

  /** Evacuations, filtered, newest first, after the one at `afterOrdinal` (0: from the newest). */
  evacuations(filter: { hostId?: string | null; state?: EvacuationState | null }, afterOrdinal = 0, first = 50): Page<Evacuation> {
    const page = this.from.evacuations.newestFirst(filter, afterOrdinal === 0 ? null : afterOrdinal, first);
    return { items: page.items.map((record) => evacuationOf(this.from.state, record)), hasNextPage: page.hasNextPage };
  }

  /** The dry run of evacuating the host now (§9); null when the host is not known. It changes nothing. */
  evacuationPlan(hostId: string): EvacuationPlan | null {
    return planEvacuation(this.from.state, hostId);
  }

  /** A page of the kept event log after `afterSeq`, filtered, oldest first (from the oldest kept at 0). */
  eventLog(filter: EventFilter, afterSeq = 0, first = 50): Page<EngineEvent> {
    const { items, hasMore } = this.from.events.scan(afterSeq, first, (e) => matchesEvent(e, filter));
    return { items, hasNextPage: hasMore };
  }

  /**
   * As `eventLog`, for a reader resuming at a cursor (`afterSeq` null: from the start): EVICTED when
   * events after its position were dropped from the history, so it re-reads, never skips.
   */
  eventLogAfter(filter: EventFilter, afterSeq: number | null, first = 50): { ok: true; page: Page<EngineEvent> } | { ok: false; reason: 'EVICTED' } {
    if (afterSeq !== null && !this.from.events.keepsAfter(afterSeq)) return { ok: false, reason: 'EVICTED' };
    return { ok: true, page: this.eventLog(filter, afterSeq ?? 0, first) };
  }

  /** Up to `limit` kept transitions after `afterSeq`, or EVICTED when some were dropped from the history. */
  transitionsAfter(afterSeq: number, limit?: number): ReadAfter<Transition> {
    return this.from.transitions.readAfter(afterSeq, limit);
  }

  /** Up to `limit` kept events after `afterSeq`, or EVICTED when some were dropped from the history. */
  eventsAfter(afterSeq: number, limit?: number): ReadAfter<EngineEvent> {
    return this.from.events.readAfter(afterSeq, limit);
  }

  /** Whether a reader of the event log at `afterSeq` has missed nothing that was dropped. */
  eventsKeptAfter(afterSeq: number): boolean {
    return this.from.events.keepsAfter(afterSeq);
  }

  /**
   * Reads a cursor of this engine run (a stream cursor or a page cursor's position): its seq, or
   * why it cannot be resumed from. A cursor ahead of the engine was never handed out by this run.
   */
  resolveCursor(cursor: string): { ok: true; seq: number } | { ok: false; reason: CursorProblem } {
    const position = parseCursor(cursor);
    if (position === null) return { ok: false, reason: 'MALFORMED' };
    if (position.epoch !== this.from.epoch) return { ok: false, reason: 'OTHER_EPOCH' };
    if (position.seq > this.from.latestSeq()) return { ok: false, reason: 'FUTURE' };
    return { ok: true, seq: position.seq };
  }

  /**
   * Reads the position inside a page cursor of `vms` or `migrations` pages (an ordinal of this
   * engine run): refused when malformed, from another run, or beyond any ordinal handed out.
   */
  resolvePageCursor(list: 'vms' | 'migrations' | 'evacuations', text: string): { ok: true; ordinal: number } | { ok: false; reason: CursorProblem } {
    const position = parseCursor(text);
    if (position === null) return { ok: false, reason: 'MALFORMED' };
    if (position.epoch !== this.from.epoch) return { ok: false, reason: 'OTHER_EPOCH' };
    const last = list === 'vms' ? this.from.state.lastVmOrdinal : list === 'migrations' ? this.from.state.lastMigrationOrdinal : this.from.evacuations.lastOrdinal;
    if (position.seq > last) return { ok: false, reason: 'FUTURE' };
    return { ok: true, ordinal: position.seq };
  }

  /**
   * The orders a host agent must hold now: for every migration still in progress from it, the
   * migrate order of the current attempt, and the cancel order when one was asked or a deadline
   * aborted the attempt. A pending migration has no order yet. An agent that
   * (re)connects gets these first, so it misses no order; orders are idempotent by
   * (migrationId, attempt, kind).
   */
  pendingCommands(hostId: string): HostCommand[] {
    const { state } = this.from;
    const commands: HostCommand[] = [];
    for (const vmId of state.entryVmIdsOfHost(hostId)) {
      const entry = state.entries.get(vmId) as Migration;
      if (entry.source.hostId !== hostId) continue;
      if (entry.destinationChoice !== DestinationChoice.DISCOVERED) commands.push(commandOf(HostCommandKind.MIGRATE, entry, entry.attemptStartedAt));
      if (entry.cancelRequested || entry.abortReason !== null) commands.push(commandOf(HostCommandKind.CANCEL, entry, entry.attemptStartedAt));
    }
    // Orders of attempts that ended while the agent may have been away (issue 12, item 8).
    commands.push(...this.from.recentOrders.forHost(hostId));
    return commands;
  }

  /** Index and record disagreements (empty when consistent): for tests and diagnostics. */
  checkConsistency(): string[] {
    return [...this.from.state.checkIndexes(), ...this.from.evacuations.checkIndexes()];
  }
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
