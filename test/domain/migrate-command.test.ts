/** The migrate command (docs/contract.md §3): what it adds, and each typed refusal that changes nothing. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import {
  Cause,
  DestinationChoice,
  ErrorCode,
  EventType,
  FenceMethod,
  HostCommandKind,
  HostStatus,
  MigrationState,
  Severity,
  VmLocation,
  VmStatus,
} from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  DOWN,
  expectRefused,
  observe,
  OTHER,
  OTHER_CLUSTER,
  report,
  setupPair,
  SOURCE,
  SPARE,
  startMigration,
  T0_MS,
  transitionsSince,
  unwrap,
  VM,
  vmOf,
  type TestTable,
} from '../utils/domain.js';

describe('migrating a VM', () => {
  let t: TestTable;
  let table: MigrationTable;
  beforeEach(() => {
    t = createTable();
    table = t.table;
    setupPair(table);
  });

  it('should add an entry with both sides not heard and the VM MIGRATING_FROM at the source', () => {
    const before = table.latestSeq;
    const m = startMigration(table, VM, DESTINATION);
    expect(m).toMatchObject({
      vmId: VM,
      source: { hostId: SOURCE, report: null, fenced: false },
      destination: { hostId: DESTINATION, report: null, fenced: false },
      destinationChoice: DestinationChoice.USER,
      state: MigrationState.IN_PROGRESS,
      vmStatus: VmStatus.MIGRATING_FROM,
      location: VmLocation.SOURCE,
      stalled: false,
      cancelRequested: false,
      sourceConfirmed: false,
      attempt: 1,
      progress: null,
      startedAt: T0_MS,
      endedAt: null,
    });
    expect(m.attempts).toEqual([
      { attempt: 1, destinationHostId: DESTINATION, state: MigrationState.IN_PROGRESS, startedAt: T0_MS, endedAt: null, reason: null },
    ]);
    expect(table.entryOf(VM)).toBe(m);
    expect(vmOf(table)).toMatchObject({ status: VmStatus.MIGRATING_FROM, hostId: SOURCE, location: VmLocation.SOURCE, migrationId: m.id });

    const [transition, ...more] = transitionsSince(table, before);
    expect(more).toHaveLength(0);
    expect(transition).toMatchObject({
      cause: Cause.MIGRATE_COMMAND,
      vmId: VM,
      from: { status: VmStatus.UP, hostId: SOURCE, location: null },
      to: { status: VmStatus.MIGRATING_FROM, hostId: SOURCE, location: VmLocation.SOURCE },
      migration: m,
    });
  });

  it('should tell the source host through its command stream and log MIGRATION_STARTED', () => {
    const m = startMigration(table, VM, DESTINATION);
    const changes = t.published.at(-1);
    expect(changes?.commands).toEqual([
      { kind: HostCommandKind.MIGRATE, hostId: SOURCE, migrationId: m.id, vmId: VM, destinationHostId: DESTINATION, attempt: 1, issuedAt: T0_MS },
    ]);
    expect(changes?.events.map((e) => [e.type, e.severity, e.vmId, e.hostId, e.migrationId])).toEqual([
      [EventType.MIGRATION_STARTED, Severity.INFO, VM, SOURCE, m.id],
    ]);
  });

  it('should accept a VM whose host is in MAINTENANCE, the main use of migration', () => {
    unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.MAINTENANCE }));
    expect(startMigration(table, VM, DESTINATION).source.hostId).toBe(SOURCE);
  });

  describe('refusals, each typed and changing nothing', () => {
    /** Runs a refused command and checks that nothing a reader sees, and nothing published, changed. */
    function expectNothingChanged(command: () => ReturnType<MigrationTable['migrateVm']>, code: ErrorCode, field: string | null) {
      const before = observe(table);
      const publishedBefore = t.published.length;
      expectRefused(command(), code, field);
      expect(observe(table)).toEqual(before);
      expect(t.published).toHaveLength(publishedBefore);
    }

    it('should refuse an empty VM id as INVALID_INPUT', () => {
      expectNothingChanged(() => table.migrateVm({ vmId: '' }), ErrorCode.INVALID_INPUT, 'vmId');
    });

    it('should refuse an unknown VM with VM_NOT_FOUND', () => {
      expectNothingChanged(() => table.migrateVm({ vmId: 'vm-nobody-reported' }), ErrorCode.VM_NOT_FOUND, 'vmId');
    });

    it('should refuse a VM that is DOWN with VM_NOT_UP', () => {
      unwrap(report(table, SOURCE, [[VM, DOWN]]));
      expectNothingChanged(() => table.migrateVm({ vmId: VM }), ErrorCode.VM_NOT_UP, 'vmId');
    });

    it('should refuse a VM whose host is not responsive (the VM is UNKNOWN) with VM_NOT_UP', () => {
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      expect(vmOf(table).status).toBe(VmStatus.UNKNOWN);
      expectNothingChanged(() => table.migrateVm({ vmId: VM, destinationHostId: DESTINATION }), ErrorCode.VM_NOT_UP, 'vmId');
    });

    it('should refuse a VM already in the table with VM_ALREADY_MIGRATING', () => {
      startMigration(table, VM, DESTINATION);
      expectNothingChanged(() => table.migrateVm({ vmId: VM, destinationHostId: OTHER }), ErrorCode.VM_ALREADY_MIGRATING, 'vmId');
    });

    it('should refuse an unknown destination with HOST_NOT_FOUND', () => {
      expectNothingChanged(() => table.migrateVm({ vmId: VM, destinationHostId: 'host-nobody' }), ErrorCode.HOST_NOT_FOUND, 'destinationHostId');
    });

    it('should refuse the VM’s own host as destination with SAME_HOST', () => {
      expectNothingChanged(() => table.migrateVm({ vmId: VM, destinationHostId: SOURCE }), ErrorCode.SAME_HOST, 'destinationHostId');
    });

    it.each([HostStatus.MAINTENANCE, HostStatus.NON_RESPONSIVE])('should refuse a destination in %s with HOST_NOT_UP', (status) => {
      unwrap(table.reportHostStatus({ hostId: DESTINATION, status }));
      expectNothingChanged(() => table.migrateVm({ vmId: VM, destinationHostId: DESTINATION }), ErrorCode.HOST_NOT_UP, 'destinationHostId');
    });

    it('should refuse a REBOOTING destination with HOST_NOT_UP', () => {
      unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
      unwrap(table.reportFenceResult({ hostId: DESTINATION, succeeded: true, method: FenceMethod.MANUAL }));
      expect(table.host(DESTINATION)?.status).toBe(HostStatus.REBOOTING);
      expectNothingChanged(() => table.migrateVm({ vmId: VM, destinationHostId: DESTINATION }), ErrorCode.HOST_NOT_UP, 'destinationHostId');
    });

    it('should refuse a destination in another cluster with CLUSTER_MISMATCH', () => {
      unwrap(table.registerHost({ hostId: SPARE, cluster: OTHER_CLUSTER }));
      expectNothingChanged(() => table.migrateVm({ vmId: VM, destinationHostId: SPARE }), ErrorCode.CLUSTER_MISMATCH, 'destinationHostId');
    });

    it('should refuse with NO_ELIGIBLE_HOST when no destination was given and none qualifies', () => {
      // Left: a host in MAINTENANCE, one not responding, and an UP host in another cluster.
      unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.MAINTENANCE }));
      unwrap(table.reportHostStatus({ hostId: OTHER, status: HostStatus.NON_RESPONSIVE }));
      unwrap(table.registerHost({ hostId: SPARE, cluster: OTHER_CLUSTER }));
      expectNothingChanged(() => table.migrateVm({ vmId: VM }), ErrorCode.NO_ELIGIBLE_HOST, 'destinationHostId');
    });
  });
});
