/**
 * The simulator's operator for maintenance (docs/contract.md §9): at a chosen rate it puts a host
 * into maintenance by evacuating it, follows the evacuation through the public API, brings the host
 * back into service after the maintenance, and lets a host go whose evacuation failed. It keeps at
 * most one host of each cluster out of service at a time.
 *
 * After an engine restart the evacuations are forgotten (docs/decisions.md §9): the operator sees
 * its evacuation gone (`evacuation(id)` null) and evacuates the host again, as a careful operator
 * would; a host already in maintenance is evacuated again too (it completes at once).
 */
import type { GraphQLRequest } from '../agent/graphql-http.js';
import {
  CANCEL_EVACUATION,
  EVACUATE_HOST,
  EVACUATION,
  REPORT_HOST_STATUS,
  type EvacuateHostResult,
  type EvacuationView,
} from './operations.js';
import type { Random } from './random.js';
import type { SimWorld } from './world.js';

export interface MaintenanceOptions {
  /** Hosts put into maintenance by evacuation per minute, across the fleet (0: only when asked). */
  readonly evacuationsPerMinute: number;
  /** How long a host stays in maintenance before it is put back into service, in ms. */
  readonly maintenanceMs: number;
  readonly onError?: (error: unknown) => void;
}

/** One host's trip out of service: draining, then in maintenance. */
interface Drain {
  readonly hostId: string;
  readonly cluster: string;
  /** The engine's evacuation; null while it must be asked (again, after a restart). */
  evacuationId: string | null;
  readonly askedAt: number;
  phase: 'DRAINING' | 'IN_MAINTENANCE';
  backAt: number;
  /** Times the evacuation was asked again after an engine restart. */
  reissued: number;
}

/** What one evacuation came to, as the operator saw it. */
export interface FinishedEvacuation {
  readonly hostId: string;
  readonly state: 'COMPLETED' | 'FAILED';
  readonly total: number;
  readonly moved: number;
  readonly failed: number;
  readonly blockers: readonly string[];
  /** From the operator's first request to the engine's `endedAt`, in ms (an engine restart in between included). */
  readonly drainMs: number;
  readonly reissued: number;
}

export class MaintenanceOperator {
  private readonly drains = new Map<string, Drain>();
  readonly finished: FinishedEvacuation[] = [];
  private on = true;
  private busy = false;

  constructor(
    private readonly gql: GraphQLRequest,
    private readonly world: SimWorld,
    private readonly random: Random,
    private readonly options: MaintenanceOptions,
  ) {}

  get running(): number {
    return [...this.drains.values()].filter((d) => d.phase === 'DRAINING').length;
  }

  get completed(): number {
    return this.finished.filter((f) => f.state === 'COMPLETED').length;
  }

  get failed(): number {
    return this.finished.filter((f) => f.state === 'FAILED').length;
  }

  /** Hosts being drained now. */
  drainingHosts(): Set<string> {
    return new Set([...this.drains.values()].filter((d) => d.phase === 'DRAINING').map((d) => d.hostId));
  }

  /** No new evacuations from now on; those under way go on. */
  quiesce(): void {
    this.on = false;
  }

  /** Called every second by the fleet: maybe start one, then follow each. */
  async step(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      // No draw at a rate of 0: a run without evacuations draws the same numbers as before they existed.
      if (this.on && this.options.evacuationsPerMinute > 0 && this.random.chance(this.options.evacuationsPerMinute / 60)) await this.evacuate();
      for (const drain of [...this.drains.values()]) await this.follow(drain);
    } catch (error) {
      this.options.onError?.(error);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Evacuates a host (`hostId`, or one drawn among the answering hosts of a cluster with none out of
   * service). Returns the host, or null when none could be chosen or the engine refused.
   */
  async evacuate(hostId: string | null = null): Promise<string | null> {
    const out = new Set([...this.drains.values()].map((d) => d.cluster));
    const host = hostId ?? this.random.pick([...this.world.hosts.values()].filter((h) => h.state === 'UP' && !out.has(h.cluster)).map((h) => h.id)) ?? null;
    if (host === null || this.drains.has(host)) return null;
    const drain: Drain = { hostId: host, cluster: this.world.hosts.get(host)?.cluster ?? '', evacuationId: null, askedAt: Date.now(), phase: 'DRAINING', backAt: 0, reissued: -1 };
    if (!(await this.ask(drain))) return null;
    this.drains.set(host, drain);
    return host;
  }

  /** The engine restarted: every evacuation must be asked again. */
  engineRestarted(): void {
    for (const drain of this.drains.values()) drain.evacuationId = null;
  }

  private async ask(drain: Drain): Promise<boolean> {
    const result = await this.gql<EvacuateHostResult>(EVACUATE_HOST, { input: { hostId: drain.hostId } });
    const evacuation = result.data?.evacuateHost.evacuation;
    if (!evacuation) return false; // not registered with a new engine yet, or not answering: try again later
    drain.evacuationId = evacuation.id;
    drain.reissued++;
    return true;
  }

  private async follow(drain: Drain): Promise<void> {
    if (drain.evacuationId === null) {
      await this.ask(drain);
      return;
    }
    if (drain.phase === 'IN_MAINTENANCE') {
      if (Date.now() < drain.backAt) return;
      // Back into service (refused if the host does not answer: it comes back UP by itself then).
      await this.gql(REPORT_HOST_STATUS, { input: { hostId: drain.hostId, status: 'UP' } });
      this.drains.delete(drain.hostId);
      return;
    }
    const result = await this.gql<{ evacuation: EvacuationView | null }>(EVACUATION, { id: drain.evacuationId });
    if (result.data === undefined || result.data === null) return; // the engine is away
    const evacuation = result.data.evacuation;
    if (evacuation === null) {
      drain.evacuationId = null; // a new engine forgot it
      return;
    }
    switch (evacuation.state) {
      case 'IN_PROGRESS':
        return;
      case 'CANCELLED':
        this.drains.delete(drain.hostId);
        return;
      case 'COMPLETED':
        this.record(drain, evacuation);
        drain.phase = 'IN_MAINTENANCE';
        drain.backAt = Date.now() + this.options.maintenanceMs;
        return;
      case 'FAILED':
        this.record(drain, evacuation);
        // The operator reads the blockers, then lets the host go back into service.
        await this.gql(CANCEL_EVACUATION, { input: { hostId: drain.hostId } });
        this.drains.delete(drain.hostId);
        return;
    }
  }

  private record(drain: Drain, e: EvacuationView): void {
    this.finished.push({
      hostId: drain.hostId,
      state: e.state as 'COMPLETED' | 'FAILED',
      total: e.total,
      moved: e.moved,
      failed: e.failed,
      blockers: e.blockers.map((b) => `${b.vm.id}: ${b.reason}`),
      drainMs: (e.endedAt === null ? Date.now() : Date.parse(e.endedAt)) - drain.askedAt,
      reissued: drain.reissued,
    });
  }
}
