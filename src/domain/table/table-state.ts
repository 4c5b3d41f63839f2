/**
 * The storage of the migration table: hosts, VMs, entries in flight and recent decided migrations,
 * with the indexes that serve the queries. Every write goes through a method here so the indexes
 * never drift from the records (a property test checks `checkIndexes` after random histories).
 * Records are updated in place and entries are replaced whole (each `Migration` object is an
 * immutable snapshot), so no event ever copies the table.
 */
import type { Host, Migration, Millis, Vm } from '../model.js';
import { OrdinalSet } from './ordinal-set.js';
import { QuietBatches } from './quiet-batches.js';
import { HostStatus, MigrationState, VmStatus, type VmLocation } from '../vocabulary.js';

/** A VM as stored: the readable fields plus what the table needs to restore it. */
export interface VmRecord {
  id: string;
  ordinal: number;
  status: VmStatus;
  hostId: string | null;
  location: VmLocation | null;
  migrationId: string | null;
  /** The status it had before its host stopped responding, to restore when the host answers. */
  statusBeforeUnknown: VmStatus | null;
  memoryMiB: number | null;
}

export type HostRecord = { -readonly [K in keyof Host]: Host[K] };

export interface Page<T> {
  readonly items: readonly T[];
  readonly hasNextPage: boolean;
}

/** What an index keeps per key: a `Set` of ids, or an `OrdinalSet` of ordinals. */
interface Members<V> {
  add(value: V): unknown;
  delete(value: V): unknown;
  readonly size: number;
}

function addTo<K, V>(index: Map<K, Members<V>>, key: K, value: V, empty: () => Members<V> = () => new Set<V>()): void {
  let members = index.get(key);
  if (members === undefined) index.set(key, (members = empty()));
  members.add(value);
}

/** Removes the value; a key left with no members leaves the index. */
function removeFrom<K, V>(index: Map<K, Members<V>>, key: K, value: V): void {
  const members = index.get(key);
  if (members === undefined) return;
  members.delete(value);
  if (members.size === 0) index.delete(key);
}

/** The `first` items after `afterOrdinal`, in ordinal order, of a few unordered candidates. */
function pageByOrdinal<T extends { ordinal: number }>(candidates: Iterable<T>, afterOrdinal: number, first: number): Page<T> {
  const picked: T[] = [];
  for (const item of candidates) if (item.ordinal > afterOrdinal) picked.push(item);
  picked.sort((a, b) => a.ordinal - b.ordinal);
  return { items: picked.slice(0, first), hasNextPage: picked.length > first };
}

/**
 * The first `first` items of an ordered index read from its cursor position, skipping those
 * `keep` refuses: an index-served page costs O(log n) to start and O(1) per item, not a scan.
 */
function pageFrom<T>(ordinals: Iterable<number>, lookup: (ordinal: number) => T | undefined, first: number, keep: ((ordinal: number) => boolean) | null): Page<T> {
  const items: T[] = [];
  for (const ordinal of ordinals) {
    if (keep !== null && !keep(ordinal)) continue;
    const item = lookup(ordinal);
    if (item === undefined) continue;
    if (items.length === first) return { items, hasNextPage: true };
    items.push(item);
  }
  return { items, hasNextPage: false };
}

const addOrdinal = <K>(index: Map<K, OrdinalSet>, key: K, ordinal: number): void =>
  addTo(index as Map<K, Members<number>>, key, ordinal, () => new OrdinalSet());

const NO_ORDINALS = new OrdinalSet();

function* mapped<K, V>(keys: Iterable<K>, lookup: ReadonlyMap<K, V>): Iterable<V> {
  for (const key of keys) {
    const value = lookup.get(key);
    if (value !== undefined) yield value;
  }
}

/**
 * The state as everything but its owner sees it: read-only maps and the index-backed reads. The
 * read side of the table and the rules read through this; only `TableState`'s own methods write.
 */
