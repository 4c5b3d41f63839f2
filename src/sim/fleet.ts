/**
 * A simulated fleet driving a running Transit through its public API only: host agents over
 * graphql-ws on simulated hypervisors, an automation loop that starts (and sometimes cancels)
 * migrations, a fencing agent for hosts that stop answering, and faults at chosen rates. It watches
 * the `transitions` stream and checks every verdict against the simulated truth.
 */
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { HostAgent } from '../agent/agent.js';
import type { MigrationOrder } from '../agent/hypervisor.js';
import { OutcomeChecker, SchedulingWatch, type LimitsView, type VmView } from './checker.js';
import { faultyDelivery, type DeliveryStats } from './faults.js';
import { MaintenanceOperator } from './maintenance.js';
import { graphqlHttp, type GraphQLRequest } from '../agent/graphql-http.js';
import {
  CANCEL_MIGRATION,
  IN_FLIGHT,
  MIGRATE_VM,
  REGISTER_HOST,
  REPORT_FENCE_RESULT,
  REPORT_HOST_STATUS,
  TRANSITIONS,
  SPLIT_BRAIN_EVENTS,
  RUNNING_EVACUATIONS,
  VMS_PAGE,
  type EventsPage,
  type RunningEvacuationsPage,
  type InFlightPage,
  type TransitionView,
  type VmsPage,
} from './operations.js';
import { seededRandom, type Random } from './random.js';
import { SimWorld } from './world.js';

export interface FleetOptions {
  /** Transit's GraphQL endpoint over HTTP, e.g. `http://127.0.0.1:4000/graphql`. */
  readonly url: string;
  /**
   * Clustered mode: every process's endpoint. Host agent i starts with process i (round robin) and
   * moves on when it stops answering; automation, fencing and the observer do the same.
   */
  readonly urls?: readonly string[];
  /** Host agents: graphql-ws ping interval and report timeout, in ms (the agent's defaults when absent). */
  readonly agentKeepAliveMs?: number;
  readonly agentReportTimeoutMs?: number;
  readonly hosts: number;
  readonly clusters: number;
  readonly vms: number;
  /** Migrations the automation starts per second. */
  readonly migrationsPerSecond: number;
  /** The automation stops after starting this many (0: no limit). */
  readonly maxMigrations: number;
  readonly seed: number;
  /** Pre-copy progress per second, in percent. */
  readonly progressPerSecond: number;
  readonly fullReportIntervalMs: number;
  readonly faults: FaultRates;
  /** How long a hung host is left before the fencing agent reports it and fences it, in ms. */
  readonly fenceAfterMs: number;
  /** How long a fenced host takes to boot again, in ms. */
  readonly rebootMs: number;
  /** Hosts the operator puts into maintenance by evacuation per minute (docs/contract.md §9). */
  readonly evacuationsPerMinute: number;
  /** How long a host stays in maintenance before it is put back into service, in ms. */
  readonly maintenanceMs: number;
  /** The limits the engine runs with (its TRANSIT_MAX_* settings), for the checker. */
  readonly limits: LimitsView;
  readonly onError?: (error: unknown) => void;
  /** Prefix of every host and VM id, so that runs against the same Transit never share an id (`npm run simulate` draws one). */
  readonly idPrefix?: string;
  /** Bearer token of the automation, the fencing agent and the observer (roles operator, fencer, viewer). */
  readonly token?: string;
  /** Bearer token of each host agent (a `host:<id>` credential); `token` when a host has none. */
  readonly agentTokens?: Readonly<Record<string, string>>;
}

export interface FaultRates {
  /** Chance a migration fails at hand-over. */
  readonly migrationFailure: number;
  /** Chance a started migration is cancelled shortly after. */
  readonly cancel: number;
  /** VM crashes per minute, across the fleet. */
  readonly vmCrashesPerMinute: number;
  /** Hosts that stop answering per minute, across the fleet. */
  readonly hostHangsPerMinute: number;
  /** Chance a fence attempt fails (the host then comes back by itself). */
  readonly fenceFailure: number;
  /** Chance a report batch is delivered twice. */
  readonly duplicateReport: number;
  /** Chance a report batch is delivered after the next one. */
  readonly reorderReport: number;
  /** Chance a started migration never converges (its progress stalls, or crawls short of 100): only Transit's deadlines end it. */
  readonly nonConverging: number;
}

