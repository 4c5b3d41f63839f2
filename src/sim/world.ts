/**
 * The simulator's ground truth: where every VM really runs, which migrations really happened, and
 * what each simulated hypervisor observes. Transit never sees this; it sees only the reports the
 * host agents send, which lag and may be lost, duplicated or reordered. The checker compares
 * Transit's verdicts with what is recorded here.
 */
import type { HypervisorAdapter, MigrationOrder, VmObservation } from '../agent/hypervisor.js';
import type { Random } from './random.js';

/** What really became of one attempt of a migration, as the hypervisors carried it out. */
export type TrueAttemptOutcome = 'HANDED_OVER' | 'ABORTED' | 'VM_LOST';

export type SimHostState = 'UP' | 'HUNG' | 'REBOOTING';

/**
 * How a migration's pre-copy goes: it converges, or it never does (the guest dirties memory faster
 * than the link copies it): `STALL` stops rising at some point, `CRAWL` keeps rising slowly but never
 * reaches 100. Transit's progress and completion deadlines (docs/contract.md §8) abort them.
 */
export type Convergence = 'CONVERGES' | 'STALL' | 'CRAWL';

interface SimMigration {
  readonly key: string;
  readonly migrationId: string;
  readonly attempt: number;
  readonly vmId: string;
  readonly from: string;
  readonly to: string;
  progress: number;
  readonly convergence: Convergence;
  /** Where a STALL stops rising, in percent. */
  readonly stallAt: number;
}

interface SimVm {
  readonly id: string;
  readonly memoryMiB: number;
  host: string | null;
  migration: SimMigration | null;
}

interface SimHost {
  readonly id: string;
  readonly cluster: string;
  state: SimHostState;
  readonly watchers: Set<(change: VmObservation) => void>;
}

export interface WorldRates {
  /** Pre-copy progress per second, in percent (a migration takes about 100 / this seconds). */
  readonly progressPerSecond: number;
  /** Chance that a migration fails at hand-over (source keeps the VM, destination drops it). */
  readonly migrationFailure: number;
  /** Chance that a migration never converges (half stall, half crawl); only an abort ends it. */
  readonly nonConverging?: number;
  /** How fast a crawling migration's progress rises, in percent per second (it never reaches 100). */
  readonly crawlPerSecond?: number;
}

/** Migrations really under way at once that Transit's limits allow (docs/contract.md §8; 0: no limit). */
export interface TrueLimits {
  readonly outgoingPerHost: number;
  readonly incomingPerHost: number;
  readonly perCluster: number;
}

export class SimWorld {
  readonly hosts = new Map<string, SimHost>();
  readonly vms = new Map<string, SimVm>();
  /** Keyed by `${migrationId}/${attempt}`. */
  readonly outcomes = new Map<string, TrueAttemptOutcome>();
  /** Each attempt's true hosts, by key, to match entries Transit rebuilt after a restart. */
  readonly attemptHosts = new Map<string, { vmId: string; from: string; to: string; startedAt: number }>();
  /** What really happened to each VM, in order, for explaining a contradiction. */
  readonly trace = new Map<string, string[]>();
  /** Every moment more migrations were really under way at once than `limits` allow, in words. */
  readonly overLimit: string[] = [];
  /** The most migrations really under way at once: leaving one host, reaching one host, in one cluster. */
  readonly peaks = { outgoing: 0, incoming: 0, cluster: 0 };
  /** Set by whoever checks the limits (the fleet, from Transit's settings). */
  limits: TrueLimits | null = null;
  /** Every CANCEL order a source host received (`${migrationId}/${attempt}`), whatever became of it. */
  readonly cancelOrders = new Set<string>();
  /** Attempts that never converge, by key, and how. */
  readonly nonConverging = new Map<string, Exclude<Convergence, 'CONVERGES'>>();
  private readonly started = Date.now();

  constructor(
    private readonly random: Random,
    private rates: WorldRates,
  ) {}

