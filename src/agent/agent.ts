/**
 * A host agent: the small client a real host integration (a VDSM bridge) would run beside the
 * hypervisor. It connects to Transit over graphql-ws to follow its host's command stream, and
 * reports what the hypervisor observes over HTTP: a full report on a fixed cadence and a partial one
 * on every change.
 *
 * Contracts:
 * - Reports carry a `bootId` fixed per agent start and a `sequence` that increases with every batch,
 *   so the engine drops a delayed or duplicated batch instead of applying old news over new.
 * - Batches are sent one at a time; changes that arrive meanwhile are coalesced into the next one.
 *   A batch is never delivered late: one that fails is dropped and a fresh full report follows.
 * - The command stream is resubscribed after every reconnect, and the engine replays the orders
 *   still pending for the host first; orders are applied once each, keyed by
 *   (migrationId, attempt, kind), so a replay never starts a migration twice, and a migrate order
 *   that arrives after its attempt's cancel is dropped (the engine sends the cancel so that a late
 *   migrate order is not carried out).
 * - Clustered mode (docs/contract.md §13): an order carries the epoch of the engine that issued it,
 *   a fencing token; an order from an epoch lower than the highest the agent has seen comes from
 *   an engine that lost its lease, and is ignored. Given several processes (`urls`), the agent
 *   moves to the next one when the one it uses stops answering (a socket that misses a pong is
 *   dropped; a report that fails is sent to the next process).
 */
import { randomUUID } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import type { HypervisorAdapter, MigrationOrder, VmObservation } from './hypervisor.js';
import { graphqlHttp, type GraphQLRequest } from './graphql-http.js';
import { HOST_COMMANDS, REPORT_VM_STATUSES, type ReportResult } from './operations.js';

export interface ReportBatch {
  readonly hostId: string;
  readonly cluster: string | null;
  readonly bootId: string;
  readonly sequence: number;
  readonly full: boolean;
  readonly vms: readonly VmObservation[];
}

/** Sends one batch; resolves with the engine's answer. Replaceable so a simulator can delay or duplicate deliveries. */
export type ReportSender = (batch: ReportBatch) => Promise<ReportResult | null>;

export interface HostAgentOptions {
  /** The engine's graphql-ws endpoint, e.g. `ws://127.0.0.1:4000/graphql`. */
  readonly url: string;
  /** Clustered mode: every process's endpoint; the agent starts with the first and moves on when one stops answering. */
  readonly urls?: readonly string[];
  /** graphql-ws ping interval, in ms; a socket whose pong does not come within half of it is dropped. Default 10 000. */
  readonly keepAliveMs?: number;
  readonly hostId: string;
  readonly cluster?: string | null;
  readonly adapter: HypervisorAdapter;
  /** How often a full report is sent, in ms (VDSM's stats cadence). */
  readonly fullReportIntervalMs?: number;
  /** First reconnect delay, doubled on each failure up to `maxReconnectDelayMs`, with jitter. */
  readonly reconnectDelayMs?: number;
  readonly maxReconnectDelayMs?: number;
  /** A batch not answered within this many ms is given up; its news goes out with the next one. */
  readonly reportTimeoutMs?: number;
  /** Wraps the sender (fault injection). */
  readonly wrapSender?: (send: ReportSender) => ReportSender;
  readonly connectionParams?: Record<string, unknown>;
  /** Headers of the report requests (e.g. `authorization`). */
  readonly headers?: Record<string, string>;
  /** The host credential's token (`npm run token -- --role host --host <id>`), sent as `Bearer` on both connections. */
  readonly token?: string;
  readonly onError?: (error: unknown) => void;
}

export interface AgentStats {
  reportsSent: number;
  reportsRefused: number;
  ordersReceived: number;
  ordersApplied: number;
  /** Orders ignored because they came from an epoch lower than the highest seen (a stale engine). */
  ordersFenced: number;
  reconnects: number;
}

const ORDER_MEMORY = 10_000;

