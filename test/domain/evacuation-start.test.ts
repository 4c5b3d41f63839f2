/**
 * Starting an evacuation (docs/contract.md §9): PREPARING_FOR_MAINTENANCE, what `evacuateHost`
 * accepts and refuses, the migrations it gives, the blockers it finds at once, the migrations and
 * VMs that join it.
 */
import { describe, expect, it } from 'vitest';
import { Cause, DestinationChoice, ErrorCode, MigrationPriority, EvacuationState, EventType, HostCommandKind, HostStatus, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  entry,
  eventsOf,
  expectRefused,
  MIGRATING_FROM,
  observe,
  OTHER,
  OTHER_CLUSTER,
  report,
  setupFleet,
  SOURCE,
  SPARE,
  startMigration,
  succeed,
  transitionsSince,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
  type TestTable,
} from '../utils/domain.js';
import { countsOf, evacuate, evacuationFleet, evacuationNow, stopResponding } from '../utils/evacuation.js';

const VM_3 = 'vm-3';

describe('PREPARING_FOR_MAINTENANCE', () => {
  it('should never be chosen as a destination, and refuse to be named one with HOST_NOT_UP', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [VM_2, VM_3], [OTHER]: ['vm-4'] } });
    const running = evacuate(table, OTHER); // vm-4 leaves for SOURCE; OTHER keeps preparing until it has gone
    expect(table.host(OTHER)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
    // OTHER now carries the least load (1, against 2 and 2): an UP host that light would be chosen.
    expectRefused(table.migrateVm({ vmId: VM, destinationHostId: OTHER }), ErrorCode.HOST_NOT_UP, 'destinationHostId');
    expect(startMigration(table, VM).destination.hostId).toBe(DESTINATION);
    expect(evacuationNow(table, running.id).state).toBe(EvacuationState.IN_PROGRESS);
  });

  it('should trust the reports of a host preparing for maintenance like those of an UP host', () => {
    const { table } = evacuationFleet();
    evacuate(table, SOURCE);
    const m = entry(table, VM);
    // The source is PREPARING_FOR_MAINTENANCE: its reports decide, with the destination's.
    succeed(table, VM);
    expect(table.migration(m.id)?.state).toBe(MigrationState.SUCCEEDED);
    expect(entry(table, VM_2).stalled).toBe(false);
  });

  it('should refuse PREPARING_FOR_MAINTENANCE through reportHostStatus: only evacuateHost moves the VMs away', () => {
    const { table } = evacuationFleet();
    expectRefused(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.PREPARING_FOR_MAINTENANCE }), ErrorCode.INVALID_INPUT, 'status');
    expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
  });
});