export interface TableView {
  readonly hosts: ReadonlyMap<string, HostRecord>;
  readonly vms: ReadonlyMap<string, VmRecord>;
  /** Entries in flight, by VM id. */
  readonly entries: ReadonlyMap<string, Migration>;
  /** Every migration kept: in flight and the recent decided ones, by migration id. */
  readonly migrations: ReadonlyMap<string, Migration>;
  /** In-flight entries whose current attempt the source has not confirmed (VM ids). */
  readonly unconfirmed: ReadonlySet<string>;
  /** Pending migrations (docs/contract.md §8), by VM id: accepted, waiting for a slot, not in the table. */
  readonly pending: ReadonlyMap<string, Migration>;
  readonly stalledEntries: number;
  /** The highest ordinal handed out to a VM, and to a migration (page cursors never go beyond). */
  readonly lastVmOrdinal: number;
  readonly lastMigrationOrdinal: number;
  hostIdsInCluster(cluster: string): Iterable<string>;
  loadOf(hostId: string): number;
  /** Attempts in flight leaving the host (entries whose source it is, discovered ones included). */
  outgoingOf(hostId: string): number;
  /** Attempts in flight heading to the host. */
  incomingOf(hostId: string): number;
  /** Attempts in flight in the cluster: counted at their source, or their destination when the source is not known. */
  inFlightInCluster(cluster: string): number;
  /** Hosts with at least one attempt in flight leaving or heading to them. */
  hostIdsWithAttemptsInFlight(): Iterable<string>;
  /** The VM's current migration: its entry in flight, or its pending migration. */
  currentMigrationOf(vmId: string): Migration | undefined;
  vmIdsOnHost(hostId: string): ReadonlySet<string>;
  /** VMs DOWN on no host and in no entry, each with when its retention started, oldest first. */
  readonly downNowhere: ReadonlyMap<string, Millis>;
  /** The VMs of the host that runs the most. */
  mostVmsOnOneHost(): number;
  listVms(filter: { status?: VmStatus | null; hostId?: string | null }, afterOrdinal: number, first: number): Page<Vm>;
  vmCountsByStatus(): Map<VmStatus, number>;
  entryVmIdsOfHost(hostId: string): readonly string[];
  listMigrations(filter: { state?: MigrationState | null; vmId?: string | null; hostId?: string | null }, afterOrdinal: number, first: number): Page<Migration>;
  migrationCountsByState(): Map<MigrationState, number>;
  checkIndexes(): string[];
}

export class TableState implements TableView {
  private readonly hostMap = new Map<string, HostRecord>();
  private readonly vmMap = new Map<string, VmRecord>();
  private readonly entryMap = new Map<string, Migration>();
  private readonly migrationMap = new Map<string, Migration>();

  private readonly hostsByCluster = new Map<string, Set<string>>();
  private readonly vmsByHost = new Map<string, Set<string>>();
  /** VM ordinals by status, ascending: `vms(status)` pages are read from here, not scanned. */
  private readonly vmsByStatus = new Map<VmStatus, OrdinalSet>();
  /** Every VM at its ordinal, and the ordinals in use (a forgotten VM leaves both). */
  private readonly vmsByOrdinal = new Map<number, VmRecord>();
  private readonly vmOrdinals = new OrdinalSet();
  /**
   * VMs DOWN on no host and in no entry, with when their retention started (they went down, or a
   * report last named them), in that order: the oldest is forgotten first (docs/contract.md §11).
   */
  private readonly downNowhereMap = new Map<string, Millis>();
  /** In-flight entries where the host is a side, by host id (values: VM ids). */
  private readonly entriesByHost = new Map<string, Set<string>>();
  /** In-flight entries whose current attempt the source has not confirmed (values: VM ids). */
  private readonly unconfirmedSet = new Set<string>();
  /** Pending migrations by VM id. */
  private readonly pendingMap = new Map<string, Migration>();
  /** Hosts whose last batch may be skipped when repeated; forgotten on every change it depends on. */
  readonly quietBatches: QuietBatches;
  /** Attempts in flight per host: leaving it, heading to it, and heading to it from an unknown source. */
  private readonly outgoingCount = new Map<string, number>();
  private readonly incomingCount = new Map<string, number>();
  private readonly sourcelessIncomingCount = new Map<string, number>();
  /**
   * A slot may have freed or the queue changed since the scheduler last ran (an attempt ended, a
   * host changed, a migration was queued or left the queue, a pending migration's VM changed):
   * the table runs the scheduler at the end of the command (docs/contract.md §8).
   */
  schedulerDue = false;
  /** Migration ordinals by host, VM and state, ascending: `migrations` pages are read from these. */
  private readonly migrationsByHost = new Map<string, OrdinalSet>();
  private readonly migrationsByVm = new Map<string, OrdinalSet>();
  private readonly migrationsByState = new Map<MigrationState, OrdinalSet>();
  private readonly allMigrations = new OrdinalSet();
  private readonly migrationsByOrdinal = new Map<number, Migration>();
  /** In-flight entries that are stalled. */
  private stalledCount = 0;
  /** Decided migrations, oldest first, for eviction. */
  private readonly decided: string[] = [];
  private decidedHead = 0;
  private vmOrdinal = 0;
  private migrationOrdinal = 0;

