/**
 * Host report batches about VMs outside the table (docs/contract.md §3 "host report", docs/decisions.md
 * "Reports"): registration, partial and full batches, exit reasons, input checks.
 */
import { describe, expect, it } from 'vitest';
import { Cause, DEFAULT_CLUSTER, ErrorCode, EventType, ExitReason, HostStatus, Severity, VmStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  DOWN,
  eventsOf,
  expectRefused,
  MIGRATING_FROM,
  MIGRATING_TO,
  observe,
  OTHER_CLUSTER,
  report,
  setupPair,
  SOURCE,
  startMigration,
  succeed,
  T0_MS,
  transitionsSince,
  unwrap,
  UP,
  VM,
  VM_2,
  vmOf,
} from '../utils/domain.js';

const NEW_HOST = 'host-new';

describe('host report batches', () => {
  it('should register an unknown host with its first report, UP, in the cluster it names or the default one', () => {
    const { table } = createTable();
    unwrap(report(table, NEW_HOST, []));
    unwrap(report(table, SOURCE, [], { cluster: OTHER_CLUSTER }));
    expect(table.host(NEW_HOST)).toMatchObject({ status: HostStatus.UP, cluster: DEFAULT_CLUSTER, lastReportAt: T0_MS });
    expect(table.host(SOURCE)?.cluster).toBe(OTHER_CLUSTER);
    const [registered] = transitionsSince(table, 0);
    expect(registered).toMatchObject({ cause: Cause.HOST_REPORT, hostId: NEW_HOST, hostStatusFrom: null, hostStatusTo: HostStatus.UP });
  });

  it('should refuse a report naming another cluster for a known host with INVALID_INPUT on cluster', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]]));
    const before = observe(table);
    expectRefused(report(table, SOURCE, [[VM, DOWN]], { cluster: OTHER_CLUSTER }), ErrorCode.INVALID_INPUT, 'cluster');
    expect(observe(table)).toEqual(before);
  });

  it('should move a known host to another cluster through registerHost', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, []));
    const before = table.latestSeq;
    expect(unwrap(table.registerHost({ hostId: SOURCE, cluster: OTHER_CLUSTER })).cluster).toBe(OTHER_CLUSTER);
    expect(table.hosts({ cluster: OTHER_CLUSTER }).map((h) => h.id)).toEqual([SOURCE]);
    expect(table.hosts({ cluster: DEFAULT_CLUSTER })).toEqual([]);
    expect(transitionsSince(table, before).map((t) => [t.cause, t.hostId])).toEqual([[Cause.HOST_REGISTERED, SOURCE]]);
    unwrap(report(table, SOURCE, [], { cluster: OTHER_CLUSTER }));
  });

  it.each([
    ['destination', DESTINATION],
    ['source', SOURCE],
  ])('should refuse to move the %s of a migration in flight to another cluster, CLUSTER_MISMATCH, until it is decided (issue 12, item 9)', (_side, hostId) => {
    const { table } = createTable();
    setupPair(table);
    startMigration(table);
    const before = observe(table);
    expectRefused(table.registerHost({ hostId, cluster: OTHER_CLUSTER }), ErrorCode.CLUSTER_MISMATCH, 'cluster');
    expect(observe(table)).toEqual(before);
    // Registering it again in its own cluster is no move.
    unwrap(table.registerHost({ hostId, cluster: DEFAULT_CLUSTER }));
    succeed(table);
    expect(unwrap(table.registerHost({ hostId, cluster: OTHER_CLUSTER })).cluster).toBe(OTHER_CLUSTER);
  });

  it('should place a VM reported UP on the reporting host', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP]]));
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE, location: null, migrationId: null });
    expect(table.vmIdsOnHost(SOURCE)).toEqual([VM]);
  });

  it('should set DOWN a VM a full batch does not list, and leave it alone in a partial batch', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP], [VM_2, UP]]));
    unwrap(report(table, SOURCE, [[VM, UP]]));
    expect(vmOf(table, VM_2).status).toBe(VmStatus.UP);

    unwrap(report(table, SOURCE, [[VM, UP]], { full: true }));
    expect(vmOf(table, VM_2)).toMatchObject({ status: VmStatus.DOWN, hostId: null });
    expect(vmOf(table, VM).status).toBe(VmStatus.UP);
    expect(eventsOf(table, EventType.VM_DOWN).map((e) => [e.vmId, e.hostId])).toEqual([[VM_2, SOURCE]]);
  });

  it('should make a VM first heard of through a DOWN known, DOWN, on no host', () => {
    const { table } = createTable();
    const before = table.latestSeq;
    unwrap(report(table, SOURCE, [[VM, DOWN]]));
    expect(vmOf(table)).toMatchObject({ status: VmStatus.DOWN, hostId: null, migrationId: null });
    // Becoming known is a change too: one transition, from nothing.
    const vmTransitions = transitionsSince(table, before).filter((t) => t.vmId === VM);
    expect(vmTransitions).toMatchObject([{ from: null, to: { status: VmStatus.DOWN, hostId: null } }]);
  });

  it('should show a VM first heard of as UP coming from nothing', () => {
    const { table } = createTable();
    const before = table.latestSeq;
    unwrap(report(table, SOURCE, [[VM, UP]]));
    const vmTransitions = transitionsSince(table, before).filter((t) => t.vmId === VM);
    expect(vmTransitions).toMatchObject([{ from: null, to: { status: VmStatus.UP, hostId: SOURCE } }]);
  });

  it('should change nothing on a DOWN from a host that does not run the VM', () => {
    const { table } = createTable();
    setupPair(table);
    const before = table.latestSeq;
    unwrap(report(table, DESTINATION, [[VM, DOWN]]));
    expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: SOURCE });
    expect(table.latestSeq).toBe(before);
  });

  it('should put the exit reason into the VM_DOWN message, as an ERROR when the exit was not normal', () => {
    const { table } = createTable();
    unwrap(report(table, SOURCE, [[VM, UP], [VM_2, UP]]));
    unwrap(report(table, SOURCE, [[VM, DOWN, { exitReason: ExitReason.NORMAL }], [VM_2, DOWN, { exitReason: ExitReason.ERROR }]]));
    const [normal, error] = eventsOf(table, EventType.VM_DOWN);
    expect(normal).toMatchObject({ vmId: VM, severity: Severity.INFO });
    expect(normal?.message).toContain(ExitReason.NORMAL);
    expect(error).toMatchObject({ vmId: VM_2, severity: Severity.ERROR });
    expect(error?.message).toContain(ExitReason.ERROR);
  });

  describe('a VM UP on two hosts outside the table (docs/decisions.md)', () => {
    it('should place the VM where the latest report says and raise VM_RUNNING_ON_BOTH_HOSTS as an ERROR', () => {
      const { table } = createTable();
      setupPair(table);
      unwrap(report(table, DESTINATION, [[VM, UP]]));
      expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: DESTINATION });
      const [both, ...more] = eventsOf(table, EventType.VM_RUNNING_ON_BOTH_HOSTS);
      expect(more).toHaveLength(0);
      expect(both).toMatchObject({ severity: Severity.ERROR, vmId: VM, hostId: DESTINATION });
      expect(both?.message).toContain(SOURCE);
    });

    it('should not raise VM_RUNNING_ON_BOTH_HOSTS when the former host is not responding', () => {
      const { table } = createTable();
      setupPair(table);
      unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
      unwrap(report(table, DESTINATION, [[VM, UP]]));
      expect(vmOf(table)).toMatchObject({ status: VmStatus.UP, hostId: DESTINATION });
      expect(eventsOf(table, EventType.VM_RUNNING_ON_BOTH_HOSTS)).toHaveLength(0);
    });
  });

  describe('input checks', () => {
    it.each([
      ['progress without MIGRATING_FROM', [[VM, UP, { progress: 10 }]], 'vms.0.progress'],
      ['progress above 100', [[VM, MIGRATING_FROM, { progress: 101 }]], 'vms.0.progress'],
      ['an exit reason without DOWN', [[VM, UP, { exitReason: ExitReason.ERROR }]], 'vms.0.exitReason'],
      ['a peer without a migrating status', [[VM, DOWN, { peerHostId: DESTINATION }]], 'vms.0.peerHostId'],
      ['the reporting host as its own peer', [[VM, MIGRATING_TO, { peerHostId: SOURCE }]], 'vms.0.peerHostId'],
      ['a VM listed twice', [[VM, UP], [VM, DOWN]], 'vms.1.vmId'],
    ] as const)('should refuse %s as INVALID_INPUT on the offending field, changing nothing', (_what, lines, field) => {
      const { table } = createTable();
      const before = observe(table);
      expectRefused(report(table, SOURCE, lines), ErrorCode.INVALID_INPUT, field);
      expect(observe(table)).toEqual(before);
    });

    it('should refuse a negative sequence as INVALID_INPUT on sequence', () => {
      const { table } = createTable();
      expectRefused(report(table, SOURCE, [], { sequence: -1 }), ErrorCode.INVALID_INPUT, 'sequence');
      expect(table.host(SOURCE)).toBeUndefined();
    });

    it('should keep MIGRATING_TO legal with a peer that names another host', () => {
      const { table } = createTable();
      unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO, { peerHostId: SOURCE }]]));
      expect(table.entryOf(VM)?.source.hostId).toBe(SOURCE);
    });
  });
});
