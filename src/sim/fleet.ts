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
import { OutcomeChecker, type VmView } from './checker.js';
import { faultyDelivery, type DeliveryStats } from './faults.js';
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
  VMS_PAGE,
  type EventsPage,
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
  faults: {
    migrationFailure: 0.15,
    cancel: 0.05,
    vmCrashesPerMinute: 3,
    hostHangsPerMinute: 1,
    fenceFailure: 0.25,
    duplicateReport: 0.05,
    reorderReport: 0.05,
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
  delivery: DeliveryStats;
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

export class Fleet {
  readonly world: SimWorld;
  readonly checker: OutcomeChecker;
  readonly summary: FleetSummary;
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
    this.world = new SimWorld(this.random, { progressPerSecond: options.progressPerSecond, migrationFailure: options.faults.migrationFailure });
    this.checker = new OutcomeChecker(this.world);
    const headers: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
    this.urls = options.urls !== undefined && options.urls.length > 0 ? options.urls : [options.url];
    this.gql = this.urls.length === 1 ? graphqlHttp(options.url, { headers }) : failover(this.urls, headers);
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
      delivery: { duplicated: 0, reordered: 0 },
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
      const cluster = `cluster-${(i % clusters) + 1}`;
      this.world.addHost(this.hostId(i), cluster);
      const answer = await this.gql<{ registerHost: { errors: { code: string; message: string }[] } }>(REGISTER_HOST, { input: { hostId: this.hostId(i), cluster } });
      const problem = answer.errors?.[0] ?? answer.data?.registerHost.errors[0];
      if (problem !== undefined) throw new RefusedError(`Transit refused to register ${this.hostId(i)} (HTTP ${answer.status}): ${problem.message}`, answer.status);
    }
    for (let i = 0; i < vms; i++) this.world.addVm(this.vmId(i), this.hostId(i % hosts));
    this.observe();
    for (const hostId of this.world.hosts.keys()) this.startAgent(hostId);
    this.every(STEP_MS, () => this.world.step(STEP_MS));
    if (this.options.migrationsPerSecond > 0) this.every(1000 / this.options.migrationsPerSecond, () => void this.migrateOne());
    this.every(1000, () => this.injectFaults());
    this.every(250, () => void this.fenceHungHosts());
  }

  /** Stops starting migrations and injecting faults; hung hosts answer again, so the table can converge. */
  quiesce(): void {
    this.automationOn = false;
    this.faultsOn = false;
    for (const hostId of this.hungSince.keys()) this.world.unhang(hostId);
    this.hungSince.clear();
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
      }));
      const done = verdict.divergence.length === 0 && verdict.undecided.length === 0;
      if (done || Date.now() > deadline) return verdict;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Every way Transit disagrees with the simulated truth right now. */
  async verdict(): Promise<FleetVerdict> {
    const inFlight = await this.gql<InFlightPage>(IN_FLIGHT);
    const events = await this.gql<EventsPage>(SPLIT_BRAIN_EVENTS);
    if (!inFlight.data || !events.data) throw new Error(`queries failed: ${JSON.stringify(inFlight.errors ?? events.errors)}`);
    return {
      contradictions: this.checker.contradictions(),
      divergence: this.checker.divergence(await this.readVms()),
      // Only this run's VMs: an earlier run against the same Transit may have left its own behind.
      undecided: inFlight.data.migrations.edges
        .filter(({ node }) => this.world.vms.has(node.vm.id))
        .map(({ node }) => `${node.id} (VM ${node.vm.id})${node.stalled ? `: stalled, ${node.stalledReason}` : ''}`),
      splitBrain: events.data.events.edges.filter(({ node }) => node.vmId !== null && this.world.vms.has(node.vmId)).map(({ node }) => node.message),
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
    this.lastCursor = null;
    this.inFlightMigrations.clear();
    this.stalledMigrations.clear();
    this.downHosts.clear();
  }

  private onTransition(t: TransitionView): void {
    this.lastCursor = t.cursor;
    // Another run's VM (same Transit, other ids): not ours to count or check.
    if (t.vmId !== null && !this.world.vms.has(t.vmId)) return;
    if (t.hostStatusTo !== null && t.hostId !== null) {
      if (t.hostStatusTo === 'UP' || t.hostStatusTo === 'MAINTENANCE') this.downHosts.delete(t.hostId);
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
  }
}

export function formatSummary(s: FleetSummary): string {
  return (
    `in flight ${s.inFlight} · succeeded ${s.succeeded} · failed ${s.failed} (attempts failed ${s.failedAttempts}) · vm down ${s.vmDown} · cancelled ${s.cancelled} · ` +
    `reruns ${s.reruns} · stalled ${s.stalled} · hosts down ${s.hostsDown} · started ${s.started} · crashes ${s.crashes} · ` +
    `hangs ${s.hangs} · fences ${s.fences}/${s.fences + s.fenceFailures}`
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
