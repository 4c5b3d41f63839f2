/**
 * The storage of evacuations (docs/contract.md §9): every record, with the indexes that serve the
 * rules and the queries — the running evacuation of each host, the evacuation each migration
 * belongs to, every evacuation of a host, newest first. Only the evacuation rules write here (through
 * these methods, so the indexes never drift from the records; `checkIndexes` says when they do).
 *
 * Ended evacuations are kept up to the history limit, oldest evicted first; a running one is never
 * evicted (a host has at most one).
 */
import { lowerBound } from '../table/ordinal-set.js';
import type { EvacuationBlocker, Millis } from '../model.js';
import { EvacuationState } from '../vocabulary.js';

/** An evacuation as stored: what it is made of, updated in place by the evacuation rules. */
export interface EvacuationRecord {
  readonly id: string;
  readonly ordinal: number;
  readonly hostId: string;
  state: EvacuationState;
  readonly startedAt: Millis;
  endedAt: Millis | null;
  /** Every VM that joined, in the order it joined. */
  readonly vms: Set<string>;
  /** VMs whose migration SUCCEEDED. */
  readonly moved: Set<string>;
  /** VMs it will not move: no eligible host, or every migration of theirs ended without moving them. */
  readonly failed: Set<string>;
  /** VMs the evacuation gave a migration of its own (an automatic destination): it gives none twice. */
  readonly ownMigrationVms: Set<string>;
  /** Its migrations, in the order they joined. */
  readonly migrationIds: string[];
  /** Its migrations still pending or in flight. */
  readonly live: Set<string>;
  /** Why each failed VM will not move (by VM id, in the order they failed). */
  readonly reasons: Map<string, string>;
  /**
   * It keeps its host out of service: while it runs, and after it FAILED until the operator
   * evacuates again, cancels or sets the host's status. A host it holds that stops answering comes
   * back PREPARING_FOR_MAINTENANCE, not UP.
   */
  holdsHost: boolean;
  /** VMs still on the host when it ended, and the blockers it ended with; null while it runs. */
  ended: { readonly remaining: number; readonly blockers: readonly EvacuationBlocker[] } | null;
}

/** The store as the read side sees it. */
export interface EvacuationView {
  readonly lastOrdinal: number;
  byId(id: string): EvacuationRecord | undefined;
  /** The host's running evacuation, if any. */
  runningOn(hostId: string): EvacuationRecord | undefined;
  /** The host's most recent evacuation, whatever its state. */
  latestOn(hostId: string): EvacuationRecord | undefined;
  /** The host is kept out of service by its latest evacuation (running, or FAILED and not released). */
  holds(hostId: string): boolean;
  /** The evacuation a migration belongs to (kept for its lifetime). */
  ofMigration(migrationId: string): EvacuationRecord | undefined;
  running(): Iterable<EvacuationRecord>;
  /** Evacuations with an ordinal below `beforeOrdinal` (all when null), newest first, filtered. */
  newestFirst(filter: { hostId?: string | null; state?: EvacuationState | null }, beforeOrdinal: number | null, first: number): { items: EvacuationRecord[]; hasNextPage: boolean };
  countsByState(): Map<EvacuationState, number>;
  checkIndexes(): string[];
}

export class EvacuationStore implements EvacuationView {
  private readonly records = new Map<string, EvacuationRecord>();
  private readonly byOrdinal = new Map<number, EvacuationRecord>();
  /** Every kept ordinal, ascending. */
  private readonly ordinals: number[] = [];
  /** Kept ordinals of each host, ascending. */
  private readonly ordinalsByHost = new Map<string, number[]>();
  private readonly runningByHost = new Map<string, EvacuationRecord>();
  private readonly byMigration = new Map<string, EvacuationRecord>();
  private readonly stateCounts = new Map<EvacuationState, number>();
  private ordinal = 0;

  constructor(private readonly historyLimit: number) {}

  get lastOrdinal(): number {
    return this.ordinal;
  }

  /** A new evacuation of the host, IN_PROGRESS, stored and indexed. */
  create(epoch: string, hostId: string, now: Millis): EvacuationRecord {
    const ordinal = ++this.ordinal;
    const record: EvacuationRecord = {
      id: `${epoch}-e${ordinal}`,
      ordinal,
      hostId,
      state: EvacuationState.IN_PROGRESS,
      startedAt: now,
      endedAt: null,
      vms: new Set(),
      moved: new Set(),
      failed: new Set(),
      ownMigrationVms: new Set(),
      migrationIds: [],
      live: new Set(),
      reasons: new Map(),
      holdsHost: true,
      ended: null,
    };
    this.records.set(record.id, record);
    this.byOrdinal.set(ordinal, record);
    this.ordinals.push(ordinal);
    let ofHost = this.ordinalsByHost.get(hostId);
    if (ofHost === undefined) this.ordinalsByHost.set(hostId, (ofHost = []));
    ofHost.push(ordinal);
    this.runningByHost.set(hostId, record);
    this.count(record.state, 1);
    return record;
  }

  /** The migration joins the evacuation (and stays its own for the record's lifetime). */
  addMigration(record: EvacuationRecord, migrationId: string): void {
    record.migrationIds.push(migrationId);
    record.live.add(migrationId);
    this.byMigration.set(migrationId, record);
  }

