/**
 * The dashboard's state: what the state query loaded, kept current by the `transitions` and
 * `events` streams. Pure (no DOM, no network): test/dashboard/store.test.ts drives it directly.
 *
 * - A migration's progress bar never runs backwards: within an attempt it shows the highest value
 *   seen (a rerun starts a new attempt, and its bar starts again).
 * - Slot use is counted from the migrations in flight: outgoing on the source, incoming on the
 *   destination.
 * - Lists are bounded: the decided migrations and the events keep the newest few.
 */
import type { EngineRow, EvacuationRow, EventRow, HostRow, MigrationRow, StateResult, TransitionRow } from './model.js';

export const DECIDED_KEPT = 40;
export const EVENTS_KEPT = 150;

export interface SlotUse {
  outgoing: number;
  incoming: number;
}

const PENDING = 'PENDING';
const IN_PROGRESS = 'IN_PROGRESS';

export class DashboardStore {
  engine: EngineRow | null = null;
  /** The latest cursor seen, from the state query or either stream. */
  cursor: string | null = null;
  readonly hosts = new Map<string, HostRow>();
  readonly inFlight = new Map<string, MigrationRow>();
  readonly queue = new Map<string, MigrationRow>();
  /** Newest first. */
  decided: MigrationRow[] = [];
  /** Newest first. */
  events: EventRow[] = [];
  evacuations: EvacuationRow[] = [];
  /** The state query's page of migrations in flight was full: more exist than the dashboard shows. */
  inFlightTruncated = false;
  private readonly shownProgress = new Map<string, { attempt: number; value: number }>();

  /** Replaces everything the state query returns (at start, and after a resync); keeps the outcomes and events already shown. */
  load(state: StateResult): void {
    this.engine = state.engine;
    this.cursor = state.engine.cursor;
    this.hosts.clear();
    for (const host of state.hosts) this.hosts.set(host.id, host);
    this.inFlight.clear();
    this.queue.clear();
    this.shownProgress.clear();
    for (const { node } of state.inFlight.edges) this.upsert(node);
    for (const { node } of state.queue?.edges ?? []) this.upsert(node);
    this.inFlightTruncated = state.inFlight.pageInfo?.hasNextPage ?? false;
    if (state.evacuations) this.evacuations = state.evacuations.edges.map((e) => e.node);
  }

  replaceHosts(hosts: readonly HostRow[]): void {
    this.hosts.clear();
    for (const host of hosts) this.hosts.set(host.id, host);
  }

  /** Applies one transition; returns true when it names a host the dashboard does not know yet (reload the hosts). */
  applyTransition(t: TransitionRow): boolean {
    this.cursor = t.cursor;
    let unknownHost = false;
    if (t.hostId !== null && t.hostStatusTo !== null) {
      const host = this.hosts.get(t.hostId);
      if (host === undefined) unknownHost = true;
      else this.hosts.set(t.hostId, { ...host, status: t.hostStatusTo });
    }
    if (t.migration !== null) {
      const m = t.migration;
      for (const id of [m.sourceHostId, m.destinationHostId]) if (id !== null && !this.hosts.has(id)) unknownHost = true;
      this.upsert(m);
    }
    return unknownHost;
  }

  applyEvent(e: EventRow): void {
    this.cursor = e.cursor;
    this.events = [e, ...this.events].slice(0, EVENTS_KEPT);
  }

  /** The migration as shown: its progress never below what this attempt already showed. */
  private upsert(m: MigrationRow): void {
    if (m.state === IN_PROGRESS || m.state === PENDING) {
      const shown = this.shownProgress.get(m.id);
      const sameAttempt = shown !== undefined && shown.attempt === m.attempt;
      const value = Math.max(sameAttempt ? shown.value : 0, m.progress ?? 0);
      if (m.progress !== null || sameAttempt) this.shownProgress.set(m.id, { attempt: m.attempt, value });
      else this.shownProgress.delete(m.id);
      const row = { ...m, progress: m.progress === null && !sameAttempt ? null : value };
      if (m.state === IN_PROGRESS) {
        this.queue.delete(m.id);
        this.inFlight.set(m.id, row);
      } else {
        this.inFlight.delete(m.id);
        this.queue.set(m.id, row);
      }
      return;
    }
    // Decided: off the live lists, onto the newest outcomes.
    const before = this.inFlight.get(m.id);
    this.inFlight.delete(m.id);
    this.queue.delete(m.id);
    this.shownProgress.delete(m.id);
    const progress = m.state === 'SUCCEEDED' ? 100 : (before?.progress ?? m.progress);
    this.decided = [{ ...m, progress }, ...this.decided.filter((d) => d.id !== m.id)].slice(0, DECIDED_KEPT);
  }

  /** Outgoing and incoming migrations in flight, per host. */
  slotUse(): Map<string, SlotUse> {
    const use = new Map<string, SlotUse>();
    const at = (id: string) => {
      let u = use.get(id);
      if (u === undefined) use.set(id, (u = { outgoing: 0, incoming: 0 }));
      return u;
    };
    for (const m of this.inFlight.values()) {
      if (m.sourceHostId !== null) at(m.sourceHostId).outgoing++;
      if (m.destinationHostId !== null) at(m.destinationHostId).incoming++;
    }
    return use;
  }

  /** Hosts grouped by cluster, clusters and hosts by id. */
  clusters(): { cluster: string; hosts: HostRow[] }[] {
    const byCluster = new Map<string, HostRow[]>();
    for (const host of this.hosts.values()) {
      const list = byCluster.get(host.cluster) ?? [];
      list.push(host);
      byCluster.set(host.cluster, list);
    }
    return [...byCluster.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([cluster, hosts]) => ({ cluster, hosts: hosts.sort((a, b) => a.id.localeCompare(b.id)) }));
  }
}
