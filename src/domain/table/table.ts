/**
 * The migration table: the one owner of Transit's state (seed: "the table of VMs statuses will be
 * kept in memory - it will be shared between all hosts"), assembled from three parts with one job
 * each:
 * - `commands.ts`, the command side: the only writer; every command is all or nothing;
 * - `read-side.ts`, the read side: queries, pages, statistics, history, pending orders;
 * - `publisher.ts`, publishing: hands each command's changes to the listeners.
 * This class only wires them and lends their members under one name, so callers hold one table.
 *
 * Time comes only from the injected clock; timeouts fire only when `tick()` is called.
 */
import type { EngineEvent, Millis, Transition } from '../model.js';
import type { SchedulingLimits } from '../scheduling/scheduler.js';
import { DEFAULT_INPUT_LIMITS, type InputLimits } from '../validation.js';
import { EvacuationStore } from '../evacuation/evacuation-store.js';
import { BoundedLog } from './bounded-log.js';
import { TableCommands, type TableFailedError } from './commands.js';
import { ChangePublisher, type ChangeListener } from './publisher.js';
import { TableReader } from './read-side.js';
import { RecentOrders } from './recent-orders.js';
import type { ReportCounts, TableContext } from './table-context.js';
import { TableState } from './table-state.js';

export type { ChangeListener, ChangeSet } from './publisher.js';
export type { ReportTotals, TableStats } from './read-side.js';
export { TableFailedError } from './commands.js';

export interface TableOptions {
  /** Identifies this engine run; part of every cursor, so cursors of an earlier run are refused. */
  readonly epoch: string;
  /** The engine's clock, in milliseconds since the Unix epoch. */
  readonly clock: () => Millis;
  /** A host that has not reported for this long becomes NON_RESPONSIVE. */
  readonly hostTimeoutMs: number;
  /** An attempt the source has not confirmed within this long ends FAILED. */
  readonly migrationStartTimeoutMs: number;
  /** At most this many hosts are tried for one migration (oVirt's MaxRerunVmOnVdsCount). */
  readonly maxAttempts: number;
  /** Transitions, events and decided migrations kept, each, for queries and resume. */
  readonly historyLimit: number;
  /** Attempts in flight per host (outgoing, incoming) and per cluster; 0: no limit. Default 2/2/5 (docs/contract.md §8). */
  readonly limits?: SchedulingLimits;
  /** A migration pending this long ends FAILED; 0 (default): no queue deadline. */
  readonly migrationQueueTimeoutMs?: number;
  /** A confirmed attempt whose progress has not risen for this long is aborted; 0: never. Default 150 000. */
  readonly migrationProgressTimeoutMs?: number;
  /** An attempt not completed within this long per GiB of memory (at least 2 GiB) is aborted; 0: never. Default 150 000. */
  readonly migrationCompletionTimeoutPerGibMs?: number;
  /** How long the orders of an ended attempt (a start timeout's CANCEL) are redelivered to an agent that subscribes again. */
  readonly orderGraceMs?: number;
  /** Most VMs on one host, running there or migrating to it (docs/contract.md §11). */
  readonly maxVmsPerHost?: number;
  /** Most hosts known at once (docs/contract.md §11). */
  readonly maxHosts?: number;
  /** A VM DOWN on no host that no report has named for this long is forgotten (docs/contract.md §11). */
  readonly vmRetentionMs?: number;
  /** VMs one tick may mark UNKNOWN or forget; the rest waits for the next tick (at most 100 ms a step). */
  readonly tickBudgetVms?: number;
  readonly inputLimits?: InputLimits;
  /** Where a listener's failure goes (the command it heard of stays applied). Default: dropped, counted. */
  readonly onListenerError?: (error: unknown) => void;
  /** Told once when a rule fails part-way and the table fails stop (the server restarts the engine). */
  readonly onFailure?: (error: TableFailedError) => void;
  /**
   * Whether a batch that repeats its host's last quiet one is skipped (`QuietBatches`); default
   * true. Off, every batch is applied item by item: the differential test compares the two.
   */
  readonly skipQuietRepeats?: boolean;
  /** Tests only: sees every recorded step of a command and may throw (see `commands.ts`). */
  readonly faultInjection?: (step: Transition | EngineEvent) => void;
}

export const DEFAULT_TABLE_SETTINGS = Object.freeze({
  hostTimeoutMs: 60_000,
  migrationStartTimeoutMs: 30_000,
  maxAttempts: 3,
  historyLimit: 100_000,
  /** As VDSM's `max_outgoing_migrations` and `max_incoming_migrations`, and KubeVirt's `parallelMigrationsPerCluster`. */
  limits: Object.freeze({ maxOutgoingPerHost: 2, maxIncomingPerHost: 2, maxPerCluster: 5 }) as SchedulingLimits,
  migrationQueueTimeoutMs: 0,
  /** As KubeVirt's `progressTimeout` and oVirt's 150 s. */
  migrationProgressTimeoutMs: 150_000,
  /** As KubeVirt's `completionTimeoutPerGiB`. */
  migrationCompletionTimeoutPerGibMs: 150_000,
  orderGraceMs: 300_000,
  maxVmsPerHost: 2_000,
  maxHosts: 10_000,
  vmRetentionMs: 86_400_000,
  tickBudgetVms: 20_000,
});

