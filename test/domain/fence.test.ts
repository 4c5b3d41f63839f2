/**
 * Fence results (docs/contract.md §3 "fence result", the seed's fence paragraph, docs/decisions.md "Host
 * status"): a successful fence makes a frozen side trustworthy; a failed one changes nothing.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { MigrationTable } from '../../src/domain/table/table.js';
import { Cause, ErrorCode, EventType, FenceMethod, HostStatus, MigrationState, Severity, VmStatus } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsOf,
  eventsSince,
  expectRefused,
  MIGRATING_FROM,
  observe,
  report,
  setupFleet,
  SOURCE,
  startMigration,
  transitionsSince,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
} from '../utils/domain.js';

const FENCE_MESSAGE = 'power cycled by ipmi';
const VM_3 = 'vm-3';

const fence = (table: MigrationTable, hostId: string, succeeded = true) =>
  unwrap(table.reportFenceResult({ hostId, succeeded, method: FenceMethod.AUTOMATIC, message: FENCE_MESSAGE }));
const stopResponding = (table: MigrationTable, hostId: string) =>
  unwrap(table.reportHostStatus({ hostId, status: HostStatus.NON_RESPONSIVE }));

describe('fence results', () => {
  let table: MigrationTable;
  let migrationId: string;
  beforeEach(() => {
    table = createTable().table;
    // VM migrates SOURCE → DESTINATION; VM_2 runs on DESTINATION outside the table.
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [VM_2] } });
    migrationId = startMigration(table, VM, DESTINATION).id;
  });

  it('should refuse a fence result for a host that is not NON_RESPONSIVE, changing nothing', () => {
    const before = observe(table);
    expectRefused(table.reportFenceResult({ hostId: DESTINATION, succeeded: true, method: FenceMethod.MANUAL }), ErrorCode.HOST_NOT_NON_RESPONSIVE, 'hostId');
    expectRefused(table.reportFenceResult({ hostId: 'host-nobody', succeeded: true, method: FenceMethod.MANUAL }), ErrorCode.HOST_NOT_FOUND, 'hostId');
    expect(observe(table)).toEqual(before);
  });

  describe('on success', () => {
    it('should put the host into REBOOTING and log FENCE_SUCCEEDED with the method and message', () => {
      stopResponding(table, DESTINATION);
      const before = table.latestSeq;
      fence(table, DESTINATION);
      expect(table.host(DESTINATION)?.status).toBe(HostStatus.REBOOTING);
      const [rebooting] = transitionsSince(table, before);
      expect(rebooting).toMatchObject({ cause: Cause.FENCE_SUCCEEDED, hostStatusFrom: HostStatus.NON_RESPONSIVE, hostStatusTo: HostStatus.REBOOTING });
      const [fenced] = eventsOf(table, EventType.FENCE_SUCCEEDED);
      expect(fenced).toMatchObject({ hostId: DESTINATION, severity: Severity.INFO });
      expect(fenced?.message).toContain(FENCE_MESSAGE);
      expect(fenced?.message).toContain(FenceMethod.AUTOMATIC.toLowerCase());
    });

    it('should set the host’s other VMs DOWN with VM_SET_DOWN_BY_FENCE', () => {
      stopResponding(table, DESTINATION);
      expect(vmOf(table, VM_2).status).toBe(VmStatus.UNKNOWN);
      fence(table, DESTINATION);
      expect(vmOf(table, VM_2)).toMatchObject({ status: VmStatus.DOWN, hostId: null });
      expect(eventsOf(table, EventType.VM_SET_DOWN_BY_FENCE).map((e) => [e.vmId, e.hostId])).toEqual([[VM_2, DESTINATION]]);
    });

    it('should set the fenced side DOWN and trusted, so the entry thaws and waits for the other side', () => {
      confirm(table);
      stopResponding(table, DESTINATION);
      expect(entry(table).stalled).toBe(true);
      fence(table, DESTINATION);
      expect(entry(table)).toMatchObject({
        stalled: false,
        source: { report: MIGRATING_FROM },
        destination: { hostId: DESTINATION, report: DOWN, fenced: true },
        state: MigrationState.IN_PROGRESS,
      });
    });

    it('should end FAILED (row 3) when the source runs the VM and the destination was fenced', () => {
      confirm(table);
      unwrap(report(table, SOURCE, [[VM, UP]]));
      stopResponding(table, DESTINATION);
      fence(table, DESTINATION);
      expect(table.migration(migrationId)?.state).toBe(MigrationState.FAILED);
      expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
    });

    it('should end VM_DOWN (row 1) when the source let go and the destination was fenced: a fenced DOWN is heard after', () => {
      confirm(table);
      unwrap(report(table, SOURCE, [[VM, DOWN]]));
      stopResponding(table, DESTINATION);
      fence(table, DESTINATION);
      expect(table.migration(migrationId)?.state).toBe(MigrationState.VM_DOWN);
      expect(vmOf(table)).toMatchObject({ status: VmStatus.DOWN, hostId: null });
    });

    it('should end SUCCEEDED (row 2) when the destination runs the VM and the source was fenced before it confirmed', () => {
      unwrap(report(table, DESTINATION, [[VM, UP]]));
      stopResponding(table, SOURCE);
      fence(table, SOURCE);
      expect(table.migration(migrationId)).toMatchObject({ state: MigrationState.SUCCEEDED, source: { report: DOWN, fenced: true }, sourceConfirmed: true });
      expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: DESTINATION });
    });

    it('should not end VM_DOWN on a fenced source and a destination DOWN heard before the fence', () => {
      confirm(table);
      unwrap(report(table, DESTINATION, [[VM, DOWN]]));
      stopResponding(table, SOURCE);
      fence(table, SOURCE);
      expect(entry(table)).toMatchObject({ state: MigrationState.IN_PROGRESS, stalled: false });
      unwrap(report(table, DESTINATION, [], { full: true }));
      expect(table.migration(migrationId)?.state).toBe(MigrationState.VM_DOWN);
    });

    it('should keep the entry frozen when the other side is not responding either', () => {
      confirm(table);
      stopResponding(table, SOURCE);
      stopResponding(table, DESTINATION);
      fence(table, DESTINATION);
      expect(entry(table).stalled).toBe(true);
      expect(entry(table).stalledReason).toContain(SOURCE);
      expect(entry(table).stalledReason).not.toContain(DESTINATION);
    });

    it('should stall an entry whose side is on a REBOOTING host that was not fenced for it', () => {
      stopResponding(table, DESTINATION);
      fence(table, DESTINATION);
      unwrap(report(table, SOURCE, [[VM_3, MIGRATING_FROM, { peerHostId: DESTINATION }]]));
      const found = entry(table, VM_3);
      expect(found).toMatchObject({ stalled: true, destination: { hostId: DESTINATION, fenced: false } });
      expect(found.stalledReason).toContain(DESTINATION);
      expect(found.stalledReason).toContain('rebooting');
    });

    it('should make a REBOOTING host UP again on its next report', () => {
      stopResponding(table, DESTINATION);
      fence(table, DESTINATION);
      unwrap(report(table, DESTINATION, [], { full: true }));
      expect(table.host(DESTINATION)?.status).toBe(HostStatus.UP);
      expect(eventsOf(table, EventType.HOST_RECOVERED).map((e) => e.hostId)).toEqual([DESTINATION]);
    });
  });

  describe('on failure', () => {
    it('should change nothing but log FENCE_FAILED: no transition, the VMs stay as they are', () => {
      confirm(table);
      stopResponding(table, DESTINATION);
      const before = table.latestSeq;
      const state = observe(table);
      fence(table, DESTINATION, false);
      expect(transitionsSince(table, before)).toEqual([]);
      const [failed, ...more] = eventsSince(table, before);
      expect(more).toHaveLength(0);
      expect(failed).toMatchObject({ type: EventType.FENCE_FAILED, severity: Severity.ERROR, hostId: DESTINATION });
      expect(failed?.message).toContain(FENCE_MESSAGE);
      expect({ ...(observe(table) as object), latestSeq: before }).toEqual(state);
      expect(vmOf(table, VM_2).status).toBe(VmStatus.UNKNOWN);
      expect(entry(table).stalled).toBe(true);
    });
  });
});
