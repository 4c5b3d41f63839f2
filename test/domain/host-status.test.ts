/**
 * Host status (docs/contract.md §3 "host status", docs/decisions.md "Host status" and "A host coming
 * back"): explicit and by timeout, what it does to VMs outside the table and to entries.
 */
import { describe, expect, it } from 'vitest';
import { Cause, ErrorCode, EventType, FenceMethod, HostStatus, MigrationState, Severity, VmStatus } from '../../src/domain/vocabulary.js';
import {
  confirm,
  createTable,
  DESTINATION,
  DOWN,
  entry,
  eventsOf,
  expectRefused,
  HOST_TIMEOUT_MS,
  MIGRATING_TO,
  observe,
  OTHER,
  report,
  setupPair,
  SOURCE,
  startMigration,
  transitionsSince,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
} from '../utils/domain.js';

const NOT_RESPONDING = 'not responding';

describe('host status', () => {
  describe('by timeout', () => {
    it('should make a host NON_RESPONSIVE once it has not reported for hostTimeout, and not a millisecond before', () => {
      const { table, clock } = createTable();
      setupPair(table);
      clock.advance(HOST_TIMEOUT_MS - 1);
      table.tick();
      expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);

      const before = table.latestSeq;
      clock.advance(1);
      table.tick();
      expect(table.hosts({ status: HostStatus.NON_RESPONSIVE }).map((h) => h.id)).toEqual([SOURCE, DESTINATION, OTHER].sort());
      const sourceDown = transitionsSince(table, before).find((t) => t.hostId === SOURCE && t.hostStatusTo !== null);
      expect(sourceDown).toMatchObject({ cause: Cause.HOST_UNRESPONSIVE, hostStatusFrom: HostStatus.UP, hostStatusTo: HostStatus.NON_RESPONSIVE });
      const [notResponding] = table.eventLog({ hostId: SOURCE, type: EventType.HOST_NOT_RESPONDING }).items;
      expect(notResponding?.severity).toBe(Severity.ERROR);
    });

    it('should count the timeout from the host’s last report', () => {
      const { table, clock } = createTable();
      setupPair(table);
      clock.advance(HOST_TIMEOUT_MS - 1);
      unwrap(report(table, SOURCE, [[VM, UP]]));
      clock.advance(HOST_TIMEOUT_MS - 1);
      table.tick();
      expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
      expect(table.host(DESTINATION)?.status).toBe(HostStatus.NON_RESPONSIVE);
    });

    it('should count the timeout from the return to UP out of MAINTENANCE', () => {
      const { table, clock } = createTable();
      setupPair(table);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.MAINTENANCE }));
      clock.advance(HOST_TIMEOUT_MS - 1);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.UP }));
      clock.advance(HOST_TIMEOUT_MS - 1);
      table.tick();
      expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
      clock.advance(1);
      table.tick();
      expect(table.host(SOURCE)?.status).toBe(HostStatus.NON_RESPONSIVE);
    });

    it('should count the timeout from the registration of a host that never reported', () => {
      const { table, clock } = createTable();
      clock.advance(HOST_TIMEOUT_MS / 2);
      unwrap(table.registerHost({ hostId: SOURCE }));
      clock.advance(HOST_TIMEOUT_MS - 1);
      table.tick();
      expect(table.host(SOURCE)).toMatchObject({ status: HostStatus.UP, lastReportAt: null });
      clock.advance(1);
      table.tick();
      expect(table.host(SOURCE)?.status).toBe(HostStatus.NON_RESPONSIVE);
    });

    it('should say HOST_NOT_RESPONDING once, however many ticks follow', () => {
      const { table, clock } = createTable();
      setupPair(table);
      for (let i = 0; i < 3; i++) {
        clock.advance(HOST_TIMEOUT_MS);
        table.tick();
      }
      expect(table.eventLog({ hostId: SOURCE, type: EventType.HOST_NOT_RESPONDING }).items).toHaveLength(1);
      expect(eventsOf(table, EventType.VM_SET_UNKNOWN, VM)).toHaveLength(1);
    });

    it('should time out a host in MAINTENANCE too', () => {
      const { table, clock } = createTable();
      setupPair(table);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.MAINTENANCE }));
      clock.advance(HOST_TIMEOUT_MS);
      table.tick();
      expect(table.host(SOURCE)?.status).toBe(HostStatus.NON_RESPONSIVE);
    });
  });

  describe('VMs outside the table', () => {
    it('should set the VMs of a host reported NON_RESPONSIVE to UNKNOWN, keeping their host', () => {
      const { table } = createTable();
      setupPair(table);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      expect(vmOf(table)).toMatchObject({ status: VmStatus.UNKNOWN, hostId: SOURCE });
      const [unknown] = eventsOf(table, EventType.VM_SET_UNKNOWN, VM);
      expect(unknown).toMatchObject({ hostId: SOURCE, severity: Severity.WARNING });
    });

    it('should make the host UP on its next report and restore the VMs it did not mention with VM_STATUS_RESTORED', () => {
      const { table } = createTable();
      setupPair(table);
      unwrap(report(table, SOURCE, [[VM_2, UP]]));
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      const before = table.latestSeq;
      unwrap(report(table, SOURCE, [[VM_2, UP]]));
      expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
      expect(vmOf(table, VM)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
      expect(vmOf(table, VM_2)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
      expect(eventsOf(table, EventType.VM_STATUS_RESTORED).map((e) => e.vmId).sort()).toEqual([VM, VM_2]);
      expect(eventsOf(table, EventType.HOST_RECOVERED).map((e) => e.hostId)).toEqual([SOURCE]);
      const [recovered] = transitionsSince(table, before);
      expect(recovered).toMatchObject({ cause: Cause.HOST_RECOVERED, hostStatusFrom: HostStatus.NON_RESPONSIVE, hostStatusTo: HostStatus.UP });
    });

    it('should set DOWN, not restore, the VMs a returning host’s full batch does not list', () => {
      const { table } = createTable();
      setupPair(table);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      unwrap(report(table, SOURCE, [], { full: true }));
      expect(vmOf(table)).toMatchObject({ status: VmStatus.DOWN, hostId: null });
      expect(eventsOf(table, EventType.VM_STATUS_RESTORED)).toHaveLength(0);
    });
  });

  describe('entries of a host that stops responding', () => {
    it('should freeze the entry: stalled, reason naming the host, VM still MIGRATING_FROM', () => {
      const { table } = createTable();
      setupPair(table);
      startMigration(table, VM, DESTINATION);
      confirm(table);
      unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
      const frozen = entry(table);
      expect(frozen.stalled).toBe(true);
      expect(frozen.stalledReason).toContain(DESTINATION);
      expect(frozen.stalledReason).toContain(NOT_RESPONDING);
      expect(vmOf(table).status).toBe(VmStatus.MIGRATING_FROM);
      const [stalled] = eventsOf(table, EventType.MIGRATION_STALLED, VM);
      expect(stalled).toMatchObject({ severity: Severity.WARNING, migrationId: frozen.id });
      expect(stalled?.message).toContain(DESTINATION);
    });

    it('should thaw the entry when the host reports again', () => {
      const { table } = createTable();
      setupPair(table);
      startMigration(table, VM, DESTINATION);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      unwrap(report(table, SOURCE, []));
      expect(entry(table)).toMatchObject({ stalled: false, stalledReason: null });
    });

    it('should apply the report that brings a NON_RESPONSIVE destination back, and thaw the entry', () => {
      const { table } = createTable();
      setupPair(table);
      startMigration(table, VM, DESTINATION);
      unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }));
      unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
      expect(table.host(DESTINATION)?.status).toBe(HostStatus.UP);
      expect(entry(table)).toMatchObject({ stalled: false, destination: { report: MIGRATING_TO } });
    });
  });

  describe('MAINTENANCE', () => {
    it('should keep a host in MAINTENANCE while it reports, and trust its reports', () => {
      const { table } = createTable();
      setupPair(table);
      const { id } = startMigration(table, VM, DESTINATION);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.MAINTENANCE }));
      confirm(table);
      unwrap(report(table, SOURCE, [[VM, DOWN]]));
      unwrap(report(table, DESTINATION, [[VM, UP]]));
      expect(table.host(SOURCE)?.status).toBe(HostStatus.MAINTENANCE);
      expect(table.migration(id)?.state).toBe(MigrationState.SUCCEEDED);
    });

    it('should take a host out of MAINTENANCE back to UP', () => {
      const { table } = createTable();
      setupPair(table);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.MAINTENANCE }));
      const back = unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.UP }));
      expect(back.status).toBe(HostStatus.UP);
    });
  });

  describe('refusals of reportHostStatus', () => {
    it('should refuse an unknown host with HOST_NOT_FOUND', () => {
      const { table } = createTable();
      expectRefused(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.MAINTENANCE }), ErrorCode.HOST_NOT_FOUND, 'hostId');
    });

    it('should refuse REBOOTING: only a successful fence reboots a host', () => {
      const { table } = createTable();
      setupPair(table);
      const before = observe(table);
      expectRefused(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.REBOOTING }), ErrorCode.INVALID_INPUT, 'status');
      expect(observe(table)).toEqual(before);
    });

    it('should accept NON_RESPONSIVE for a REBOOTING host', () => {
      const { table } = createTable();
      setupPair(table);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      unwrap(table.reportFenceResult({ hostId: SOURCE, succeeded: true, method: FenceMethod.MANUAL }));
      expect(unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE })).status).toBe(HostStatus.NON_RESPONSIVE);
    });

    it.each([HostStatus.UP, HostStatus.MAINTENANCE])('should refuse %s for a NON_RESPONSIVE host: only its own report brings it back', (status) => {
      const { table } = createTable();
      setupPair(table);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      const before = observe(table);
      expectRefused(table.reportHostStatus({ hostId: SOURCE, status }), ErrorCode.INVALID_INPUT, 'status');
      expect(observe(table)).toEqual(before);
    });
  });
});