export const DEFAULT_FLEET: Omit<FleetOptions, 'url'> = {
  hosts: 12,
  clusters: 2,
  vms: 120,
  migrationsPerSecond: 2,
  maxMigrations: 0,
  seed: 1,
  progressPerSecond: 40,
  fullReportIntervalMs: 2_000,
  fenceAfterMs: 3_000,
  rebootMs: 4_000,
  evacuationsPerMinute: 2,
  maintenanceMs: 10_000,
  limits: { maxOutgoingPerHost: 2, maxIncomingPerHost: 2, maxPerCluster: 5 },
  faults: {
    migrationFailure: 0.15,
    cancel: 0.05,
    vmCrashesPerMinute: 3,
    hostHangsPerMinute: 1,
    fenceFailure: 0.25,
    duplicateReport: 0.05,
    reorderReport: 0.05,
    nonConverging: 0.03,
  },
};

export interface FleetSummary {
  started: number;
  refused: number;
  inFlight: number;
  succeeded: number;
  /** Migrations that ended FAILED (all their attempts used, or not rerun). */
  failed: number;
  /** Attempts that ended FAILED, rerun or not. */
  failedAttempts: number;
  vmDown: number;
  cancelled: number;
  reruns: number;
  stalled: number;
  hostsDown: number;
  crashes: number;
  hangs: number;
  fences: number;
  fenceFailures: number;
  engineRestarts: number;
  /** Migrations seen waiting in the queue (PENDING). */
  queued: number;
  /** Attempts Transit aborted after a deadline passed. */
  aborted: number;
  /** Attempts that never converge, as the simulator drew them. */
  nonConverging: number;
  delivery: DeliveryStats;
  evacuationsRunning: number;
  evacuationsCompleted: number;
  evacuationsFailed: number;
}

/** What a quiet fleet still disagrees on; every list empty means Transit tells the truth. */
export interface FleetVerdict {
  /** Verdicts that contradict what really happened. */
  readonly contradictions: string[];
  /** VMs Transit places other than where they really run. */
  readonly divergence: string[];
  /** Migrations still in flight. */
  readonly undecided: string[];
  /** VM_RUNNING_ON_BOTH_HOSTS events: no VM really ran on two hosts. */
  readonly splitBrain: string[];
  /** Evacuations still running, with what holds each back. */
  readonly evacuating: string[];
  /** Attempts Transit started beyond a host's or a cluster's limit, seen in the transitions. */
  readonly limitViolations: string[];
  /** Attempts Transit aborted whose source got no CANCEL order. */
  readonly abortsWithoutCancel: string[];
}

const STEP_MS = 100;

/** An order a simulated hypervisor carried out (its host agent accepted it), as it was received. */
export interface CarriedOrder {
  readonly at: number;
  readonly hostId: string;
  readonly order: MigrationOrder;
}

/** A request sent to each process in turn until one answers with a GraphQL result (clustered mode). */
function failover(urls: readonly string[], headers: Record<string, string>): GraphQLRequest {
  const posts = urls.map((url) => graphqlHttp(url, { timeoutMs: 5_000, headers }));
  let at = 0;
  return async function request<T>(query: string, variables?: Record<string, unknown>) {
    let failure: unknown = null;
    for (let tried = 0; tried < posts.length; tried++) {
      const post = posts[at % posts.length] as GraphQLRequest;
      try {
        const result = await post<T>(query, variables);
        if (result.status !== 503) return result;
        failure = new Error(`${result.status}: ${JSON.stringify(result.errors)}`);
      } catch (error) {
        failure = error;
      }
      at++;
    }
    throw failure;
  } as GraphQLRequest;
}

/** Causes of the transition that starts an attempt Transit ordered (discovered ones start in a report). */
const STARTING_CAUSES = new Set(['MIGRATE_COMMAND', 'SCHEDULER', 'EVACUATION', 'RERUN']);