  /**
   * `clock`: when a VM's retention starts (docs/contract.md §11); the engine's clock.
   * `skipQuietRepeats`: see `TableOptions`.
   */
  constructor(
    private readonly migrationHistoryLimit: number,
    private readonly clock: () => Millis = () => 0,
    skipQuietRepeats = true,
  ) {
    this.quietBatches = new QuietBatches(skipQuietRepeats);
  }

  get hosts(): ReadonlyMap<string, HostRecord> {
    return this.hostMap;
  }

  get vms(): ReadonlyMap<string, VmRecord> {
    return this.vmMap;
  }

  get entries(): ReadonlyMap<string, Migration> {
    return this.entryMap;
  }

  get migrations(): ReadonlyMap<string, Migration> {
    return this.migrationMap;
  }

  get unconfirmed(): ReadonlySet<string> {
    return this.unconfirmedSet;
  }

  get pending(): ReadonlyMap<string, Migration> {
    return this.pendingMap;
  }

  get lastVmOrdinal(): number {
    return this.vmOrdinal;
  }

  get lastMigrationOrdinal(): number {
    return this.migrationOrdinal;
  }

  // ---- hosts --------------------------------------------------------------------------------

  putHost(host: HostRecord): void {
    const previous = this.hosts.get(host.id);
    if (previous === undefined || previous.status !== host.status || previous.cluster !== host.cluster) {
      this.schedulerDue = true;
      this.forgetQuietBatchesAround(host.id);
    }
    if (previous !== undefined && previous.cluster !== host.cluster) removeFrom(this.hostsByCluster, previous.cluster, host.id);
    this.hostMap.set(host.id, host);
    addTo(this.hostsByCluster, host.cluster, host.id);
  }

  /** Forgets a host (the rules check first that it runs no VM and is no side of an entry). */
  removeHost(hostId: string): void {
    const host = this.hostMap.get(hostId);
    if (host === undefined) return;
    this.hostMap.delete(hostId);
    removeFrom(this.hostsByCluster, host.cluster, hostId);
    this.forgetQuietBatchesAround(hostId);
  }

  /** The host's quiet batch, and those of the other sides of its migrations: whether it is trusted is part of their verdicts. */
  private forgetQuietBatchesAround(hostId: string): void {
    this.quietBatches.forget(hostId);
    for (const vmId of this.entriesByHost.get(hostId) ?? []) {
      const entry = this.entryMap.get(vmId);
      this.quietBatches.forget(entry?.source.hostId);
      this.quietBatches.forget(entry?.destination.hostId);
    }
  }

  hostIdsInCluster(cluster: string): Iterable<string> {
    return this.hostsByCluster.get(cluster) ?? [];
  }

  /** VMs on the host plus entries migrating to it: what placement weighs. */
  loadOf(hostId: string): number {
    let incoming = 0;
    for (const vmId of this.entriesByHost.get(hostId) ?? []) if (this.entries.get(vmId)?.destination.hostId === hostId) incoming++;
    return (this.vmsByHost.get(hostId)?.size ?? 0) + incoming;
  }

  outgoingOf(hostId: string): number {
    return this.outgoingCount.get(hostId) ?? 0;
  }

  incomingOf(hostId: string): number {
    return this.incomingCount.get(hostId) ?? 0;
  }

  inFlightInCluster(cluster: string): number {
    let count = 0;
    for (const hostId of this.hostIdsInCluster(cluster)) count += this.outgoingOf(hostId) + (this.sourcelessIncomingCount.get(hostId) ?? 0);
    return count;
  }

