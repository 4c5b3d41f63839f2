/**
 * An evacuation and the queue (docs/contract.md §8–§9): its migrations wait for slots within the
 * limits, start before normal ones, pending ones leaving the host take evacuation priority, a
 * cancel cancels its pending ones, and a pending migration whose host stops answering waits.
 */
import { describe, expect, it } from 'vitest';
import { EvacuationState, HostStatus, MigrationPriority, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  DOWN,
  entry,
  OTHER,
  report,
  setupFleet,
  SOURCE,
  startMigration,
  succeed,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
} from '../utils/domain.js';
import { countsOf, evacuate, evacuationNow, stopResponding } from '../utils/evacuation.js';

const VM_3 = 'vm-3';
const OTHER_VM = 'vm-b1';
const OTHER_VM_2 = 'vm-b2';
const ONE_PER_CLUSTER = { maxOutgoingPerHost: 0, maxIncomingPerHost: 0, maxPerCluster: 1 };

const migrationsOf = (table: ReturnType<typeof createTable>['table'], id: string) =>
  evacuationNow(table, id).migrationIds.map((m) => table.migration(m));

describe('an evacuation and the queue', () => {
  it('should keep within the limits: two leave the host at once, the third waits with its reason', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2, VM_3], [DESTINATION]: [], [OTHER]: [] } });
    const { id } = evacuate(table, SOURCE);
    const [first, second, third] = migrationsOf(table, id);
    expect([first?.state, second?.state, third?.state]).toEqual([MigrationState.IN_PROGRESS, MigrationState.IN_PROGRESS, MigrationState.PENDING]);
    expect(third).toMatchObject({ priority: MigrationPriority.EVACUATION, destination: { hostId: null } });
    expect(third?.waitingReason).toContain(`${SOURCE} has 2 of 2 outgoing`);
    succeed(table, VM);
    // A slot freed: the third starts, towards a host that is UP.
    expect(entry(table, VM_3).destination.hostId).not.toBe(SOURCE);
    succeed(table, VM_2);
    succeed(table, VM_3);
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.COMPLETED, total: 3, moved: 3, remaining: 0, failed: 0 });
  });

  it('should start evacuation migrations before normal ones accepted earlier', () => {
    const { table } = createTable({ limits: ONE_PER_CLUSTER });
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [OTHER_VM, OTHER_VM_2], [OTHER]: [] } });
    startMigration(table, OTHER_VM); // in flight: the cluster's one slot
    const waiting = startMigration(table, OTHER_VM_2); // accepted first, NORMAL
    expect(waiting.state).toBe(MigrationState.PENDING);
    const { id } = evacuate(table, SOURCE);
    const [evacuating] = migrationsOf(table, id);
    expect(evacuating?.state).toBe(MigrationState.PENDING);
    succeed(table, OTHER_VM);
    expect(table.migration(evacuating?.id as string)?.state).toBe(MigrationState.IN_PROGRESS);
    expect(table.migration(waiting.id)?.state).toBe(MigrationState.PENDING);
  });

  it('should give a pending migration leaving the host evacuation priority when it joins', () => {
    const { table } = createTable({ limits: ONE_PER_CLUSTER });
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2], [DESTINATION]: [], [OTHER]: [] } });
    startMigration(table, VM); // in flight
    const queued = startMigration(table, VM_2, OTHER); // a user's, waiting
    expect(queued).toMatchObject({ state: MigrationState.PENDING, priority: MigrationPriority.NORMAL });
    const { id } = evacuate(table, SOURCE);
    expect(evacuationNow(table, id).migrationIds).toContain(queued.id);
    expect(table.migration(queued.id)).toMatchObject({ state: MigrationState.PENDING, priority: MigrationPriority.EVACUATION });
  });

  it('should cancel its pending migrations on cancel, letting those in flight go on', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2, VM_3], [DESTINATION]: [], [OTHER]: [] } });
    const { id } = evacuate(table, SOURCE);
    const [first, second, third] = migrationsOf(table, id);
    unwrap(table.cancelEvacuation({ hostId: SOURCE }));
    expect(table.migration(third?.id as string)?.state).toBe(MigrationState.CANCELLED);
    expect([table.migration(first?.id as string)?.state, table.migration(second?.id as string)?.state]).toEqual([MigrationState.IN_PROGRESS, MigrationState.IN_PROGRESS]);
    expect(vmOf(table, VM_3)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
  });

  it('should not fail while a migration of it waits in the queue, though none is in flight', () => {
    const { table } = createTable({ limits: ONE_PER_CLUSTER });
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [OTHER_VM], [OTHER]: [] } });
    startMigration(table, OTHER_VM); // another host's migration holds the cluster's one slot
    const { id } = evacuate(table, SOURCE);
    const [waiting] = migrationsOf(table, id);
    expect(waiting?.state).toBe(MigrationState.PENDING);
    expect(evacuationNow(table, id)).toMatchObject({ state: EvacuationState.IN_PROGRESS, blockers: [] });
    succeed(table, OTHER_VM);
    succeed(table, VM);
    expect(evacuationNow(table, id).state).toBe(EvacuationState.COMPLETED);
  });

  it('should wait on a pending migration whose host stops answering, naming it among the blockers, and go on when it answers', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2, VM_3], [DESTINATION]: [], [OTHER]: [] } });
    const { id } = evacuate(table, SOURCE);
    const [, , third] = migrationsOf(table, id);
    stopResponding(table, SOURCE);
    expect(vmOf(table, VM_3).status).toBe(VmStatus.UNKNOWN);
    expect(table.migration(third?.id as string)?.state).toBe(MigrationState.PENDING);
    const waiting = evacuationNow(table, id);
    expect(waiting.state).toBe(EvacuationState.IN_PROGRESS);
    expect(waiting.blockers).toContainEqual({ vmId: VM_3, reason: expect.stringContaining(`host ${SOURCE} is not responding`) });

    unwrap(report(table, SOURCE, [[VM, 'MIGRATING_FROM'], [VM_2, 'MIGRATING_FROM'], [VM_3, UP]], { full: true }));
    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
    expect(vmOf(table, VM_3).status).toBe(VmStatus.UP);
    expect(evacuationNow(table, id).blockers).toEqual([]);
  });

  it('should count a VM that went down while its migration waited as failed, and complete without it', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM, VM_2, VM_3], [DESTINATION]: [], [OTHER]: [] } });
    const { id } = evacuate(table, SOURCE);
    const [, , third] = migrationsOf(table, id);
    unwrap(report(table, SOURCE, [[VM_3, DOWN, { exitReason: 'ERROR' }]]));
    expect(table.migration(third?.id as string)?.state).toBe(MigrationState.FAILED);
    succeed(table, VM);
    succeed(table, VM_2);
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.COMPLETED, total: 3, moved: 2, remaining: 0, failed: 1 });
  });
});