export class HostAgent {
  readonly bootId = randomUUID();
  readonly stats: AgentStats = { reportsSent: 0, reportsRefused: 0, ordersReceived: 0, ordersApplied: 0, ordersFenced: 0, reconnects: 0 };
  /** The highest engine epoch an order carried: the fencing token to beat. */
  private highestEpoch = 0;
  private readonly client: Client;
  private readonly send: ReportSender;
  private readonly applied = new Set<string>();
  private readonly changed = new Map<string, VmObservation>();
  private sequence = 0;
  private fullDue = true;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private unsubscribe: (() => void) | null = null;
  private stopped = false;
  private readonly posts: GraphQLRequest[];
  /** Which process the reports go to (clustered mode: the next one after a failure). */
  private postAt = 0;
  private socketAt = 0;

  constructor(private readonly options: HostAgentOptions) {
    const base = options.reconnectDelayMs ?? 250;
    const max = options.maxReconnectDelayMs ?? 5_000;
    const keepAlive = options.keepAliveMs ?? 10_000;
    const urls = options.urls !== undefined && options.urls.length > 0 ? options.urls : [options.url];
    // The host credential goes on both connections: the order stream and the reports.
    const authorization: Record<string, string> = options.token === undefined ? {} : { authorization: `Bearer ${options.token}` };
    let socket: { readyState: number; close(code: number, reason: string): void } | null = null;
    let pongDue: NodeJS.Timeout | null = null;
    this.client = createClient({
      // Each (re)connection tries the next process.
      url: () => urls[this.socketAt++ % urls.length] as string,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => !this.stopped,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(max, base * 2 ** retries) * (0.5 + Math.random() / 2))),
      keepAlive,
      connectionParams: options.token === undefined ? options.connectionParams : { ...options.connectionParams, ...authorization },
      onNonLazyError: (error) => this.options.onError?.(error),
      on: {
        connected: (connected, _payload, wasRetry) => {
          socket = connected as typeof socket;
          if (wasRetry) {
            this.stats.reconnects++;
            // The engine may have restarted and forgotten us: tell it everything again.
            this.fullDue = true;
            this.kick();
          }
        },
        // A process that stopped (paused, or its machine gone) keeps the socket open but never
        // answers: without a pong the socket is dropped, and the client reconnects elsewhere.
        ping: (received) => {
          if (received) return;
          if (pongDue !== null) clearTimeout(pongDue);
          pongDue = setTimeout(() => {
            if (socket !== null && socket.readyState === WebSocket.OPEN) socket.close(4408, 'pong timeout');
          }, keepAlive / 2);
        },
        pong: (received) => {
          if (received && pongDue !== null) clearTimeout(pongDue);
        },
        closed: () => {
          if (pongDue !== null) clearTimeout(pongDue);
        },
      },
    });
    this.posts = urls.map((url) =>
      graphqlHttp(url.replace(/^ws/, 'http'), {
        headers: { ...options.headers, ...authorization },
        timeoutMs: options.reportTimeoutMs ?? 10_000,
      }),
    );
    const direct: ReportSender = (batch) => this.request(batch);
    this.send = options.wrapSender ? options.wrapSender(direct) : direct;
  }

  start(): void {
    this.followOrders();
    this.unwatch = this.options.adapter.watch((change) => {
      this.changed.set(change.vmId, change);
      this.kick();
    });
    this.timer = setInterval(() => {
      this.fullDue = true;
      this.kick();
    }, this.options.fullReportIntervalMs ?? 2_000);
    this.kick();
  }

  /** Sends whatever is due now and resolves when nothing is left to send. */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.unwatch?.();
    this.unsubscribe?.();
    await this.flushing?.catch(() => undefined);
    await this.client.dispose();
  }

  /**
   * Subscribes to the host's orders. The client resubscribes by itself after a reconnect; when the
   * engine ends the stream (shutdown, SUBSCRIBER_TOO_SLOW), the agent subscribes again: the engine
   * replays the pending orders first, so none is missed.
   */
  private followOrders(): void {
    if (this.stopped) return;
    const again = () => {
      if (!this.stopped) setTimeout(() => this.followOrders(), this.options.reconnectDelayMs ?? 250);
    };
    this.unsubscribe = this.client.subscribe<{ hostCommands: MigrationOrder }>(
      { query: HOST_COMMANDS, variables: { hostId: this.options.hostId } },
      {
        next: (result) => {
          if (result.data?.hostCommands) this.onOrder(result.data.hostCommands);
          else if (result.errors) this.options.onError?.(result.errors);
        },
        error: (error) => {
          this.options.onError?.(error);
          again();
        },
        complete: again,
      },
    );
  }

  private onOrder(order: MigrationOrder): void {
    this.stats.ordersReceived++;
    if (order.epoch != null) {
      // A fencing token: an engine of a lower epoch lost its lease to the one that issued the highest.
      if (order.epoch < this.highestEpoch) {
        this.stats.ordersFenced++;
        return;
      }
      this.highestEpoch = order.epoch;
    }
    const key = `${order.migrationId}/${order.attempt}/${order.kind}`;
    if (this.applied.has(key)) return;
    // A migrate order that arrives after its attempt's cancel is late: the engine has given up on it.
    if (order.kind === 'MIGRATE' && this.applied.has(`${order.migrationId}/${order.attempt}/CANCEL`)) return;
    this.applied.add(key);
    if (this.applied.size > ORDER_MEMORY) this.applied.delete(this.applied.values().next().value as string);
    this.stats.ordersApplied++;
    // CANCEL: a cancel asked by an operator, or an abort Transit ordered after a deadline passed.
    if (order.kind === 'MIGRATE') this.options.adapter.migrate(order);
    else this.options.adapter.cancel(order);
  }

  private kick(): void {
    if (this.flushing !== null || this.stopped) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = null;
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (this.fullDue || this.changed.size > 0)) {
      const full = this.fullDue;
      // A full report supersedes the partial news gathered so far.
      const vms = full ? this.options.adapter.observe() : [...this.changed.values()];
      this.fullDue = false;
      this.changed.clear();
      const batch: ReportBatch = {
        hostId: this.options.hostId,
        cluster: this.options.cluster ?? null,
        bootId: this.bootId,
        sequence: ++this.sequence,
        full,
        vms,
      };
      try {
        const result = await this.send(batch);
        this.stats.reportsSent++;
        if (result !== null && result.reportVmStatuses.errors.length > 0) this.stats.reportsRefused++;
      } catch (error) {
        // Not delivered: the next full report carries the same truth.
        this.fullDue = true;
        this.options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, this.options.reconnectDelayMs ?? 250));
      }
    }
  }

  /**
   * One report, as one HTTP request. Not over the WebSocket: graphql-ws resends an operation that
   * was in flight when the connection dropped, so a batch computed before an engine restart could
   * reach the new engine after the fact, and a new engine has no sequence to refuse it by. A
   * batch that fails here is dropped; the next full report, computed afresh, replaces it.
   */
  private async request(batch: ReportBatch): Promise<ReportResult | null> {
    const post = this.posts[this.postAt % this.posts.length] as GraphQLRequest;
    try {
      return await this.report(post, batch);
    } catch (error) {
      this.postAt++; // clustered mode: the next process gets the next batch
      throw error;
    }
  }

  private async report(post: GraphQLRequest, batch: ReportBatch): Promise<ReportResult | null> {
    const result = await post<ReportResult>(REPORT_VM_STATUSES, {
      input: {
        hostId: batch.hostId,
        cluster: batch.cluster,
        bootId: batch.bootId,
        sequence: batch.sequence,
        full: batch.full,
        vms: batch.vms.map((vm) => ({
          vmId: vm.vmId,
          status: vm.status,
          progress: vm.progress ?? null,
          exitReason: vm.exitReason ?? null,
          peerHostId: vm.peerHostId ?? null,
          memoryMiB: vm.memoryMiB ?? null,
        })),
      },
    });
    if (!result.data) throw new Error(`report ${batch.sequence} refused: ${result.status} ${JSON.stringify(result.errors)}`);
    return result.data;
  }
}