  hostIdsWithAttemptsInFlight(): Iterable<string> {
    return new Set([...this.outgoingCount.keys(), ...this.incomingCount.keys()]);
  }

  currentMigrationOf(vmId: string): Migration | undefined {
    return this.entryMap.get(vmId) ?? this.pendingMap.get(vmId);
  }

  /** Adds (+1) or removes (-1) an in-flight entry from the per-host attempt counts. */
  private countAttempt(entry: Migration, by: 1 | -1): void {
    const bump = (counts: Map<string, number>, hostId: string) => {
      const next = (counts.get(hostId) ?? 0) + by;
      if (next === 0) counts.delete(hostId);
      else counts.set(hostId, next);
    };
    const { source, destination } = entry;
    if (source.hostId !== null) bump(this.outgoingCount, source.hostId);
    if (destination.hostId !== null) bump(this.incomingCount, destination.hostId);
    if (source.hostId === null && destination.hostId !== null) bump(this.sourcelessIncomingCount, destination.hostId);
  }

  // ---- VMs ----------------------------------------------------------------------------------

  createVm(id: string): VmRecord {
    const vm: VmRecord = {
      id,
      ordinal: ++this.vmOrdinal,
      status: VmStatus.DOWN,
      hostId: null,
      location: null,
      migrationId: null,
      statusBeforeUnknown: null,
      memoryMiB: null,
    };
    this.vmMap.set(id, vm);
    this.vmsByOrdinal.set(vm.ordinal, vm);
    this.vmOrdinals.add(vm.ordinal);
    addOrdinal(this.vmsByStatus, vm.status, vm.ordinal);
    this.trackDownNowhere(vm, false);
    return vm;
  }

  updateVm(vm: VmRecord, next: Partial<Omit<VmRecord, 'id' | 'ordinal'>>): void {
    if (this.pendingMap.has(vm.id)) this.schedulerDue = true; // a pending migration's VM changed: it may have to end
    this.quietBatches.forget(vm.hostId);
    this.quietBatches.forget(next.hostId);
    if (next.status !== undefined && next.status !== vm.status) {
      removeFrom(this.vmsByStatus, vm.status, vm.ordinal);
      addOrdinal(this.vmsByStatus, next.status, vm.ordinal);
    }
    if (next.hostId !== undefined && next.hostId !== vm.hostId) {
      if (vm.hostId !== null) removeFrom(this.vmsByHost, vm.hostId, vm.id);
      if (next.hostId !== null) addTo(this.vmsByHost, next.hostId, vm.id);
    }
    Object.assign(vm, next);
    this.trackDownNowhere(vm, false);
  }

  /** A report named the VM: a VM DOWN on no host starts its retention again. */
  named(vmId: string): void {
    const vm = this.vmMap.get(vmId);
    if (vm !== undefined) this.trackDownNowhere(vm, true);
  }

  get downNowhere(): ReadonlyMap<string, Millis> {
    return this.downNowhereMap;
  }

  /**
   * Forgets VMs DOWN on no host, oldest first: each whose retention started at or before `before`,
   * and more while more than `keepAtMost` would remain; at most `budget` of them (the rest on the
   * next call). Returns how many it forgot.
   */
  forgetDownVms(before: Millis, keepAtMost: number, budget: number): number {
    let forgotten = 0;
    for (const [vmId, since] of this.downNowhereMap) {
      if (forgotten >= budget || (since > before && this.downNowhereMap.size <= keepAtMost)) break;
      this.forgetVm(vmId);
      forgotten++;
    }
    return forgotten;
  }

  private forgetVm(vmId: string): void {
    const vm = this.vmMap.get(vmId) as VmRecord;
    this.vmMap.delete(vmId);
    this.vmsByOrdinal.delete(vm.ordinal);
    this.vmOrdinals.delete(vm.ordinal);
    removeFrom(this.vmsByStatus, vm.status, vm.ordinal);
    this.downNowhereMap.delete(vmId);
  }

  /** Keeps `downNowhere` true to the VM's record; `named` moves it to the end (its retention starts again). */
  private trackDownNowhere(vm: VmRecord, named: boolean): void {
    const downNowhere = vm.status === VmStatus.DOWN && vm.hostId === null && vm.migrationId === null;
    if (!downNowhere) {
      this.downNowhereMap.delete(vm.id);
      return;
    }
    if (this.downNowhereMap.has(vm.id) && !named) return;
    this.downNowhereMap.delete(vm.id);
    this.downNowhereMap.set(vm.id, this.clock());
  }