  /**
   * Ends a running evacuation; it follows its migrations no more (those in flight go on). The oldest
   * ended ones beyond the history limit are forgotten.
   */
  end(record: EvacuationRecord, state: EvacuationState, now: Millis, ended: NonNullable<EvacuationRecord['ended']>): void {
    this.count(record.state, -1);
    record.live.clear();
    record.state = state;
    record.endedAt = now;
    record.ended = ended;
    this.count(state, 1);
    if (this.runningByHost.get(record.hostId) === record) this.runningByHost.delete(record.hostId);
    this.evictBeyondLimit();
  }

  byId(id: string): EvacuationRecord | undefined {
    return this.records.get(id);
  }

  runningOn(hostId: string): EvacuationRecord | undefined {
    return this.runningByHost.get(hostId);
  }

  latestOn(hostId: string): EvacuationRecord | undefined {
    const ofHost = this.ordinalsByHost.get(hostId);
    return ofHost === undefined ? undefined : this.byOrdinal.get(ofHost[ofHost.length - 1] as number);
  }

  holds(hostId: string): boolean {
    return this.latestOn(hostId)?.holdsHost === true;
  }

  ofMigration(migrationId: string): EvacuationRecord | undefined {
    return this.byMigration.get(migrationId);
  }

  /** Running evacuations (one per host at most). */
  get runningCount(): number {
    return this.runningByHost.size;
  }

  running(): Iterable<EvacuationRecord> {
    return this.runningByHost.values();
  }

  newestFirst(filter: { hostId?: string | null; state?: EvacuationState | null }, beforeOrdinal: number | null, first: number): { items: EvacuationRecord[]; hasNextPage: boolean } {
    const { hostId, state } = filter;
    const items: EvacuationRecord[] = [];
    // Running evacuations are few (one per host at most): read them directly.
    const candidates =
      state === EvacuationState.IN_PROGRESS && hostId == null
        ? [...this.runningByHost.values()].map((r) => r.ordinal).sort((a, b) => a - b)
        : hostId == null
          ? this.ordinals
          : (this.ordinalsByHost.get(hostId) ?? []);
    for (let i = lowerBound(candidates, beforeOrdinal ?? Number.POSITIVE_INFINITY) - 1; i >= 0; i--) {
      const record = this.byOrdinal.get(candidates[i] as number);
      if (record === undefined || (state != null && record.state !== state)) continue;
      if (items.length === first) return { items, hasNextPage: true };
      items.push(record);
    }
    return { items, hasNextPage: false };
  }

  countsByState(): Map<EvacuationState, number> {
    return new Map(this.stateCounts);
  }

  checkIndexes(): string[] {
    const problems: string[] = [];
    const records = [...this.records.values()];
    if (this.byOrdinal.size !== records.length || this.ordinals.length !== records.length) {
      problems.push(`evacuations: ${records.length} records, ${this.byOrdinal.size} by ordinal, ${this.ordinals.length} ordinals`);
    }
    for (const r of records) {
      if (this.byOrdinal.get(r.ordinal) !== r) problems.push(`evacuation ${r.id} is not at its ordinal`);
      if (!(this.ordinalsByHost.get(r.hostId) ?? []).includes(r.ordinal)) problems.push(`evacuation ${r.id} is missing from its host's list`);
      const running = r.state === EvacuationState.IN_PROGRESS;
      if (running !== (this.runningByHost.get(r.hostId) === r)) problems.push(`evacuation ${r.id} is ${r.state} but ${running ? 'not ' : ''}indexed as running`);
      if (!running && r.live.size > 0) problems.push(`evacuation ${r.id} ended ${r.state} with live migrations`);
      for (const id of r.live) if (!r.migrationIds.includes(id)) problems.push(`evacuation ${r.id} has live migration ${id} it does not list`);
    }
    for (const [state, n] of this.stateCounts) {
      const actual = records.filter((r) => r.state === state).length;
      if (actual !== n) problems.push(`evacuations ${state}: counted ${n}, records say ${actual}`);
    }
    return problems;
  }

  private count(state: EvacuationState, by: number): void {
    this.stateCounts.set(state, (this.stateCounts.get(state) ?? 0) + by);
  }

  private evictBeyondLimit(): void {
    let excess = this.ordinals.length - this.historyLimit;
    for (let i = 0; excess > 0 && i < this.ordinals.length; ) {
      const record = this.byOrdinal.get(this.ordinals[i] as number) as EvacuationRecord;
      if (record.state === EvacuationState.IN_PROGRESS) {
        i++;
        continue;
      }
      this.forget(record, i);
      excess--;
    }
  }

  private forget(record: EvacuationRecord, at: number): void {
    this.ordinals.splice(at, 1);
    this.records.delete(record.id);
    this.byOrdinal.delete(record.ordinal);
    this.count(record.state, -1);
    const ofHost = this.ordinalsByHost.get(record.hostId) ?? [];
    ofHost.splice(ofHost.indexOf(record.ordinal), 1);
    if (ofHost.length === 0) this.ordinalsByHost.delete(record.hostId);
    for (const id of record.migrationIds) if (this.byMigration.get(id) === record) this.byMigration.delete(id);
  }
}
