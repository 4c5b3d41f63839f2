/**
 * Report delivery faults: the network between a host agent and the engine may deliver a batch
 * twice, or late (after a newer one). Both must be harmless: the engine refuses the stale copy
 * (`STALE_REPORT`) and the agent's next full report carries the truth anyway.
 */
import type { ReportSender } from '../agent/agent.js';
import type { Random } from './random.js';

export interface DeliveryFaults {
  /** Chance a batch is delivered twice. */
  readonly duplicate: number;
  /** Chance a batch is held back and delivered after the next one. */
  readonly reorder: number;
}

export interface DeliveryStats {
  duplicated: number;
  reordered: number;
}

export function faultyDelivery(
  random: Random,
  faults: DeliveryFaults,
  stats: DeliveryStats,
  isReachable: () => boolean,
): (send: ReportSender) => ReportSender {
  return (send) => {
    let heldBack: Parameters<ReportSender>[0] | null = null;
    return async (batch) => {
      // A hung host's reports never leave it.
      if (!isReachable()) throw new Error('host is not answering');
      if (heldBack === null && random.chance(faults.reorder)) {
        stats.reordered++;
        heldBack = batch;
        return null; // the agent believes it went out
      }
      const result = await send(batch);
      if (heldBack !== null) {
        const late = heldBack;
        heldBack = null;
        await send(late).catch(() => null);
      }
      if (random.chance(faults.duplicate)) {
        stats.duplicated++;
        await send(batch).catch(() => null);
      }
      return result;
    };
  };
}