  mostVmsOnOneHost(): number {
    let most = 0;
    for (const vms of this.vmsByHost.values()) most = Math.max(most, vms.size);
    return most;
  }

  vmIdsOnHost(hostId: string): ReadonlySet<string> {
    return this.vmsByHost.get(hostId) ?? new Set();
  }

  listVms(filter: { status?: VmStatus | null; hostId?: string | null }, afterOrdinal: number, first: number): Page<Vm> {
    const { status, hostId } = filter;
    const byHost = hostId == null ? null : (this.vmsByHost.get(hostId) ?? new Set<string>());
    const byStatus = status == null ? null : (this.vmsByStatus.get(status) ?? NO_ORDINALS);
    const lookup = (ordinal: number) => this.vmsByOrdinal.get(ordinal);
    if (byHost === null) {
      // Read from the cursor on: every VM by ordinal, or the status index.
      return pageFrom((byStatus ?? this.vmOrdinals).after(afterOrdinal), lookup, first, null);
    }
    if (byStatus !== null && byStatus.size < byHost.size) {
      return pageFrom(byStatus.after(afterOrdinal), lookup, first, (ordinal) => this.vmsByOrdinal.get(ordinal)?.hostId === hostId);
    }
    // A host runs few VMs: take them, keep those of the status, in ordinal order.
    const candidates = [...mapped(byHost, this.vms)].filter((vm) => status == null || vm.status === status);
    return pageByOrdinal(candidates, afterOrdinal, first);
  }

  /** VM counts by status (statuses with no VM are left out). */
  vmCountsByStatus(): Map<VmStatus, number> {
    return new Map([...this.vmsByStatus].map(([status, set]) => [status, set.size]));
  }

  // ---- migrations ---------------------------------------------------------------------------

  nextMigrationOrdinal(): number {
    return ++this.migrationOrdinal;
  }

  /** Puts an entry in flight (a new one, or a pending migration that starts), or replaces it with its next snapshot. */
  putEntry(next: Migration): void {
    const previous = this.migrations.get(next.id);
    const inFlight = this.entryMap.get(next.vmId);
    if (inFlight !== undefined && inFlight.id === next.id) this.countAttempt(inFlight, -1);
    this.countAttempt(next, 1);
    if (this.pendingMap.get(next.vmId)?.id === next.id) this.pendingMap.delete(next.vmId);
    this.stalledCount += (next.stalled ? 1 : 0) - (inFlight?.id === next.id && inFlight.stalled ? 1 : 0);
    this.entryMap.set(next.vmId, next);
    this.migrationMap.set(next.id, next);
    this.reindexMigration(previous, next);
    const before = inFlight?.id === next.id ? inFlight : undefined;
    for (const hostId of [inFlight?.source.hostId, inFlight?.destination.hostId, next.source.hostId, next.destination.hostId]) this.quietBatches.forget(hostId);
    for (const hostId of [before?.source.hostId, before?.destination.hostId]) {
      if (hostId != null && hostId !== next.source.hostId && hostId !== next.destination.hostId) removeFrom(this.entriesByHost, hostId, next.vmId);
    }
    for (const hostId of [next.source.hostId, next.destination.hostId]) if (hostId !== null) addTo(this.entriesByHost, hostId, next.vmId);
    if (next.sourceConfirmed) this.unconfirmedSet.delete(next.vmId);
    else this.unconfirmedSet.add(next.vmId);
  }

  /**
   * Queues a migration (a new one, or the next attempt of one in flight, which then leaves the
   * table), or replaces a pending one with its next snapshot.
   */
  putPending(next: Migration): void {
    const previous = this.migrations.get(next.id);
    this.takeOutOfFlight(next);
    this.pendingMap.set(next.vmId, next);
    this.migrationMap.set(next.id, next);
    this.reindexMigration(previous, next);
    if (previous === undefined || previous.state !== next.state) this.schedulerDue = true;
  }

