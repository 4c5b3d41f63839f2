/**
 * The simulator's check of the scheduler from the transitions stream (docs/contract.md §8): it must
 * catch a start beyond a limit and an abort whose source got no CANCEL order, and must not blame
 * the engine for migrations found in the reports.
 */
import { describe, expect, it } from 'vitest';
import { SchedulingWatch } from '../../src/sim/checker.js';
import type { TransitionView } from '../../src/sim/operations.js';
import { seededRandom } from '../../src/sim/random.js';
import { SimWorld } from '../../src/sim/world.js';

const LIMITS = { maxOutgoingPerHost: 2, maxIncomingPerHost: 2, maxPerCluster: 5 };
const CLUSTERS: Record<string, string> = { a: 'c1', b: 'c1', c: 'c1', d: 'c1', e: 'c2' };

let seq = 0;
function transition(cause: string, id: string, state: string, source: string, destination: string | null, extra: { attempt?: number; abortReason?: string | null } = {}): TransitionView {
  return {
    cursor: `e:${++seq}`,
    cause,
    vmId: `vm-${id}`,
    hostId: source,
    hostStatusTo: null,
    migration: {
      id,
      state,
      stalled: false,
      attempt: extra.attempt ?? 1,
      abortReason: extra.abortReason ?? null,
      startedAt: new Date(0).toISOString(),
      source: { id: source },
      destination: destination === null ? null : { id: destination },
      attempts: [],
    },
  };
}

const watch = () => new SchedulingWatch(LIMITS, (hostId) => CLUSTERS[hostId]);

describe('the scheduling watch', () => {
  it('should accept starts within the limits and flag the one beyond a host’s outgoing limit', () => {
    const w = watch();
    w.observe(transition('MIGRATE_COMMAND', 'm1', 'IN_PROGRESS', 'a', 'b'));
    w.observe(transition('SCHEDULER', 'm2', 'IN_PROGRESS', 'a', 'c'));
    expect(w.violations).toEqual([]);
    w.observe(transition('SCHEDULER', 'm3', 'IN_PROGRESS', 'a', 'd'));
    expect(w.violations).toEqual([expect.stringMatching(/a outgoing had 3 in flight \(limit 2\) when m3 attempt 1 started/)]);
  });

  it('should free a slot when an attempt ends or goes back to the queue', () => {
    const w = watch();
    w.observe(transition('MIGRATE_COMMAND', 'm1', 'IN_PROGRESS', 'a', 'b'));
    w.observe(transition('MIGRATE_COMMAND', 'm2', 'IN_PROGRESS', 'c', 'b'));
    w.observe(transition('HOST_REPORT', 'm1', 'SUCCEEDED', 'a', 'b'));
    w.observe(transition('RERUN', 'm2', 'PENDING', 'c', null, { attempt: 2 }));
    w.observe(transition('MIGRATE_COMMAND', 'm3', 'IN_PROGRESS', 'd', 'b'));
    w.observe(transition('SCHEDULER', 'm2', 'IN_PROGRESS', 'c', 'b', { attempt: 2 }));
    expect(w.violations).toEqual([]);
    expect(w.queued).toEqual(new Set(['m2']));
  });

  it('should count found migrations, never blame them, and flag an engine start they leave no room for', () => {
    const w = watch();
    w.observe(transition('HOST_REPORT', 'd1', 'IN_PROGRESS', 'a', 'b'));
    w.observe(transition('HOST_REPORT', 'd2', 'IN_PROGRESS', 'c', 'b'));
    w.observe(transition('HOST_REPORT', 'd3', 'IN_PROGRESS', 'd', 'b'));
    expect(w.violations).toEqual([]);
    w.observe(transition('SCHEDULER', 'm1', 'IN_PROGRESS', 'e', 'b'));
    expect(w.violations).toEqual([expect.stringMatching(/b incoming had 4 in flight/)]);
  });

  it('should flag the cluster limit', () => {
    const w = new SchedulingWatch({ ...LIMITS, maxPerCluster: 2 }, (hostId) => CLUSTERS[hostId]);
    w.observe(transition('MIGRATE_COMMAND', 'm1', 'IN_PROGRESS', 'a', 'b'));
    w.observe(transition('MIGRATE_COMMAND', 'm2', 'IN_PROGRESS', 'c', 'd'));
    w.observe(transition('MIGRATE_COMMAND', 'm3', 'IN_PROGRESS', 'b', 'a'));
    expect(w.violations).toEqual([expect.stringMatching(/cluster c1 had 3 in flight \(limit 2\)/)]);
  });

  it('should list every aborted attempt whose source got no CANCEL order', () => {
    const world = new SimWorld(seededRandom(1), { progressPerSecond: 10, migrationFailure: 0 });
    world.addHost('a', 'c1');
    world.addVm('vm-m1', 'a');
    const w = watch();
    w.observe(transition('PROGRESS_TIMEOUT', 'm1', 'IN_PROGRESS', 'a', 'b', { abortReason: 'no progress' }));
    expect(w.abortsWithoutCancel(world)).toEqual(['m1/1 aborted (no progress) but its source got no CANCEL order']);
    world.adapterFor('a').cancel({ kind: 'CANCEL', migrationId: 'm1', vmId: 'vm-m1', destinationHostId: 'b', attempt: 1 });
    expect(w.abortsWithoutCancel(world)).toEqual([]);
  });
});
