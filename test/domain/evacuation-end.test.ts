/**
 * How an evacuation ends (docs/contract.md §9): COMPLETED once the host runs no VM (the host is
 * MAINTENANCE), FAILED once nothing of it is pending or in flight and VMs remain (blockers say
 * why), and what its counts say on the way.
 */
import { describe, expect, it } from 'vitest';
import { Cause, DestinationChoice, EvacuationState, EventType, HostStatus, MigrationState, Severity } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsOf,
  failAttempt,
  MIGRATING_FROM,
  OTHER,
  report,
  setupFleet,
  SOURCE,
  startMigration,
  succeed,
  transitionsSince,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
} from '../utils/domain.js';
import { countsOf, evacuate, evacuationFleet, evacuationNow } from '../utils/evacuation.js';

describe('an evacuation that completes', () => {
  it('should stay IN_PROGRESS while a VM remains, counting what moved', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM);
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.IN_PROGRESS, total: 2, moved: 1, remaining: 1, failed: 0 });
    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
  });

  it('should end COMPLETED once the host runs no VM, the host becoming MAINTENANCE, with EVACUATION_COMPLETED', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM);
    const before = table.latestSeq;
    succeed(table, VM_2);
    const done = evacuationNow(table, id);
    expect(countsOf(done)).toEqual({ state: EvacuationState.COMPLETED, total: 2, moved: 2, remaining: 0, failed: 0 });
    expect(done.endedAt).not.toBeNull();
    expect(done.blockers).toEqual([]);
    expect(table.host(SOURCE)?.status).toBe(HostStatus.MAINTENANCE);
    const hostChange = transitionsSince(table, before).find((t) => t.hostStatusTo !== null);
    expect(hostChange).toMatchObject({ cause: Cause.EVACUATION, hostId: SOURCE, hostStatusFrom: HostStatus.PREPARING_FOR_MAINTENANCE, hostStatusTo: HostStatus.MAINTENANCE });
    const [completed] = eventsOf(table, EventType.EVACUATION_COMPLETED);
    expect(completed).toMatchObject({ hostId: SOURCE, severity: Severity.INFO });
    expect(completed?.message).toContain(id);
  });

  it('should complete at once a host that runs no VM', () => {
    const { table } = evacuationFleet();
    const done = evacuate(table, OTHER);
    expect(countsOf(done)).toEqual({ state: EvacuationState.COMPLETED, total: 0, moved: 0, remaining: 0, failed: 0 });
    expect(table.host(OTHER)?.status).toBe(HostStatus.MAINTENANCE);
    expect(eventsOf(table, EventType.EVACUATION_STARTED)).toHaveLength(1);
    expect(eventsOf(table, EventType.EVACUATION_COMPLETED)).toHaveLength(1);
  });

  it('should wait for a VM on its way to the host, which joins when it arrives', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [], [DESTINATION]: [VM], [OTHER]: [] } });
    startMigration(table, VM, SOURCE);
    const { id } = evacuate(table, SOURCE);
    expect(evacuationNow(table, id).state).toBe(EvacuationState.IN_PROGRESS); // runs no VM yet, but one is coming
    succeed(table, VM);
    expect(evacuationNow(table, id).total).toBe(1);
    expect(entry(table, VM).source.hostId).toBe(SOURCE);
    succeed(table, VM);
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.COMPLETED, total: 1, moved: 1, remaining: 0, failed: 0 });
  });

  it('should complete when a VM went down during its migration, counting it failed', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM);
    confirm(table, SOURCE, VM_2);
    unwrap(report(table, SOURCE, [[VM_2, DOWN, { exitReason: 'ERROR' }]]));
    unwrap(report(table, entry(table, VM_2).destination.hostId as string, [[VM_2, DOWN]]));
    expect(vmOf(table, VM_2).status).toBe('DOWN');
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.COMPLETED, total: 2, moved: 1, remaining: 0, failed: 1 });
  });
});

describe('an evacuation that fails', () => {
  it('should rerun a failed evacuation migration on another host, like any engine-chosen migration', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    const first = entry(table, VM);
    failAttempt(table, VM);
    const rerun = entry(table, VM);
    expect(rerun).toMatchObject({ id: first.id, attempt: 2 });
    expect(rerun.destination.hostId).not.toBe(first.destination.hostId);
    expect(rerun.destination.hostId).not.toBe(SOURCE);
    expect(evacuationNow(table, id).state).toBe(EvacuationState.IN_PROGRESS);
  });

  it('should end FAILED once nothing is pending or in flight and a VM remains, listing it with its reason', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM_2);
    const m = entry(table, VM);
    failAttempt(table, VM); // DESTINATION or OTHER, then the other one
    failAttempt(table, VM); // no host left to try
    expect(table.migration(m.id)?.state).toBe(MigrationState.FAILED);

    const failed = evacuationNow(table, id);
    expect(countsOf(failed)).toEqual({ state: EvacuationState.FAILED, total: 2, moved: 1, remaining: 1, failed: 1 });
    expect(failed.blockers).toEqual([{ vmId: VM, reason: expect.stringContaining(`its migration ${m.id} ended FAILED`) }]);
    expect(failed.endedAt).not.toBeNull();
    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
    const [event] = eventsOf(table, EventType.EVACUATION_FAILED);
    expect(event).toMatchObject({ hostId: SOURCE, severity: Severity.ERROR });
  });

  it('should keep the blockers it ended with, whatever happens to the host afterwards', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM_2);
    failAttempt(table, VM);
    failAttempt(table, VM);
    unwrap(report(table, SOURCE, [[VM, DOWN]])); // the VM is shut down by hand
    const failed = evacuationNow(table, id);
    expect(failed.remaining).toBe(1);
    expect(failed.blockers.map((b) => b.vmId)).toEqual([VM]);
  });

  it('should fail a VM whose evacuation migration was cancelled by a user', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    succeed(table, VM_2);
    const m = entry(table, VM);
    unwrap(table.cancelMigration({ vmId: VM }));
    confirm(table, SOURCE, VM);
    unwrap(report(table, SOURCE, [[VM, UP]]));
    unwrap(report(table, m.destination.hostId as string, [[VM, DOWN]]));
    const failed = evacuationNow(table, id);
    expect(countsOf(failed)).toEqual({ state: EvacuationState.FAILED, total: 2, moved: 1, remaining: 1, failed: 1 });
    expect(failed.blockers[0]?.reason).toContain('ended CANCELLED');
  });

  it('should give a VM whose own migration (to a named host) failed a migration of the evacuation, with an automatic destination', () => {
    const { table } = evacuationFleet();
    const named = startMigration(table, VM, DESTINATION);
    const { id } = evacuate(table, SOURCE);
    confirm(table, SOURCE, VM);
    unwrap(report(table, SOURCE, [[VM, UP]]));
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    expect(table.migration(named.id)?.state).toBe(MigrationState.FAILED); // a named destination is not rerun
    const own = entry(table, VM);
    expect(own.id).not.toBe(named.id);
    expect(own.destinationChoice).toBe(DestinationChoice.ENGINE);
    expect(evacuationNow(table, id).migrationIds).toEqual([named.id, entry(table, VM_2).id, own.id]);
    expect(evacuationNow(table, id).failed).toBe(0);
  });

  it('should not count a report of a migration it does not follow', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    unwrap(report(table, SOURCE, [[VM, MIGRATING_FROM, { progress: 50 }]]));
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.IN_PROGRESS, total: 2, moved: 0, remaining: 2, failed: 0 });
  });
});