  /** Takes a decided migration (in flight or pending) out of flight and the queue into the bounded history. */
  archiveEntry(done: Migration): void {
    const previous = this.migrations.get(done.id);
    this.takeOutOfFlight(done);
    if (this.pendingMap.get(done.vmId)?.id === done.id) this.pendingMap.delete(done.vmId);
    this.schedulerDue = true;
    this.migrationMap.set(done.id, done);
    this.reindexMigration(previous, done);
    this.decided.push(done.id);
    while (this.decided.length - this.decidedHead > this.migrationHistoryLimit) this.evict(this.decided[this.decidedHead++] as string);
    if (this.decidedHead > 1024 && this.decidedHead * 2 > this.decided.length) {
      this.decided.splice(0, this.decidedHead);
      this.decidedHead = 0;
    }
  }

  /** Removes the migration's in-flight entry, if it has one (the VM's other entry, if any, stays). */
  private takeOutOfFlight(m: Migration): void {
    const inFlight = this.entryMap.get(m.vmId);
    if (inFlight === undefined || inFlight.id !== m.id) return;
    if (inFlight.stalled) this.stalledCount--;
    this.countAttempt(inFlight, -1);
    this.entryMap.delete(m.vmId);
    this.unconfirmedSet.delete(m.vmId);
    for (const hostId of [inFlight.source.hostId, inFlight.destination.hostId]) {
      if (hostId !== null) removeFrom(this.entriesByHost, hostId, m.vmId);
      this.quietBatches.forget(hostId);
    }
  }

  entryVmIdsOfHost(hostId: string): readonly string[] {
    return [...(this.entriesByHost.get(hostId) ?? [])];
  }

  listMigrations(
    filter: { state?: MigrationState | null; vmId?: string | null; hostId?: string | null },
    afterOrdinal: number,
    first: number,
  ): Page<Migration> {
    const { state, vmId, hostId } = filter;
    const indexes = [
      state == null ? null : this.migrationsByState.get(state),
      vmId == null ? null : this.migrationsByVm.get(vmId),
      hostId == null ? null : this.migrationsByHost.get(hostId),
    ].filter((index) => index !== null);
    if (indexes.some((index) => index === undefined)) return { items: [], hasNextPage: false };
    const sets = indexes as OrdinalSet[];
    // Read the smallest index from the cursor on; the other filters are membership tests.
    const walk = sets.length === 0 ? this.allMigrations : sets.reduce((a, b) => (b.size < a.size ? b : a));
    const others = sets.filter((set) => set !== walk);
    const keep = others.length === 0 ? null : (ordinal: number) => others.every((set) => set.has(ordinal));
    return pageFrom(walk.after(afterOrdinal), (ordinal) => this.migrationsByOrdinal.get(ordinal), first, keep);
  }

  /** Kept migrations (in flight and decided) by state (states with none are left out). */
  migrationCountsByState(): Map<MigrationState, number> {
    return new Map([...this.migrationsByState].map(([state, set]) => [state, set.size]));
  }

  /** In-flight entries that are stalled. */
  get stalledEntries(): number {
    return this.stalledCount;
  }

  private reindexMigration(previous: Migration | undefined, next: Migration): void {
    const ordinal = next.ordinal;
    this.migrationsByOrdinal.set(ordinal, next);
    if (previous !== undefined && previous.state !== next.state) removeFrom(this.migrationsByState, previous.state, ordinal);
    addOrdinal(this.migrationsByState, next.state, ordinal);
    if (previous !== undefined) return this.indexHostsOf(next, previous);
    this.allMigrations.add(ordinal);
    addOrdinal(this.migrationsByVm, next.vmId, ordinal);
    this.indexHostsOf(next, undefined);
  }

  /** A migration's hosts only grow (each attempt's destination stays in its history). */
  private indexHostsOf(next: Migration, previous: Migration | undefined): void {
    const before = previous === undefined ? null : hostsOfMigration(previous);
    for (const hostId of hostsOfMigration(next)) if (before === null || !before.has(hostId)) addOrdinal(this.migrationsByHost, hostId, next.ordinal);
  }