export class Fleet {
  readonly world: SimWorld;
  readonly checker: OutcomeChecker;
  readonly scheduling: SchedulingWatch;
  readonly summary: FleetSummary;
  /** The operator who evacuates hosts for maintenance and brings them back. */
  readonly maintenance: MaintenanceOperator;
  /** Each host's status as the transitions stream last showed it (attempts may start only towards UP ones). */
  private readonly hostStatus = new Map<string, string>();
  private readonly startsChecked = new Set<string>();
  private readonly random: Random;
  private readonly gql: GraphQLRequest;
  private readonly agents = new Map<string, HostAgent>();
  /** Every order the hypervisors carried out, oldest first (the latest 10 000). */
  readonly carriedOut: CarriedOrder[] = [];
  private readonly urls: readonly string[];
  private observerAt = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly stalledMigrations = new Set<string>();
  private readonly inFlightMigrations = new Set<string>();
  private readonly downHosts = new Set<string>();
  private readonly failedMigrations = new Set<string>();
  /** Hung hosts: since when, and the fence outcome a test asked for (else drawn at random). */
  private readonly hungSince = new Map<string, { since: number; fence: 'succeed' | 'fail' | null }>();
  private observer: Client | null = null;
  private lastCursor: string | null = null;
  private automationOn = true;
  private faultsOn = true;
  private stopped = false;

  constructor(private readonly options: FleetOptions) {
    this.random = seededRandom(options.seed);
    this.world = new SimWorld(this.random, {
      progressPerSecond: options.progressPerSecond,
      migrationFailure: options.faults.migrationFailure,
      nonConverging: options.faults.nonConverging,
    });
    this.world.limits = { outgoingPerHost: options.limits.maxOutgoingPerHost, incomingPerHost: options.limits.maxIncomingPerHost, perCluster: options.limits.maxPerCluster };
    this.checker = new OutcomeChecker(this.world);
    const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
    this.urls = options.urls !== undefined && options.urls.length > 0 ? options.urls : [options.url];
    this.gql = this.urls.length === 1 ? graphqlHttp(options.url, { headers }) : failover(this.urls, headers);
    this.scheduling = new SchedulingWatch(options.limits, (hostId) => this.world.hosts.get(hostId)?.cluster);
    this.maintenance = new MaintenanceOperator(this.gql, this.world, this.random, {
      evacuationsPerMinute: options.evacuationsPerMinute,
      maintenanceMs: options.maintenanceMs,
      onError: options.onError,
    });
    this.summary = {
      started: 0,
      refused: 0,
      inFlight: 0,
      succeeded: 0,
      failed: 0,
      failedAttempts: 0,
      vmDown: 0,
      cancelled: 0,
      reruns: 0,
      stalled: 0,
      hostsDown: 0,
      crashes: 0,
      hangs: 0,
      fences: 0,
      fenceFailures: 0,
      engineRestarts: 0,
      queued: 0,
      aborted: 0,
      nonConverging: 0,
      delivery: { duplicated: 0, reordered: 0 },
      evacuationsRunning: 0,
      evacuationsCompleted: 0,
      evacuationsFailed: 0,
    };
  }

  hostId(i: number): string {
    return `${this.options.idPrefix ?? ''}host-${String(i + 1).padStart(3, '0')}`;
  }

  vmId(i: number): string {
    return `${this.options.idPrefix ?? ''}vm-${String(i + 1).padStart(5, '0')}`;
  }

  /** Registers the hosts and starts everything; rejects, saying why, when Transit refuses the simulator. */
  async start(): Promise<void> {
    const { hosts, clusters, vms } = this.options;
    for (let i = 0; i < hosts; i++) {
      // Prefixed like the ids: a second run against the same Transit must not be placed on the hosts of the first.
      const cluster = `${this.options.idPrefix ?? ''}cluster-${(i % clusters) + 1}`;
      this.world.addHost(this.hostId(i), cluster);
      const answer = await this.gql<{ registerHost: { errors: { code: string; message: string }[] } }>(REGISTER_HOST, { input: { hostId: this.hostId(i), cluster } });
      const problem = answer.errors?.[0] ?? answer.data?.registerHost.errors[0];
      if (problem !== undefined) throw new RefusedError(`Transit refused to register ${this.hostId(i)} (HTTP ${answer.status}): ${problem.message}`, answer.status);
    }
    // 2, 3 and 4 GiB in turn: the completion deadline scales with the memory the agents report.
    for (let i = 0; i < vms; i++) this.world.addVm(this.vmId(i), this.hostId(i % hosts), 2_048 + 1_024 * (i % 3));
    this.observe();
    for (const hostId of this.world.hosts.keys()) this.startAgent(hostId);
    this.every(STEP_MS, () => this.world.step(STEP_MS));
    if (this.options.migrationsPerSecond > 0) this.every(1000 / this.options.migrationsPerSecond, () => void this.migrateOne());
    this.every(1000, () => this.injectFaults());
    this.every(250, () => void this.fenceHungHosts());
    this.every(1000, () => void this.maintenance.step().then(() => this.countEvacuations()));
  }

