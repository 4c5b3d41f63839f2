/**
 * Compares Transit's verdicts with what really happened in the simulated fleet.
 * - SUCCEEDED: the attempt really handed the VM over to the destination.
 * - FAILED / CANCELLED: it did not (the VM stayed on the source, or the order never started).
 * - VM_DOWN: the VM really runs nowhere.
 * And, once the fleet is quiet, Transit's table agrees with the truth for every VM.
 *
 * From the transitions alone it also checks the scheduler (docs/contract.md §8): no attempt Transit
 * started ever took a host or a cluster past its limit, and every attempt Transit aborted got a
 * CANCEL order on its source host.
 */
import type { TransitionView } from './operations.js';
import type { SimWorld } from './world.js';

export interface DecidedAttempt {
  readonly migrationId: string;
  readonly attempt: number;
  readonly vmId: string;
  readonly sourceHostId: string | null;
  readonly destinationHostId: string | null;
  readonly state: string;
  /** When Transit's entry began (ms since the epoch; same machine clock as the simulator). */
  readonly startedAt: number;
}

export interface VmView {
  readonly id: string;
  readonly status: string;
  readonly hostId: string | null;
}

export class OutcomeChecker {
  private readonly verdicts = new Map<string, DecidedAttempt>();
  /** What contradicts docs/contract.md §9 in what Transit did with evacuations, in words. */
  readonly evacuationProblems: string[] = [];
  /** Evacuations seen to complete (their host became MAINTENANCE), each checked against the truth. */
  evacuationsChecked = 0;

  constructor(private readonly world: SimWorld) {}

  /** Transit says the host's evacuation completed: the host must really run no VM, nor send or receive one. */
  evacuationCompleted(hostId: string): void {
    this.evacuationsChecked++;
    const occupants = this.world.occupantsOf(hostId);
    if (occupants.length > 0) this.evacuationProblems.push(`host ${hostId} completed its evacuation, but really runs ${occupants.join(', ')}`);
  }

  /**
   * Transit started an attempt towards `destination`, whose status the stream last showed as
   * `status` (undefined: no change seen since the observer subscribed, when every host was UP or
   * registering): only an UP host may receive.
   */
  attemptStarted(migrationId: string, attempt: number, destination: string, status: string | undefined): void {
    if (status !== undefined && status !== 'UP') this.evacuationProblems.push(`${migrationId} attempt ${attempt} was started towards ${destination}, which was ${status}`);
  }

  /** Moments more migrations were really under way than Transit's limits allow. */
  limitProblems(): string[] {
    return [...this.world.overLimit];
  }

  /** Records a decided attempt (each attempt once; a repeat must agree). */
  record(attempt: DecidedAttempt): void {
    const key = `${attempt.migrationId}/${attempt.attempt}`;
    this.verdicts.set(key, attempt);
  }

  get decided(): number {
    return this.verdicts.size;
  }

  countBy(state: string): number {
    return [...this.verdicts.values()].filter((v) => v.state === state).length;
  }

  /** Every verdict that contradicts the truth, in words (empty when all agree). */
  contradictions(): string[] {
    const problems: string[] = [];
    for (const [key, verdict] of this.verdicts) {
      const truth = this.truthOf(key, verdict);
      const where = `${verdict.migrationId} attempt ${verdict.attempt} (VM ${verdict.vmId}, ${verdict.sourceHostId} → ${verdict.destinationHostId})`;
      switch (verdict.state) {
        case 'SUCCEEDED':
          if (truth !== 'HANDED_OVER') problems.push(`${where} declared SUCCEEDED, but it really ${truth ?? 'never started'}; truth: ${this.traceOf(verdict.vmId)}`);
          break;
        case 'FAILED':
        case 'CANCELLED':
          if (truth === 'HANDED_OVER') {
            problems.push(`${where} declared ${verdict.state}, but the VM really reached the destination; truth: ${this.traceOf(verdict.vmId)}`);
          }
          break;
        case 'VM_DOWN':
          if (this.world.isRunning(verdict.vmId)) problems.push(`${where} declared VM_DOWN, but the VM runs on ${this.world.runsOn(verdict.vmId)}`);
          break;
      }
    }
    return problems;
  }

  /** Disagreements between Transit's view of every VM and where it really runs. */
  divergence(view: ReadonlyMap<string, VmView>): string[] {
    const problems: string[] = [];
    for (const vmId of this.world.vms.keys()) {
      const host = this.world.runsOn(vmId);
      const seen = view.get(vmId);
      if (host !== null && (seen?.status !== 'UP' || seen.hostId !== host)) {
        problems.push(`VM ${vmId} runs on ${host}; Transit shows ${seen ? `${seen.status} on ${seen.hostId}` : 'nothing'}`);
      }
      if (host === null && seen !== undefined && seen.status !== 'DOWN') {
        problems.push(`VM ${vmId} runs nowhere; Transit shows ${seen.status} on ${seen.hostId}`);
      }
    }
    return problems;
  }

