/**
 * What a subscription item reaches, on a process of the cluster (docs/contract.md §13): the hosts,
 * VMs and migrations in flight as the change stream last showed them. Queries and mutations never
 * run against it (they are forwarded to the engine); a subscription item's `migration { source {
 * status } }` or `migration { vm { host { id } } }` does.
 *
 * It is kept from the stream's entries alone: every change to a VM or a migration is a transition
 * that carries the VM's new state and the entry's snapshot, and every entry carries the hosts it
 * names as they are after it. A host's `lastReportAt` is therefore as of the host's latest change,
 * not its latest quiet report. `Host.vms` needs every VM of the epoch: it is answered only when
 * this process read the epoch's stream from its first entry.
 */
import type { Host, Migration, Outcome, Vm } from '../domain/model.js';
import type { Page } from '../domain/table/table-state.js';
import { MigrationState, type HostStatus, type VmStatus } from '../domain/vocabulary.js';
import type { TableView } from '../schema/builder.js';
import { RequestErrorCode, requestError } from '../schema/errors.js';
import type { ChangeEntry } from './change-entry.js';

/** Where the view's epoch, start and cursor come from: the stream mirror. */
export interface ViewedRun {
  readonly epoch: string;
  readonly startedAt: number;
  readonly cursor: string;
  /** The mirror read this epoch from its first entry. */
  readonly complete: boolean;
  resolveCursor: TableView['resolveCursor'];
}