  addHost(id: string, cluster: string): void {
    this.hosts.set(id, { id, cluster, state: 'UP', watchers: new Set() });
  }

  addVm(id: string, hostId: string, memoryMiB = 2_048): void {
    this.vms.set(id, { id, memoryMiB, host: hostId, migration: null });
  }

  hostState(id: string): SimHostState {
    return this.hosts.get(id)?.state ?? 'REBOOTING';
  }

  /** VMs that really run, not migrating, on a host that answers: what automation may move. */
  movableVms(): string[] {
    return [...this.vms.values()].filter((vm) => vm.host !== null && vm.migration === null && this.hostState(vm.host) === 'UP').map((vm) => vm.id);
  }

  isRunning(vmId: string): boolean {
    return this.vms.get(vmId)?.host != null;
  }

  runsOn(vmId: string): string | null {
    return this.vms.get(vmId)?.host ?? null;
  }

  inFlight(): number {
    return [...this.vms.values()].filter((vm) => vm.migration !== null).length;
  }

  adapterFor(hostId: string): HypervisorAdapter {
    return {
      observe: () => this.observe(hostId),
      migrate: (order) => this.startMigration(hostId, order),
      cancel: (order) => this.cancelMigration(hostId, order),
      watch: (onChange) => {
        const host = this.hosts.get(hostId);
        host?.watchers.add(onChange);
        return () => host?.watchers.delete(onChange);
      },
    };
  }

  /** Advances every migration whose two hosts answer by `elapsedMs`. */
  step(elapsedMs: number): void {
    for (const vm of this.vms.values()) {
      const m = vm.migration;
      if (m === null || this.hostState(m.from) !== 'UP' || this.hostState(m.to) !== 'UP') continue;
      if (m.convergence !== 'CONVERGES') {
        const before = Math.floor(m.progress);
        m.progress =
          m.convergence === 'STALL'
            ? Math.min(m.stallAt, m.progress + ((this.rates.progressPerSecond * elapsedMs) / 1000) * 0.5)
            : Math.min(99, m.progress + ((this.rates.crawlPerSecond ?? 2.5) * elapsedMs) / 1000);
        if (Math.floor(m.progress) !== before) this.notify(m.from, { vmId: vm.id, status: 'MIGRATING_FROM', progress: Math.floor(m.progress), peerHostId: m.to });
        continue;
      }
      m.progress = Math.min(100, m.progress + (this.rates.progressPerSecond * elapsedMs) / 1000 * (0.5 + this.random.next()));
      if (m.progress < 100) {
        this.notify(m.from, { vmId: vm.id, status: 'MIGRATING_FROM', progress: Math.floor(m.progress), peerHostId: m.to });
        continue;
      }
      if (this.random.chance(this.rates.migrationFailure)) this.abort(vm, 'MIGRATION_FAILED');
      else this.handOver(vm);
    }
  }

  /** The fault ends: migrations that were not converging converge from now on (stalled ones rise again). */
  letEveryMigrationConverge(): void {
    for (const vm of this.vms.values()) {
      const m = vm.migration;
      if (m !== null && m.convergence !== 'CONVERGES') vm.migration = { ...m, convergence: 'CONVERGES' };
    }
    this.rates = { ...this.rates, nonConverging: 0 };
  }

  /** A VM dies where it runs. */
  crash(vmId: string): void {
    const vm = this.vms.get(vmId);
    if (vm === undefined || vm.host === null || vm.migration !== null) return;
    const host = vm.host;
    vm.host = null;
    this.note(vmId, `crashed on ${host}`);
    this.notify(host, { vmId, status: 'DOWN', exitReason: 'ERROR' });
  }

  hang(hostId: string): void {
    const host = this.hosts.get(hostId);
    if (host !== undefined && host.state === 'UP') host.state = 'HUNG';
  }

  /** A hung host answers again, with its VMs as they were. */
  unhang(hostId: string): void {
    const host = this.hosts.get(hostId);
    if (host !== undefined && host.state === 'HUNG') host.state = 'UP';
  }

