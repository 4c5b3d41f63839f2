/**
 * The simulated hypervisors' part in §8: migrations that never converge (the fault the deadlines
 * exist for), and an abort carried out for a migration Transit knows under another id.
 */
import { describe, expect, it } from 'vitest';
import type { VmObservation } from '../../src/agent/hypervisor.js';
import { seededRandom } from '../../src/sim/random.js';
import { SimWorld } from '../../src/sim/world.js';

function world(nonConverging: number) {
  const w = new SimWorld(seededRandom(3), { progressPerSecond: 50, migrationFailure: 0, nonConverging, crawlPerSecond: 1 });
  w.addHost('a', 'c1');
  w.addHost('b', 'c1');
  w.addVm('vm-1', 'a', 4_096);
  return w;
}

const progressOf = (w: SimWorld) => (w.adapterFor('a').observe().find((o) => o.vmId === 'vm-1') as VmObservation).progress;

describe('the simulated world', () => {
  it('should report each VM with its memory', () => {
    expect(world(0).adapterFor('a').observe()).toEqual([{ vmId: 'vm-1', status: 'UP', memoryMiB: 4_096 }]);
  });

  it('should never finish a migration that does not converge, and finish it once the fault ends', () => {
    const w = world(1);
    w.adapterFor('a').migrate({ kind: 'MIGRATE', migrationId: 'm1', vmId: 'vm-1', destinationHostId: 'b', attempt: 1 });
    expect([...w.nonConverging.keys()]).toEqual(['m1/1']);
    for (let i = 0; i < 600; i++) w.step(100); // a minute
    expect(progressOf(w)).toBeLessThan(100);
    expect(w.runsOn('vm-1')).toBe('a');
    w.letEveryMigrationConverge();
    for (let i = 0; i < 100 && w.outcomes.size === 0; i++) w.step(100);
    expect(w.outcomes.get('m1/1')).toBe('HANDED_OVER');
  });

  it('should abort the VM’s migration on a CANCEL order naming another id but the same destination (an entry rebuilt after a restart)', () => {
    const w = world(1);
    w.adapterFor('a').migrate({ kind: 'MIGRATE', migrationId: 'old-m1', vmId: 'vm-1', destinationHostId: 'b', attempt: 1 });
    w.adapterFor('a').cancel({ kind: 'CANCEL', migrationId: 'new-m7', vmId: 'vm-1', destinationHostId: 'c', attempt: 1 });
    expect(w.outcomes.get('old-m1/1')).toBeUndefined(); // another destination: not this migration
    w.adapterFor('a').cancel({ kind: 'CANCEL', migrationId: 'new-m7', vmId: 'vm-1', destinationHostId: 'b', attempt: 1 });
    expect(w.outcomes.get('old-m1/1')).toBe('ABORTED');
    expect(w.cancelOrders).toEqual(new Set(['new-m7/1']));
  });
});