const onlyOnTheEngine = (what: string) =>
  requestError(RequestErrorCode.ENGINE_UNAVAILABLE, `${what} is answered by the engine; this process forwards queries and mutations to it`);

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class ReplicaView implements TableView {
  private readonly hostRecords = new Map<string, Host>();
  private readonly vmRecords = new Map<string, Vm>();
  private readonly vmsByHost = new Map<string, Set<string>>();
  /** Migrations in flight, by VM and by id. */
  private readonly entriesByVm = new Map<string, Migration>();
  private readonly entriesById = new Map<string, Migration>();
  private ordinals = 0;

  constructor(private readonly run: ViewedRun) {}

  get epoch(): string {
    return this.run.epoch;
  }

  get startedAt(): number {
    return this.run.startedAt;
  }

  get cursor(): string {
    return this.run.cursor;
  }

  /** Forgets everything: a new engine run begins. */
  reset(): void {
    this.hostRecords.clear();
    this.vmRecords.clear();
    this.vmsByHost.clear();
    this.entriesByVm.clear();
    this.entriesById.clear();
    this.ordinals = 0;
  }

  apply(entry: ChangeEntry): void {
    for (const host of entry.h ?? []) this.hostRecords.set(host.id, host);
    for (const t of entry.t ?? []) {
      if (t.vmId === null || t.to === null) continue;
      const m = t.migration;
      const inFlight = m !== null && m.state === MigrationState.IN_PROGRESS;
      const before = this.vmRecords.get(t.vmId);
      if (before?.hostId != null) this.vmsByHost.get(before.hostId)?.delete(t.vmId);
      this.vmRecords.set(t.vmId, {
        id: t.vmId,
        ordinal: before?.ordinal ?? ++this.ordinals,
        memoryMiB: before?.memoryMiB ?? null,
        status: t.to.status,
        hostId: t.to.hostId,
        location: t.to.location,
        migrationId: inFlight ? m.id : null,
      });
      if (t.to.hostId !== null) {
        let onHost = this.vmsByHost.get(t.to.hostId);
        if (onHost === undefined) this.vmsByHost.set(t.to.hostId, (onHost = new Set()));
        onHost.add(t.vmId);
      }
      if (m === null) continue;
      if (inFlight) {
        this.entriesByVm.set(t.vmId, m);
        this.entriesById.set(m.id, m);
      } else {
        if (this.entriesByVm.get(t.vmId)?.id === m.id) this.entriesByVm.delete(t.vmId);
        this.entriesById.delete(m.id);
      }
    }
  }

  host(id: string): Host | undefined {
    return this.hostRecords.get(id);
  }

  hosts(filter: { cluster?: string | null; status?: HostStatus | null } = {}): Host[] {
    return [...this.hostRecords.values()]
      .filter((h) => (filter.cluster == null || h.cluster === filter.cluster) && (filter.status == null || h.status === filter.status))
      .sort(byId);
  }

  vm(id: string): Vm | undefined {
    return this.vmRecords.get(id);
  }

  vmIdsOnHost(hostId: string): readonly string[] {
    if (!this.run.complete) {
      throw onlyOnTheEngine(`Host.vms (this process has not read engine run ${this.run.epoch} from its start)`);
    }
    return [...(this.vmsByHost.get(hostId) ?? [])];
  }

  /** The VMs on a host, in the order this process first heard of them. */
  vmsOnHost(hostId: string): Vm[] {
    return this.vmIdsOnHost(hostId)
      .map((id) => this.vmRecords.get(id))
      .filter((vm): vm is Vm => vm !== undefined)
      .sort((a, b) => a.ordinal - b.ordinal);
  }

  entryOf(vmId: string): Migration | undefined {
    return this.entriesByVm.get(vmId);
  }

  migration(id: string): Migration | undefined {
    return this.entriesById.get(id);
  }

  resolveCursor(cursor: string): ReturnType<TableView['resolveCursor']> {
    return this.run.resolveCursor(cursor);
  }

  // ---- root queries and mutations: forwarded to the engine, never run here ----

  vms(_filter: { status?: VmStatus | null; hostId?: string | null }, _afterOrdinal?: number, _first?: number): Page<Vm> {
    throw onlyOnTheEngine('vms');
  }

  migrations(_filter: { state?: MigrationState | null; vmId?: string | null; hostId?: string | null }, _afterOrdinal?: number, _first?: number): Page<Migration> {
    throw onlyOnTheEngine('migrations');
  }

  /** The VM's migration in flight (a pending one is known to the engine only). */
  currentMigrationOf(vmId: string): Migration | undefined {
    return this.entriesByVm.get(vmId);
  }

  evacuation(): ReturnType<TableView['evacuation']> {
    throw onlyOnTheEngine('evacuation');
  }

  evacuations(): ReturnType<TableView['evacuations']> {
    throw onlyOnTheEngine('evacuations');
  }

  evacuationPlan(): ReturnType<TableView['evacuationPlan']> {
    throw onlyOnTheEngine('evacuationPlan');
  }

  evacuateHost(): ReturnType<TableView['evacuateHost']> {
    throw onlyOnTheEngine('evacuateHost');
  }

  cancelEvacuation(): ReturnType<TableView['cancelEvacuation']> {
    throw onlyOnTheEngine('cancelEvacuation');
  }

  removeHost(): ReturnType<TableView['removeHost']> {
    throw onlyOnTheEngine('removeHost');
  }

  eventLogAfter(): ReturnType<TableView['eventLogAfter']> {
    throw onlyOnTheEngine('events');
  }

  resolvePageCursor(): ReturnType<TableView['resolvePageCursor']> {
    throw onlyOnTheEngine('vms and migrations pages');
  }

  registerHost(): Outcome<Host> {
    throw onlyOnTheEngine('registerHost');
  }

  migrateVm(): Outcome<Migration> {
    throw onlyOnTheEngine('migrateVm');
  }

  cancelMigration(): Outcome<Migration> {
    throw onlyOnTheEngine('cancelMigration');
  }

  reportVmStatuses(): Outcome<Host> {
    throw onlyOnTheEngine('reportVmStatuses');
  }

  reportHostStatus(): Outcome<Host> {
    throw onlyOnTheEngine('reportHostStatus');
  }

  reportFenceResult(): Outcome<Host> {
    throw onlyOnTheEngine('reportFenceResult');
  }
}