  /**
   * Stops starting migrations and injecting faults; hung hosts answer again, so the table can
   * converge. Migrations that never converge go on not converging with `keepNonConverging`
   * (Transit's deadlines must end them), else they converge from now on.
   */
  quiesce({ keepNonConverging = false }: { keepNonConverging?: boolean } = {}): void {
    this.automationOn = false;
    this.faultsOn = false;
    this.maintenance.quiesce();
    for (const hostId of this.hungSince.keys()) this.world.unhang(hostId);
    this.hungSince.clear();
    if (!keepNonConverging) this.world.letEveryMigrationConverge();
  }

  get migrationsStarted(): number {
    return this.summary.started;
  }

  /** Every agent has sent its latest news. */
  async flushAgents(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.flush()));
  }

  /** Transit's view of every VM, read through `vms`. */
  async readVms(): Promise<Map<string, VmView>> {
    const view = new Map<string, VmView>();
    let after: string | null = null;
    for (;;) {
      const page: { data?: VmsPage | null } = await this.gql<VmsPage>(VMS_PAGE, { after });
      if (!page.data) throw new Error('vms query failed');
      for (const { node } of page.data.vms.edges) view.set(node.id, { id: node.id, status: node.status, hostId: node.host?.id ?? null });
      if (!page.data.vms.pageInfo.hasNextPage) return view;
      after = page.data.vms.pageInfo.endCursor;
    }
  }

  /** A VM that runs, not migrating, on a host that answers, crashes now. Returns its id. */
  injectCrash(): string | null {
    const vmId = this.random.pick(this.world.movableVms());
    if (vmId === undefined) return null;
    this.world.crash(vmId);
    this.summary.crashes++;
    return vmId;
  }

  /** A host that answers stops answering now; the fencing agent deals with it after `fenceAfterMs`. */
  injectHang(fence: 'succeed' | 'fail' | null = null): string | null {
    const host = this.random.pick([...this.world.hosts.values()].filter((h) => h.state === 'UP'));
    if (host === undefined) return null;
    this.world.hang(host.id);
    this.hungSince.set(host.id, { since: Date.now(), fence });
    this.summary.hangs++;
    return host.id;
  }

  /**
   * A host that answers and receives a migration of an evacuation under way stops answering now
   * (docs/contract.md §3 during §9); the fencing agent deals with it after `fenceAfterMs`.
   */
  injectHangOfEvacuationDestination(fence: 'succeed' | 'fail' | null = null): string | null {
    const hostId = this.world.destinationOfMigrationFrom(this.maintenance.drainingHosts());
    if (hostId === null) return null;
    this.world.hang(hostId);
    this.hungSince.set(hostId, { since: Date.now(), fence });
    this.summary.hangs++;
    return hostId;
  }

  /**
   * After `quiesce`: waits until Transit has decided every migration and its view of every VM
   * matches the truth, or `timeoutMs` passes. Returns what still disagrees (all empty: converged).
   */
  async converge(timeoutMs: number): Promise<FleetVerdict> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const verdict = await this.verdict().catch((error: unknown) => ({
        contradictions: [],
        divergence: [`Transit did not answer: ${error instanceof Error ? error.message : String(error)}`],
        undecided: [],
        splitBrain: [],
        evacuating: [],
        limitViolations: [],
        abortsWithoutCancel: [],
      }));
      const done = verdict.divergence.length === 0 && verdict.undecided.length === 0 && verdict.evacuating.length === 0;
      if (done || Date.now() > deadline) return verdict;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Every way Transit disagrees with the simulated truth right now. */
  async verdict(): Promise<FleetVerdict> {
    const inFlight = await this.gql<InFlightPage>(IN_FLIGHT);
    const events = await this.gql<EventsPage>(SPLIT_BRAIN_EVENTS);
    const evacuations = await this.gql<RunningEvacuationsPage>(RUNNING_EVACUATIONS);
    if (!inFlight.data || !events.data || !evacuations.data) throw new Error(`queries failed: ${JSON.stringify(inFlight.errors ?? events.errors ?? evacuations.errors)}`);
    return {
      evacuating: evacuations.data.evacuations.edges.map(
        ({ node }) => `${node.id} of ${node.host.id}: ${node.remaining} VMs left${node.blockers.length > 0 ? `; ${node.blockers.map((b) => `${b.vm.id}: ${b.reason}`).join('; ')}` : ''}`,
      ),
      contradictions: this.checker.contradictions(),
      divergence: this.checker.divergence(await this.readVms()),
      // Only this run's VMs: an earlier run against the same Transit may have left its own behind.
      undecided: [
        ...inFlight.data.migrations.edges
          .filter(({ node }) => this.world.vms.has(node.vm.id))
          .map(
            ({ node }) => `${node.id} (VM ${node.vm.id})${node.stalled ? `: stalled, ${node.stalledReason}` : ''}${node.blockedBy.length > 0 ? `; blocked by ${node.blockedBy.map((b) => b.code).join(', ')}` : ''}`,
          ),
        ...inFlight.data.pending.edges
          .filter(({ node }) => this.world.vms.has(node.vm.id))
          .map(({ node }) => `${node.id} (VM ${node.vm.id}): pending, ${node.waitingReason}`),
      ],
      splitBrain: events.data.events.edges.filter(({ node }) => node.vmId !== null && this.world.vms.has(node.vmId)).map(({ node }) => node.message),
      limitViolations: [...this.scheduling.violations],
      abortsWithoutCancel: this.scheduling.abortsWithoutCancel(this.world),
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([...this.agents.values()].map((a) => a.stop()));
    this.agents.clear();
    await this.observer?.dispose();
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  private wsUrl(): string {
    return this.options.url.replace(/^http/, 'ws');
  }

  /** The processes in the order agent `index` tries them: its own first (round robin). */
  private urlsFor(index: number): string[] {
    const ws = this.urls.map((url) => url.replace(/^http/, 'ws'));
    return [...ws.slice(index % ws.length), ...ws.slice(0, index % ws.length)];
  }

  private startAgent(hostId: string): void {
    const host = this.world.hosts.get(hostId);
    const adapter = this.world.adapterFor(hostId);
    const carried = (order: MigrationOrder) => {
      this.carriedOut.push({ at: Date.now(), hostId, order });
      if (this.carriedOut.length > 10_000) this.carriedOut.shift();
    };
    const index = [...this.world.hosts.keys()].indexOf(hostId);
    const agent = new HostAgent({
      url: this.wsUrl(),
      urls: this.urlsFor(index),
      keepAliveMs: this.options.agentKeepAliveMs,
      reportTimeoutMs: this.options.agentReportTimeoutMs,
      hostId,
      cluster: host?.cluster ?? null,
      adapter: {
        observe: () => adapter.observe(),
        watch: (onChange) => adapter.watch(onChange),
        migrate: (order) => {
          carried(order);
          adapter.migrate(order);
        },
        cancel: (order) => {
          carried(order);
          adapter.cancel(order);
        },
      },
      fullReportIntervalMs: this.options.fullReportIntervalMs,
      wrapSender: faultyDelivery(
        this.random,
        { duplicate: this.options.faults.duplicateReport, reorder: this.options.faults.reorderReport },
        this.summary.delivery,
        () => this.world.hostState(hostId) === 'UP',
      ),
      onError: this.options.onError,
      token: this.options.agentTokens?.[hostId] ?? this.options.token,
    });
    this.agents.set(hostId, agent);
    agent.start();
  }

  private async restartAgent(hostId: string): Promise<void> {
    const old = this.agents.get(hostId);
    this.agents.delete(hostId);
    await old?.stop();
    this.startAgent(hostId);
  }

  private async migrateOne(): Promise<void> {
    const max = this.options.maxMigrations;
    if (!this.automationOn || (max > 0 && this.summary.started >= max)) return;
    const vmId = this.random.pick(this.world.movableVms());
    if (vmId === undefined) return;
    const result = await this.gql<{ migrateVm: { migration: { id: string } | null; errors: { code: string }[] } }>(MIGRATE_VM, {
      input: { vmId },
    }).catch((error: unknown) => {
      this.options.onError?.(error);
      return null;
    });
    const migration = result?.data?.migrateVm.migration;
    if (!migration) {
      this.summary.refused++;
      return;
    }
    this.summary.started++;
    if (this.random.chance(this.options.faults.cancel)) {
      setTimeout(() => void this.gql(CANCEL_MIGRATION, { input: { migrationId: migration.id } }).catch(() => null), this.random.int(50, 800));
    }
  }

  private injectFaults(): void {
    if (!this.faultsOn) return;
    const { vmCrashesPerMinute, hostHangsPerMinute } = this.options.faults;
    if (this.random.chance(vmCrashesPerMinute / 60)) this.injectCrash();
    // Keep most of the fleet up: at most a sixth of the hosts down at once.
    const up = [...this.world.hosts.values()].filter((h) => h.state === 'UP').length;
    if (this.random.chance(hostHangsPerMinute / 60) && up > (this.options.hosts * 5) / 6) this.injectHang();
  }

  /** The fencing agent: a host silent for `fenceAfterMs` is reported NON_RESPONSIVE, then fenced. */
  private async fenceHungHosts(): Promise<void> {
    for (const [hostId, { since, fence }] of [...this.hungSince]) {
      if (Date.now() - since < this.options.fenceAfterMs) continue;
      this.hungSince.delete(hostId);
      await this.gql(REPORT_HOST_STATUS, { input: { hostId, status: 'NON_RESPONSIVE' } }).catch(() => null);
      const succeeded = fence === null ? !this.random.chance(this.options.faults.fenceFailure) : fence === 'succeed';
      if (succeeded) this.world.fence(hostId);
      await this.gql(REPORT_FENCE_RESULT, {
        input: { hostId, succeeded, method: 'AUTOMATIC', message: succeeded ? 'power cycled by the simulator' : 'the power switch did not answer' },
      }).catch(() => null);
      if (succeeded) {
        this.summary.fences++;
        setTimeout(() => {
          this.world.bootAgain(hostId);
          void this.restartAgent(hostId);
        }, this.options.rebootMs);
      } else {
        this.summary.fenceFailures++;
        setTimeout(() => this.world.unhang(hostId), this.options.rebootMs);
      }
    }
  }

  private countEvacuations(): void {
    this.summary.evacuationsRunning = this.maintenance.running;
    this.summary.evacuationsCompleted = this.maintenance.completed;
    this.summary.evacuationsFailed = this.maintenance.failed;
  }

  /**
   * docs/contract.md §9 as the stream shows it: a host whose evacuation completes (it becomes
   * MAINTENANCE) really runs no VM, and Transit starts an attempt only towards a host it shows UP.
   */
  private checkEvacuationRules(t: TransitionView): void {
    if (t.hostStatusTo !== null && t.hostId !== null) {
      this.hostStatus.set(t.hostId, t.hostStatusTo);
      if (t.hostStatusTo === 'MAINTENANCE' && t.cause === 'EVACUATION') this.checker.evacuationCompleted(t.hostId);
    }
    const m = t.migration;
    const attempt = m?.attempts[m.attempts.length - 1];
    if (m === null || attempt === undefined || m.state !== 'IN_PROGRESS' || attempt.state !== 'IN_PROGRESS' || attempt.destination === null) return;
    if (!STARTING_CAUSES.has(t.cause) || attempt.startedAt !== t.at) return;
    const key = `${m.id}/${attempt.attempt}`;
    if (this.startsChecked.has(key)) return;
    this.startsChecked.add(key);
    this.checker.attemptStarted(m.id, attempt.attempt, attempt.destination.id, this.hostStatus.get(attempt.destination.id));
  }

  private observe(): void {
    // No automatic retry: the client would resubscribe with the cursor of the first subscribe.
    // The observer resubscribes itself, always from the last cursor it saw.
    const urls = this.urlsFor(0);
    this.observer = createClient({
      url: () => urls[this.observerAt++ % urls.length] as string,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: this.options.token === undefined ? {} : { authorization: `Bearer ${this.options.token}` },
    });
    this.subscribeTransitions();
  }

  private subscribeTransitions(): void {
    if (this.stopped) return;
    const again = () => setTimeout(() => this.subscribeTransitions(), 300);
    this.observer?.subscribe<{ transitions: TransitionView }>(
      { query: TRANSITIONS, variables: { after: this.lastCursor } },
      {
        next: (result) => {
          if (result.data?.transitions) this.onTransition(result.data.transitions);
          // The stream's end arrives as a result with errors: after an engine restart the old cursor
          // is refused (RESYNC_REQUIRED), and the observer starts over, fresh.
          else if (result.errors?.some((e) => e.extensions?.code === 'RESYNC_REQUIRED')) this.resync();
          else if (result.errors) this.options.onError?.(result.errors);
        },
        error: (error: unknown) => {
          // A refused token closes the socket with 4403: say so rather than retry forever.
          if ((error as { code?: unknown } | null)?.code === 4403) this.options.onError?.(new RefusedError('Transit refused the observer\'s WebSocket (4403): the token is missing or may not subscribe', 403));
          again(); // the engine is away: try again from the last cursor
        },
        complete: again,
      },
    );
  }

  private resync(): void {
    this.summary.engineRestarts++;
    this.maintenance.engineRestarted();
    this.hostStatus.clear();
    this.lastCursor = null;
    this.scheduling.reset();
    this.inFlightMigrations.clear();
    this.stalledMigrations.clear();
    this.downHosts.clear();
  }

  private onTransition(t: TransitionView): void {
    this.lastCursor = t.cursor;
    // Another run's VM (same Transit, other ids): not ours to count or check.
    if (t.vmId !== null && !this.world.vms.has(t.vmId)) return;
    this.checkEvacuationRules(t);
    this.scheduling.observe(t);
    if (t.hostStatusTo !== null && t.hostId !== null) {
      if (t.hostStatusTo === 'UP' || t.hostStatusTo === 'MAINTENANCE' || t.hostStatusTo === 'PREPARING_FOR_MAINTENANCE') this.downHosts.delete(t.hostId);
      else this.downHosts.add(t.hostId);
    }
    const m = t.migration;
    if (m !== null) {
      if (t.cause === 'RERUN') this.summary.reruns++;
      if (m.state === 'IN_PROGRESS') {
        this.inFlightMigrations.add(m.id);
        if (m.stalled) this.stalledMigrations.add(m.id);
        else this.stalledMigrations.delete(m.id);
      } else {
        this.inFlightMigrations.delete(m.id);
        this.stalledMigrations.delete(m.id);
      }
      for (const a of m.attempts) {
        if (a.state === 'IN_PROGRESS') continue;
        this.checker.record({
          migrationId: m.id,
          attempt: a.attempt,
          vmId: t.vmId ?? '',
          sourceHostId: m.source?.id ?? null,
          destinationHostId: a.destination?.id ?? null,
          state: a.state,
          startedAt: Date.parse(a.startedAt),
        });
      }
    }
    const s = this.summary;
    s.inFlight = this.inFlightMigrations.size;
    s.stalled = this.stalledMigrations.size;
    s.hostsDown = this.downHosts.size;
    s.succeeded = this.checker.countBy('SUCCEEDED');
    if (m !== null && m.state === 'FAILED') this.failedMigrations.add(m.id);
    s.failed = this.failedMigrations.size;
    s.failedAttempts = this.checker.countBy('FAILED');
    s.vmDown = this.checker.countBy('VM_DOWN');
    s.cancelled = this.checker.countBy('CANCELLED');
    s.queued = this.scheduling.queued.size;
    s.aborted = this.scheduling.abortedAttempts;
    s.nonConverging = this.world.nonConverging.size;
  }
}

export function formatSummary(s: FleetSummary): string {
  const evacuations = `evacuations running ${s.evacuationsRunning} · completed ${s.evacuationsCompleted} · failed ${s.evacuationsFailed}`;
  return (
    `in flight ${s.inFlight} · succeeded ${s.succeeded} · failed ${s.failed} (attempts failed ${s.failedAttempts}) · vm down ${s.vmDown} · cancelled ${s.cancelled} · ` +
    `reruns ${s.reruns} · stalled ${s.stalled} · hosts down ${s.hostsDown} · started ${s.started} · crashes ${s.crashes} · ` +
    `hangs ${s.hangs} · fences ${s.fences}/${s.fences + s.fenceFailures} · queued ${s.queued} · aborted ${s.aborted}/${s.nonConverging} never converging · ${evacuations}`
  );
}

/** Transit refused the simulator's credential (or its lack of one). */
export class RefusedError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}
