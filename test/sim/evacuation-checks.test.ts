/**
 * The simulator's checks of docs/contract.md §9 can fail: a completed evacuation whose host really
 * still runs a VM, an attempt started towards a host being evacuated, and more migrations really
 * under way than the limits allow are each reported.
 */
import { describe, expect, it } from 'vitest';
import { OutcomeChecker } from '../../src/sim/checker.js';
import { seededRandom } from '../../src/sim/random.js';
import { SimWorld } from '../../src/sim/world.js';

function world() {
  const w = new SimWorld(seededRandom(5), { progressPerSecond: 10, migrationFailure: 0 });
  for (const h of ['a', 'b', 'c']) w.addHost(h, 'c1');
  for (const v of ['vm-1', 'vm-2', 'vm-3']) w.addVm(v, 'a', 2_048);
  return w;
}

const order = (vmId: string, to: string) => ({ kind: 'MIGRATE' as const, migrationId: `m-${vmId}`, vmId, destinationHostId: to, attempt: 1 });

describe('the simulator’s evacuation checks', () => {
  it('should report a completed evacuation whose host really runs or sends a VM, and accept an empty one', () => {
    const w = world();
    const checker = new OutcomeChecker(w);
    checker.evacuationCompleted('b');
    expect(checker.evacuationProblems).toEqual([]);
    w.adapterFor('a').migrate(order('vm-1', 'b'));
    checker.evacuationCompleted('a');
    checker.evacuationCompleted('b');
    expect(checker.evacuationProblems).toEqual([
      'host a completed its evacuation, but really runs vm-1 (migrating a → b), vm-2, vm-3',
      'host b completed its evacuation, but really runs vm-1 (migrating a → b)',
    ]);
    expect(checker.evacuationsChecked).toBe(3);
  });

  it('should report an attempt started towards a host that was not UP', () => {
    const checker = new OutcomeChecker(world());
    checker.attemptStarted('m1', 1, 'b', 'UP');
    checker.attemptStarted('m2', 1, 'b', undefined);
    checker.attemptStarted('m3', 2, 'c', 'PREPARING_FOR_MAINTENANCE');
    expect(checker.evacuationProblems).toEqual(['m3 attempt 2 was started towards c, which was PREPARING_FOR_MAINTENANCE']);
  });

  it('should report more migrations really under way than the limits allow', () => {
    const w = world();
    w.limits = { outgoingPerHost: 2, incomingPerHost: 1, perCluster: 0 };
    w.adapterFor('a').migrate(order('vm-1', 'b'));
    w.adapterFor('a').migrate(order('vm-2', 'c'));
    expect(new OutcomeChecker(w).limitProblems()).toEqual([]);
    w.adapterFor('a').migrate(order('vm-3', 'c'));
    const problems = new OutcomeChecker(w).limitProblems();
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/3 migrations really leave a \(limit 2\)$/);
    expect(problems[1]).toMatch(/2 migrations really reach c \(limit 1\)$/);
    expect(w.peaks).toEqual({ outgoing: 3, incoming: 2, cluster: 3 });
  });
});