  /** A successful fence: the host reboots and every VM it ran is gone. */
  fence(hostId: string): void {
    const host = this.hosts.get(hostId);
    if (host === undefined) return;
    host.state = 'REBOOTING';
    for (const vm of this.vms.values()) {
      const m = vm.migration;
      if (m !== null && m.to === hostId) this.abort(vm, 'MIGRATION_FAILED'); // the source keeps it
      else if (m !== null && m.from === hostId) {
        this.outcomes.set(m.key, 'VM_LOST');
        vm.migration = null;
        vm.host = null;
      } else if (vm.host === hostId) vm.host = null;
    }
  }

  /** The rebooted host comes back empty. */
  bootAgain(hostId: string): void {
    const host = this.hosts.get(hostId);
    if (host !== undefined && host.state === 'REBOOTING') host.state = 'UP';
  }

  private observe(hostId: string): VmObservation[] {
    const seen: VmObservation[] = [];
    for (const vm of this.vms.values()) {
      const m = vm.migration;
      if (m !== null && m.from === hostId) seen.push({ vmId: vm.id, status: 'MIGRATING_FROM', progress: Math.floor(m.progress), peerHostId: m.to, memoryMiB: vm.memoryMiB });
      else if (m !== null && m.to === hostId) seen.push({ vmId: vm.id, status: 'MIGRATING_TO', peerHostId: m.from });
      else if (vm.host === hostId) seen.push({ vmId: vm.id, status: 'UP', memoryMiB: vm.memoryMiB });
    }
    return seen;
  }

  private startMigration(hostId: string, order: MigrationOrder): void {
    const vm = this.vms.get(order.vmId);
    const to = order.destinationHostId;
    // A hung host never sees the order; a VM not here, or already moving, cannot go.
    if (vm === undefined || to === null || this.hostState(hostId) !== 'UP' || vm.host !== hostId || vm.migration !== null) return;
    if (this.hostState(to) !== 'UP') return;
    const key = `${order.migrationId}/${order.attempt}`;
    // Drawn only when the fault is on, so runs without it keep their seeded course.
    const rate = this.rates.nonConverging ?? 0;
    const convergence: Convergence = rate > 0 && this.random.chance(rate) ? (this.random.chance(0.5) ? 'STALL' : 'CRAWL') : 'CONVERGES';
    const stallAt = convergence === 'STALL' ? this.random.int(20, 90) : 100;
    if (convergence !== 'CONVERGES') this.nonConverging.set(key, convergence);
    vm.migration = { key, migrationId: order.migrationId, attempt: order.attempt, vmId: vm.id, from: hostId, to, progress: 0, convergence, stallAt };
    this.attemptHosts.set(key, { vmId: vm.id, from: hostId, to, startedAt: Date.now() });
    this.note(vm.id, `${key} starts ${hostId} → ${to}${convergence === 'CONVERGES' ? '' : ` (never converges: ${convergence.toLowerCase()})`}`);
    this.checkConcurrency(hostId, to);
    this.notify(hostId, { vmId: vm.id, status: 'MIGRATING_FROM', progress: 0, peerHostId: to });
    this.notify(to, { vmId: vm.id, status: 'MIGRATING_TO', peerHostId: hostId });
  }

  private cancelMigration(hostId: string, order: MigrationOrder): void {
    this.cancelOrders.add(`${order.migrationId}/${order.attempt}`);
    const vm = this.vms.get(order.vmId);
    const m = vm?.migration;
    if (vm === undefined || m == null || m.from !== hostId) return;
    // The VM's migration from here: the same attempt, or (an entry Transit rebuilt after a restart
    // has an id of its own) the one to the order's destination.
    const same = m.migrationId === order.migrationId && m.attempt === order.attempt;
    if (!same && order.destinationHostId !== null && order.destinationHostId !== m.to) return;
    if (this.hostState(hostId) !== 'UP') return;
    this.abort(vm, 'MIGRATION_FAILED');
  }