export class MigrationTable extends TableReader {
  private readonly commands: TableCommands;
  private readonly publisher: ChangePublisher;

  constructor(options: TableOptions) {
    const state = new TableState(options.historyLimit, options.clock, options.skipQuietRepeats ?? true);
    const transitions = new BoundedLog<Transition>(options.historyLimit);
    const events = new BoundedLog<EngineEvent>(options.historyLimit);
    const reportCounts: ReportCounts = { inAcceptedBatches: 0, ignored: 0, outOfOrder: 0, invalid: 0 };
    const evacuations = new EvacuationStore(options.historyLimit);
    /** Orders every report the table applies, across hosts ("heard after", row 1). */
    let heardOrder = 0;
    const ctx: TableContext = {
      state,
      settings: {
        epoch: options.epoch,
        migrationStartTimeoutMs: options.migrationStartTimeoutMs,
        maxAttempts: options.maxAttempts,
        limits: options.limits ?? DEFAULT_TABLE_SETTINGS.limits,
        migrationQueueTimeoutMs: options.migrationQueueTimeoutMs ?? DEFAULT_TABLE_SETTINGS.migrationQueueTimeoutMs,
        migrationProgressTimeoutMs: options.migrationProgressTimeoutMs ?? DEFAULT_TABLE_SETTINGS.migrationProgressTimeoutMs,
        migrationCompletionTimeoutPerGibMs: options.migrationCompletionTimeoutPerGibMs ?? DEFAULT_TABLE_SETTINGS.migrationCompletionTimeoutPerGibMs,
        orderGraceMs: options.orderGraceMs ?? DEFAULT_TABLE_SETTINGS.orderGraceMs,
      },
      nextHeard: () => ++heardOrder,
      reportCounts,
      evacuations,
      recentOrders: new RecentOrders(options.historyLimit),
    };
    const publisher = new ChangePublisher(options.onListenerError ?? (() => {}));
    const commands = new TableCommands(
      {
        clock: options.clock,
        hostTimeoutMs: options.hostTimeoutMs,
        migrationStartTimeoutMs: options.migrationStartTimeoutMs,
        limits: options.inputLimits ?? DEFAULT_INPUT_LIMITS,
        bounds: {
          maxVmsPerHost: options.maxVmsPerHost ?? DEFAULT_TABLE_SETTINGS.maxVmsPerHost,
          maxHosts: options.maxHosts ?? DEFAULT_TABLE_SETTINGS.maxHosts,
          vmRetentionMs: options.vmRetentionMs ?? DEFAULT_TABLE_SETTINGS.vmRetentionMs,
          maxDownVms: options.historyLimit,
          tickBudgetVms: options.tickBudgetVms ?? DEFAULT_TABLE_SETTINGS.tickBudgetVms,
        },
        faultInjection: options.faultInjection,
      },
      { state, ctx, transitions, events, publisher, onFailure: options.onFailure ?? (() => {}) },
    );
    super({ epoch: options.epoch, startedAt: options.clock(), state, evacuations, transitions, events, reportCounts, recentOrders: ctx.recentOrders, latestSeq: () => commands.latestSeq });
    this.commands = commands;
    this.publisher = publisher;
  }

  // ---- the command side ---------------------------------------------------------------------
  // Each takes its input and who sends it (`actor`: the credential's name; `open` when not given).
  readonly registerHost: TableCommands['registerHost'] = (input, actor) => this.commands.registerHost(input, actor);
  readonly migrateVm: TableCommands['migrateVm'] = (input, actor) => this.commands.migrateVm(input, actor);
  readonly cancelMigration: TableCommands['cancelMigration'] = (input, actor) => this.commands.cancelMigration(input, actor);
  readonly reportVmStatuses: TableCommands['reportVmStatuses'] = (input, actor) => this.commands.reportVmStatuses(input, actor);
  readonly reportHostStatus: TableCommands['reportHostStatus'] = (input, actor) => this.commands.reportHostStatus(input, actor);
  readonly reportFenceResult: TableCommands['reportFenceResult'] = (input, actor) => this.commands.reportFenceResult(input, actor);
  readonly evacuateHost: TableCommands['evacuateHost'] = (input, actor) => this.commands.evacuateHost(input, actor);
  readonly cancelEvacuation: TableCommands['cancelEvacuation'] = (input, actor) => this.commands.cancelEvacuation(input, actor);
  readonly removeHost: TableCommands['removeHost'] = (input, actor) => this.commands.removeHost(input, actor);
  /** Fires what the clock says is due (host, start, progress and completion timeouts; the scheduler; order grace; retention), as the engine. */
  readonly tick = (): void => this.commands.tick();

  /** The error that stopped the table, or null while it works. */
  get failedWith(): TableFailedError | null {
    return this.commands.failedWith;
  }

  // ---- publishing ---------------------------------------------------------------------------
  subscribe(listener: ChangeListener): () => void {
    return this.publisher.subscribe(listener);
  }

  /** Listener calls that threw since the engine started (monitoring). */
  get listenerFailures(): number {
    return this.publisher.listenerFailures;
  }
}