describe('evacuateHost', () => {
  it('should make the host PREPARING_FOR_MAINTENANCE and give every VM UP on it a migration with an automatic destination', () => {
    const { table, published } = evacuationFleet();
    const before = table.latestSeq;
    const evacuation = evacuate(table, SOURCE);

    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
    const [hostChange] = transitionsSince(table, before);
    expect(hostChange).toMatchObject({ cause: Cause.EVACUATION, hostId: SOURCE, hostStatusFrom: HostStatus.UP, hostStatusTo: HostStatus.PREPARING_FOR_MAINTENANCE });
    const migrations = [VM, VM_2].map((vmId) => entry(table, vmId));
    // §4 order among the eligible hosts, counting the first move as load: one to each.
    expect(migrations.map((m) => [m.vmId, m.source.hostId, m.destination.hostId, m.destinationChoice])).toEqual([
      [VM, SOURCE, DESTINATION, DestinationChoice.ENGINE],
      [VM_2, SOURCE, OTHER, DestinationChoice.ENGINE],
    ]);
    expect(evacuation).toMatchObject({ hostId: SOURCE, state: EvacuationState.IN_PROGRESS, total: 2, moved: 0, remaining: 2, failed: 0, blockers: [] });
    expect(evacuation.migrationIds).toEqual(migrations.map((m) => m.id));
    // The source's agent receives an order for each.
    const orders = published.flatMap((c) => c.commands).filter((c) => c.kind === HostCommandKind.MIGRATE);
    expect(orders.map((o) => [o.vmId, o.hostId, o.destinationHostId])).toEqual([
      [VM, SOURCE, DESTINATION],
      [VM_2, SOURCE, OTHER],
    ]);
    const [started] = eventsOf(table, EventType.EVACUATION_STARTED);
    expect(started).toMatchObject({ hostId: SOURCE });
    expect(started?.message).toContain(evacuation.id);
  });

  it('should start from a host in MAINTENANCE and from one preparing for it after a failed evacuation', () => {
    const { table } = evacuationFleet();
    unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.MAINTENANCE }));
    const evacuation = evacuate(table, SOURCE);
    expect(evacuation.state).toBe(EvacuationState.IN_PROGRESS);
    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
  });

  it.each([
    ['NON_RESPONSIVE', (t: TestTable) => stopResponding(t.table, SOURCE)],
    ['REBOOTING', (t: TestTable) => (stopResponding(t.table, SOURCE), unwrap(t.table.reportFenceResult({ hostId: SOURCE, succeeded: true, method: 'MANUAL' })))],
  ] as const)('should refuse a %s host with HOST_NOT_UP, changing nothing', (_status, put) => {
    const t = evacuationFleet();
    put(t);
    const seen = observe(t.table);
    expectRefused(t.table.evacuateHost({ hostId: SOURCE }), ErrorCode.HOST_NOT_UP, 'hostId');
    expect(observe(t.table)).toEqual(seen);
    expect(t.table.evacuations({}).items).toEqual([]);
  });

  it('should refuse an unknown host with HOST_NOT_FOUND and a malformed id with INVALID_INPUT', () => {
    const { table } = evacuationFleet();
    expectRefused(table.evacuateHost({ hostId: 'host-nowhere' }), ErrorCode.HOST_NOT_FOUND, 'hostId');
    expectRefused(table.evacuateHost({ hostId: 'has space' }), ErrorCode.INVALID_INPUT, 'hostId');
  });

  it('should return the running evacuation, unchanged, when asked again while it runs', () => {
    const { table } = evacuationFleet();
    const first = evacuate(table, SOURCE);
    const seen = observe(table);
    const again = evacuate(table, SOURCE);
    expect(again.id).toBe(first.id);
    expect(observe(table)).toEqual(seen);
    expect(table.evacuations({ hostId: SOURCE }).items).toHaveLength(1);
  });

  it('should make a VM no host can take a blocker at once, with no migration, and fail when nothing else moves', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] }, clusters: { [DESTINATION]: OTHER_CLUSTER } });
    const evacuation = evacuate(table, SOURCE);
    expect(vmOf(table, VM)).toMatchObject({ status: VmStatus.UP, migrationId: null });
    expect(table.migrations({}).items).toEqual([]);
    expect(countsOf(evacuation)).toEqual({ state: EvacuationState.FAILED, total: 1, moved: 0, remaining: 1, failed: 1 });
    expect(evacuation.blockers).toEqual([{ vmId: VM, reason: expect.stringContaining('none is UP in cluster default besides host-a') }]);
    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
  });

  it('should take in the migrations already leaving the host, and give the others theirs', () => {
    const { table } = evacuationFleet();
    const leaving = startMigration(table, VM, OTHER); // a user's, to a named destination
    confirm(table, SOURCE, VM);
    const evacuation = evacuate(table, SOURCE);
    expect(evacuation.migrationIds[0]).toBe(leaving.id);
    expect(evacuation.migrationIds).toHaveLength(2);
    expect(entry(table, VM_2).destination.hostId).toBe(DESTINATION);
    expect(evacuation.total).toBe(2);
  });

  it('should take in a migration that leaves the host while it runs (found in a report)', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [], [SPARE]: [] }, clusters: { [SPARE]: OTHER_CLUSTER } });
    const evacuation = evacuate(table, SOURCE);
    // A VM Transit did not know of is migrating from the host: found in its report, it joins.
    unwrap(report(table, SOURCE, [[VM_3, MIGRATING_FROM, { peerHostId: OTHER }]]));
    const found = entry(table, VM_3);
    expect(evacuationNow(table, evacuation.id).migrationIds).toContain(found.id);
    expect(evacuationNow(table, evacuation.id).total).toBe(2);
  });

  it('should take in a VM that arrives on the host while it runs: total grows and the VM gets its migration', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [VM_2], [OTHER]: [] } });
    const arriving = startMigration(table, VM_2, SOURCE); // under way to SOURCE before the evacuation
    const evacuation = evacuate(table, SOURCE);
    expect(evacuation.total).toBe(1);
    succeed(table, VM_2);
    expect(table.migration(arriving.id)?.state).toBe(MigrationState.SUCCEEDED);
    const joined = entry(table, VM_2);
    expect(joined).toMatchObject({ source: { hostId: SOURCE }, destinationChoice: DestinationChoice.ENGINE });
    expect(joined.destination.hostId).not.toBe(SOURCE);
    // A VM started on the host (its report) joins too.
    unwrap(report(table, SOURCE, [[VM_3, UP]]));
    const now = evacuationNow(table, evacuation.id);
    expect(now.total).toBe(3);
    expect(now.migrationIds.slice(0, 2)).toEqual([entry(table, VM).id, joined.id]);
    // Two already leave the host: the third waits for a slot (the limits of §8 apply), first in the queue.
    const third = table.migration(now.migrationIds[2] as string);
    expect(third).toMatchObject({ vmId: VM_3, state: MigrationState.PENDING, priority: MigrationPriority.EVACUATION });
    expect(third?.waitingReason).toContain('2 of 2 outgoing');
  });
});