  private evict(id: string): void {
    const gone = this.migrations.get(id);
    if (gone === undefined) return;
    this.migrationMap.delete(id);
    this.migrationsByOrdinal.delete(gone.ordinal);
    this.allMigrations.delete(gone.ordinal);
    removeFrom(this.migrationsByState, gone.state, gone.ordinal);
    removeFrom(this.migrationsByVm, gone.vmId, gone.ordinal);
    for (const hostId of hostsOfMigration(gone)) removeFrom(this.migrationsByHost, hostId, gone.ordinal);
  }

  // ---- consistency --------------------------------------------------------------------------

  /** Recomputes every index from the records and lists each disagreement (empty when all agree). */
  checkIndexes(): string[] {
    const problems: string[] = [];
    const expect = (what: string, actual: Map<unknown, Set<unknown>>, rebuilt: Map<unknown, Set<unknown>>) => {
      const keys = new Set([...actual.keys(), ...rebuilt.keys()]);
      for (const key of keys) {
        const a = [...(actual.get(key) ?? [])].sort().join(',');
        const b = [...(rebuilt.get(key) ?? [])].sort().join(',');
        if (a !== b) problems.push(`${what}[${String(key)}]: index has {${a}}, records say {${b}}`);
      }
    };
    const rebuild = <K, V>(pairs: Iterable<[K | null, V]>) => {
      const index = new Map<K, Set<V>>();
      for (const [key, value] of pairs) if (key !== null) addTo(index, key, value);
      return index;
    };
    const vms = [...this.vms.values()];
    const entries = [...this.entries.values()];
    const migrations = [...this.migrations.values()];
    // Ordered indexes hold ordinals: compare them as the ids they stand for.
    const idsOf = <K>(index: Map<K, OrdinalSet>, idOf: (ordinal: number) => string | undefined) =>
      new Map([...index].map(([key, set]) => [key, new Set([...set.values()].map((o) => idOf(o) ?? `?${o}`))]));
    const vmId = (o: number) => this.vmsByOrdinal.get(o)?.id;
    const migrationId = (o: number) => this.migrationsByOrdinal.get(o)?.id;
    expect('hostsByCluster', this.hostsByCluster, rebuild([...this.hosts.values()].map((h) => [h.cluster, h.id])));
    expect('vmsByHost', this.vmsByHost, rebuild(vms.map((vm) => [vm.hostId, vm.id])));
    expect('vmsByStatus', idsOf(this.vmsByStatus, vmId), rebuild(vms.map((vm) => [vm.status, vm.id])));
    expect(
      'entriesByHost',
      this.entriesByHost,
      rebuild(entries.flatMap((e) => [[e.source.hostId, e.vmId] as [string | null, string], [e.destination.hostId, e.vmId] as [string | null, string]])),
    );
    expect('migrationsByState', idsOf(this.migrationsByState, migrationId), rebuild(migrations.map((m) => [m.state, m.id])));
    expect('migrationsByVm', idsOf(this.migrationsByVm, migrationId), rebuild(migrations.map((m) => [m.vmId, m.id])));
    expect('migrationsByHost', idsOf(this.migrationsByHost, migrationId), rebuild(migrations.flatMap((m) => [...hostsOfMigration(m)].map((h) => [h, m.id] as [string, string]))));
    expect('allMigrations', idsOf(new Map([['all', this.allMigrations]]), migrationId), rebuild(migrations.map((m) => ['all', m.id])));
    if (this.migrationsByOrdinal.size !== this.migrations.size) problems.push(`migrationsByOrdinal holds ${this.migrationsByOrdinal.size}, migrations ${this.migrations.size}`);
    for (const vm of vms) if (this.vmsByOrdinal.get(vm.ordinal) !== vm) problems.push(`VM ${vm.id} is not at its ordinal ${vm.ordinal}`);
    if (this.vmsByOrdinal.size !== vms.length || this.vmOrdinals.size !== vms.length) {
      problems.push(`${vms.length} VMs, ${this.vmsByOrdinal.size} by ordinal, ${this.vmOrdinals.size} ordinals`);
    }
    const downNowhere = vms.filter((vm) => vm.status === VmStatus.DOWN && vm.hostId === null && vm.migrationId === null).map((vm) => vm.id).sort().join(',');
    if ([...this.downNowhereMap.keys()].sort().join(',') !== downNowhere) problems.push(`downNowhere: index has {${[...this.downNowhereMap.keys()]}}, records say {${downNowhere}}`);
    let since = Number.NEGATIVE_INFINITY;
    for (const at of this.downNowhereMap.values()) {
      if (at < since) problems.push('downNowhere is not in the order its retentions started');
      since = at;
    }
    const stalled = entries.filter((e) => e.stalled).length;
    if (stalled !== this.stalledCount) problems.push(`stalled count is ${this.stalledCount}, entries say ${stalled}`);
    const unconfirmed = entries.filter((e) => !e.sourceConfirmed).map((e) => e.vmId).sort().join(',');
    if ([...this.unconfirmed].sort().join(',') !== unconfirmed) problems.push(`unconfirmed: index has {${[...this.unconfirmed]}}, entries say {${unconfirmed}}`);
    for (const e of entries) {
      if (e.state !== MigrationState.IN_PROGRESS) problems.push(`entry ${e.id} in flight is ${e.state}`);
      if (this.vms.get(e.vmId)?.migrationId !== e.id) problems.push(`VM ${e.vmId} does not point at its entry ${e.id}`);
      if (this.migrations.get(e.id) !== e) problems.push(`entry ${e.id} differs from the kept migration`);
    }
    for (const p of this.pendingMap.values()) {
      if (p.state !== MigrationState.PENDING) problems.push(`pending migration ${p.id} is ${p.state}`);
      if (this.migrations.get(p.id) !== p) problems.push(`pending migration ${p.id} differs from the kept migration`);
      if (this.entries.get(p.vmId)?.id === p.id) problems.push(`pending migration ${p.id} is also in flight`);
      if (this.vms.get(p.vmId)?.migrationId === p.id) problems.push(`VM ${p.vmId} points at its pending migration ${p.id} as if in flight`);
    }
    for (const m of migrations) {
      const current = m.state === MigrationState.PENDING || m.state === MigrationState.IN_PROGRESS;
      if (current && this.entries.get(m.vmId) !== m && this.pendingMap.get(m.vmId) !== m) problems.push(`migration ${m.id} is ${m.state} but neither in flight nor pending`);
    }
    const counted = (pick: (e: Migration) => string | null) => {
      const counts = new Map<string, number>();
      for (const e of entries) {
        const hostId = pick(e);
        if (hostId !== null) counts.set(hostId, (counts.get(hostId) ?? 0) + 1);
      }
      return counts;
    };
    const sameCounts = (what: string, actual: Map<string, number>, rebuilt: Map<string, number>) => {
      for (const key of new Set([...actual.keys(), ...rebuilt.keys()])) {
        if (actual.get(key) !== rebuilt.get(key)) problems.push(`${what}[${key}]: counted ${actual.get(key) ?? 0}, entries say ${rebuilt.get(key) ?? 0}`);
      }
    };
    sameCounts('outgoing', this.outgoingCount, counted((e) => e.source.hostId));
    sameCounts('incoming', this.incomingCount, counted((e) => e.destination.hostId));
    sameCounts('sourcelessIncoming', this.sourcelessIncomingCount, counted((e) => (e.source.hostId === null ? e.destination.hostId : null)));
    for (const vm of vms) {
      if (vm.migrationId !== null && this.entries.get(vm.id)?.id !== vm.migrationId) problems.push(`VM ${vm.id} points at ${vm.migrationId}, not in flight`);
      if (vm.status === VmStatus.MIGRATING_FROM && vm.migrationId === null) problems.push(`VM ${vm.id} is MIGRATING_FROM outside the table`);
      if (vm.status === VmStatus.DOWN && vm.hostId !== null) problems.push(`VM ${vm.id} is DOWN on host ${vm.hostId}`);
    }
    for (const host of this.hosts.values()) {
      if (!Object.values(HostStatus).includes(host.status)) problems.push(`host ${host.id} has status ${host.status}`);
    }
    return problems;
  }
}

/** Every host a migration involves: its source and each attempt's destination. */
function hostsOfMigration(m: Migration): Set<string> {
  const hosts = new Set<string>();
  if (m.source.hostId !== null) hosts.add(m.source.hostId);
  if (m.destination.hostId !== null) hosts.add(m.destination.hostId);
  for (const a of m.attempts) if (a.destinationHostId !== null) hosts.add(a.destinationHostId);
  return hosts;
}