  private handOver(vm: SimVm): void {
    const m = vm.migration as SimMigration;
    vm.migration = null;
    vm.host = m.to;
    this.outcomes.set(m.key, 'HANDED_OVER');
    this.note(vm.id, `${m.key} handed over to ${m.to}`);
    // Each side's agent reports on its own: Transit hears the two in either order.
    this.notify(m.from, { vmId: vm.id, status: 'DOWN', exitReason: 'MIGRATION_SUCCEEDED' });
    this.notify(m.to, { vmId: vm.id, status: 'UP' });
  }

  private abort(vm: SimVm, exitReason: string): void {
    const m = vm.migration as SimMigration;
    vm.migration = null;
    vm.host = m.from;
    this.outcomes.set(m.key, 'ABORTED');
    this.note(vm.id, `${m.key} aborted (${exitReason}), stays on ${m.from}`);
    this.notify(m.from, { vmId: vm.id, status: 'UP' });
    this.notify(m.to, { vmId: vm.id, status: 'DOWN', exitReason });
  }

  /** Counts what is really under way now from `from`, to `to` and in their cluster, against the limits. */
  private checkConcurrency(from: string, to: string): void {
    const cluster = this.hosts.get(from)?.cluster;
    let outgoing = 0;
    let incoming = 0;
    let inCluster = 0;
    for (const vm of this.vms.values()) {
      const m = vm.migration;
      if (m === null) continue;
      if (m.from === from) outgoing++;
      if (m.to === to) incoming++;
      if (this.hosts.get(m.from)?.cluster === cluster) inCluster++;
    }
    this.peaks.outgoing = Math.max(this.peaks.outgoing, outgoing);
    this.peaks.incoming = Math.max(this.peaks.incoming, incoming);
    this.peaks.cluster = Math.max(this.peaks.cluster, inCluster);
    const limits = this.limits;
    if (limits === null) return;
    const at = `+${Date.now() - this.started}ms`;
    if (limits.outgoingPerHost > 0 && outgoing > limits.outgoingPerHost) this.overLimit.push(`${at} ${outgoing} migrations really leave ${from} (limit ${limits.outgoingPerHost})`);
    if (limits.incomingPerHost > 0 && incoming > limits.incomingPerHost) this.overLimit.push(`${at} ${incoming} migrations really reach ${to} (limit ${limits.incomingPerHost})`);
    if (limits.perCluster > 0 && inCluster > limits.perCluster) this.overLimit.push(`${at} ${inCluster} migrations really under way in ${cluster} (limit ${limits.perCluster})`);
  }

  /** VMs that really run on the host, or migrate from or to it. */
  occupantsOf(hostId: string): string[] {
    return [...this.vms.values()]
      .filter((vm) => vm.host === hostId || vm.migration?.from === hostId || vm.migration?.to === hostId)
      .map((vm) => `${vm.id}${vm.migration === null ? '' : ` (migrating ${vm.migration.from} → ${vm.migration.to})`}`);
  }

  /** A host whose migrations really under way include one towards `to` from one of `from`: the destination of an evacuation's migration. */
  destinationOfMigrationFrom(from: ReadonlySet<string>): string | null {
    for (const vm of this.vms.values()) {
      const m = vm.migration;
      if (m !== null && from.has(m.from) && this.hostState(m.to) === 'UP') return m.to;
    }
    return null;
  }

  private note(vmId: string, what: string): void {
    let lines = this.trace.get(vmId);
    if (lines === undefined) this.trace.set(vmId, (lines = []));
    lines.push(`+${Date.now() - this.started}ms ${what}`);
  }

  private notify(hostId: string, change: VmObservation): void {
    const host = this.hosts.get(hostId);
    if (host === undefined || host.state !== 'UP') return;
    for (const watcher of host.watchers) watcher(change);
  }
}
