/**
 * What the table's rules work on: the state, the settings, and the table-wide order in which
 * reports are heard. The table owns it; the rule modules receive it with each command.
 */
import { Interned } from '../interned.js';
import type { EvacuationStore } from '../evacuation/evacuation-store.js';
import type { Side } from '../model.js';
import type { SchedulingLimits } from '../scheduling/scheduler.js';
import type { RecentOrders } from './recent-orders.js';
import type { TableState } from './table-state.js';

export interface RuleSettings {
  readonly epoch: string;
  readonly migrationStartTimeoutMs: number;
  readonly maxAttempts: number;
  /** Attempts in flight per host and per cluster (docs/contract.md §8); 0: no limit. */
  readonly limits: SchedulingLimits;
  /** A migration pending this long ends FAILED; 0: no queue deadline. */
  readonly migrationQueueTimeoutMs: number;
  /** A confirmed attempt whose progress has not risen for this long is aborted; 0: no such deadline. */
  readonly migrationProgressTimeoutMs: number;
  /** An attempt not completed within this long per GiB of the VM's memory (at least 2 GiB) is aborted; 0: no such deadline. */
  readonly migrationCompletionTimeoutPerGibMs: number;
  /** How long an ended attempt's orders stay redeliverable (issue 12, item 8). */
  readonly orderGraceMs: number;
}

/** Running totals of VM reports, for monitoring. */
export interface ReportCounts {
  /** Reports in batches the table accepted (applied or ignored one by one). */
  inAcceptedBatches: number;
  ignored: number;
  /** Reports in batches refused whole as out of order (STALE_REPORT). */
  outOfOrder: number;
  invalid: number;
}

export interface TableContext {
  readonly state: TableState;
  readonly settings: RuleSettings;
  /** The next position in the table-wide order of applied reports ("heard after", row 1). */
  nextHeard(): number;
  readonly reportCounts: ReportCounts;
  /** Evacuations of hosts (§9), with their indexes. */
  readonly evacuations: EvacuationStore;
  /** Orders of ended attempts, redelivered to an agent that subscribes again within the grace period. */
  readonly recentOrders: RecentOrders;
}

/** A side nothing has been heard from in the current attempt. */
const notHeardSides = new Interned<Side>(50_000);

/**
 * A side not heard yet, on `hostId` (null: not known). One shared object per host (interned.ts):
 * every new attempt and every entry found in a report holds one, and snapshots are immutable.
 */
export const notHeard = (hostId: string | null): Side =>
  notHeardSides.of(hostId ?? '', () => ({ hostId, report: null, heardOrder: 0, fenced: false, exitReason: null }));