  private traceOf(vmId: string): string {
    return (this.world.trace.get(vmId) ?? []).join(' | ');
  }

  /**
   * An entry Transit rebuilt from reports (after a restart) has an id of its own: match it with the
   * attempt between the same hosts that was already under way when Transit first saw the entry.
   * An entry Transit started itself whose order was never carried out has no truth: it never began.
   */
  private truthOf(key: string, verdict: DecidedAttempt) {
    const direct = this.world.outcomes.get(key);
    if (direct !== undefined || this.world.attemptHosts.has(key)) return direct;
    let found: string | undefined;
    for (const [k, hosts] of this.world.attemptHosts) {
      const same = hosts.vmId === verdict.vmId && hosts.from === verdict.sourceHostId && hosts.to === verdict.destinationHostId;
      if (same && hosts.startedAt <= verdict.startedAt) found = k;
    }
    return found === undefined ? undefined : this.world.outcomes.get(found);
  }
}

/** The limits the engine runs with (0: none), as its settings name them. */
export interface LimitsView {
  readonly maxOutgoingPerHost: number;
  readonly maxIncomingPerHost: number;
  readonly maxPerCluster: number;
}

interface AttemptInFlight {
  readonly attempt: number;
  readonly source: string | null;
  readonly destination: string | null;
}

/**
 * Follows the attempts in flight from the transitions stream and checks, each time Transit starts
 * one itself (any cause but a host's report, which is how a migration Transit did not start is
 * found), that its source, destination and cluster are within the limits counting everything in
 * flight, found ones included: Transit counts them too before it starts anything.
 */
export class SchedulingWatch {
  private readonly inFlight = new Map<string, AttemptInFlight>();
  private readonly aborted = new Map<string, string>();
  readonly violations: string[] = [];
  /** Engine-started attempts checked, and the most in flight at once seen. */
  starts = 0;
  peakInFlight = 0;
  /** Migrations seen waiting in the queue. */
  readonly queued = new Set<string>();

  constructor(
    private readonly limits: LimitsView,
    private readonly clusterOf: (hostId: string) => string | undefined,
  ) {}

  /** The engine restarted: its table is empty; the stream starts over. */
  reset(): void {
    this.inFlight.clear();
  }

  observe(t: TransitionView): void {
    const m = t.migration;
    if (m === null) return;
    if (m.abortReason !== null) this.aborted.set(`${m.id}/${m.attempt}`, m.abortReason);
    if (m.state === 'PENDING') this.queued.add(m.id);
    if (m.state !== 'IN_PROGRESS') {
      this.inFlight.delete(m.id);
      return;
    }
    const before = this.inFlight.get(m.id);
    const now: AttemptInFlight = { attempt: m.attempt, source: m.source?.id ?? null, destination: m.destination?.id ?? null };
    this.inFlight.set(m.id, now);
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight.size);
    const started = before === undefined || before.attempt !== m.attempt;
    if (started && t.cause !== 'HOST_REPORT') this.checkStart(t, m.id, now);
  }

  /** Attempts Transit aborted whose source never received the CANCEL order. */
  abortsWithoutCancel(world: SimWorld): string[] {
    return [...this.aborted].filter(([key]) => !world.cancelOrders.has(key)).map(([key, reason]) => `${key} aborted (${reason}) but its source got no CANCEL order`);
  }

  get abortedAttempts(): number {
    return this.aborted.size;
  }

  private checkStart(t: TransitionView, migrationId: string, started: AttemptInFlight): void {
    this.starts++;
    const all = [...this.inFlight];
    const cluster = started.source === null ? undefined : this.clusterOf(started.source);
    // The violation names the attempts it counted, so that a reader can follow each in the transitions.
    const over = (what: string, counted: [string, AttemptInFlight][], limit: number) => {
      if (limit > 0 && counted.length > limit) {
        const named = counted.map(([id, a]) => `${id}#${a.attempt} ${a.source ?? '?'}→${a.destination ?? '?'}`).join(', ');
        this.violations.push(`${t.cursor}: ${what} had ${counted.length} in flight (limit ${limit}) when ${migrationId} attempt ${started.attempt} started: ${named}`);
      }
    };
    if (started.source !== null) over(`${started.source} outgoing`, all.filter(([, a]) => a.source === started.source), this.limits.maxOutgoingPerHost);
    if (started.destination !== null) over(`${started.destination} incoming`, all.filter(([, a]) => a.destination === started.destination), this.limits.maxIncomingPerHost);
    if (cluster !== undefined) {
      const inCluster = all.filter(([, a]) => {
        const host = a.source ?? a.destination;
        return host !== null && this.clusterOf(host) === cluster;
      });
      over(`cluster ${cluster}`, inCluster, this.limits.maxPerCluster);
    }
  }
}
