/**
 * Faults during an evacuation (docs/contract.md §3 and §9): a host timeout or a fence, of the
 * evacuated host or of a destination. Nothing is decided from partial knowledge: the evacuation
 * waits, its blockers saying why, and goes on once the hosts are heard again.
 */
import { describe, expect, it } from 'vitest';
import { EvacuationState, HostStatus, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  HOST_TIMEOUT_MS,
  OTHER,
  report,
  setupFleet,
  SOURCE,
  succeed,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
} from '../utils/domain.js';
import { countsOf, evacuate, evacuationFleet, evacuationNow, fence, stopResponding } from '../utils/evacuation.js';

describe('the evacuated host stops answering', () => {
  it('should wait, saying which VMs it waits on and why, while the host does not answer', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM);
    stopResponding(table, SOURCE);
    const waiting = evacuationNow(table, id);
    expect(countsOf(waiting)).toEqual({ state: EvacuationState.IN_PROGRESS, total: 2, moved: 1, remaining: 1, failed: 0 });
    expect(waiting.blockers).toEqual([{ vmId: VM_2, reason: expect.stringContaining(`source host ${SOURCE} is not responding`) }]);
  });

  it('should time the host out like an UP host, and wait', () => {
    const { table, clock } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    clock.advance(HOST_TIMEOUT_MS / 2);
    for (const host of [DESTINATION, OTHER]) unwrap(report(table, host, [], { full: true }));
    clock.advance(HOST_TIMEOUT_MS / 2);
    table.tick();
    expect(table.host(SOURCE)?.status).toBe(HostStatus.NON_RESPONSIVE);
    expect(evacuationNow(table, id).state).toBe(EvacuationState.IN_PROGRESS);
    expect(evacuationNow(table, id).blockers.map((b) => b.vmId)).toEqual([VM, VM_2]);
  });

  it('should bring the host back PREPARING_FOR_MAINTENANCE, not UP, when it reports again, and go on', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    stopResponding(table, SOURCE);
    confirm(table, SOURCE, VM); // its next report: it answers again
    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
    succeed(table, VM);
    succeed(table, VM_2);
    expect(evacuationNow(table, id).state).toBe(EvacuationState.COMPLETED);
    expect(table.host(SOURCE)?.status).toBe(HostStatus.MAINTENANCE);
  });

  it('should not complete while the fenced host reboots, though its VMs are down; it completes once the host reports again', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM);
    stopResponding(table, SOURCE);
    fence(table, SOURCE);
    // VM_2's migration: the source was fenced (DOWN, trusted); the destination never received it.
    unwrap(report(table, entry(table, VM_2).destination.hostId as string, [[VM_2, DOWN]]));
    expect(vmOf(table, VM_2).status).toBe(VmStatus.DOWN);
    expect(table.host(SOURCE)?.status).toBe(HostStatus.REBOOTING);
    expect(evacuationNow(table, id)).toMatchObject({ state: EvacuationState.IN_PROGRESS, remaining: 0, blockers: [] });

    unwrap(report(table, SOURCE, [], { full: true })); // booted again, empty
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.COMPLETED, total: 2, moved: 1, remaining: 0, failed: 1 });
    expect(table.host(SOURCE)?.status).toBe(HostStatus.MAINTENANCE);
  });

  it('should bring a host whose FAILED evacuation holds it back PREPARING_FOR_MAINTENANCE, never UP', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM] } });
    expect(evacuate(table, SOURCE).state).toBe(EvacuationState.FAILED);
    stopResponding(table, SOURCE);
    unwrap(report(table, SOURCE, [[VM, UP]]));
    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
  });
});

describe('a destination hangs during the evacuation', () => {
  it('should wait on the stalled migration, saying so, and go on after the destination is fenced', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM_2);
    const m = entry(table, VM);
    const hung = m.destination.hostId as string;
    confirm(table, SOURCE, VM, 40);
    stopResponding(table, hung);
    const waiting = evacuationNow(table, id);
    expect(waiting.state).toBe(EvacuationState.IN_PROGRESS);
    expect(waiting.blockers).toEqual([{ vmId: VM, reason: expect.stringContaining(`destination host ${hung} is not responding`) }]);

    fence(table, hung);
    unwrap(report(table, SOURCE, [[VM, UP]])); // the source kept the VM: the attempt failed (row 3), rerun elsewhere
    const rerun = entry(table, VM);
    expect(rerun).toMatchObject({ id: m.id, attempt: 2, state: MigrationState.IN_PROGRESS });
    expect(rerun.destination.hostId).not.toBe(hung);
    expect(rerun.destination.hostId).not.toBe(SOURCE);
    succeed(table, VM);
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.COMPLETED, total: 2, moved: 2, remaining: 0, failed: 0 });
  });
});
