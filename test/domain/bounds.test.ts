/**
 * What one client can make the table hold or do (docs/contract.md §11; issue 12, item 2): VMs per
 * host, hosts, how long a VM DOWN on no host is remembered, `removeHost`, and the work one tick
 * does.
 */
import { describe, expect, it } from 'vitest';
import { Cause, ErrorCode, HostStatus, MigrationState, VmStatus } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  DOWN,
  expectRefused,
  HOST_TIMEOUT_MS,
  MIGRATING_FROM,
  MIGRATING_TO,
  observe,
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
} from '../utils/domain.js';

const vmsNamed = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const up = (ids: readonly string[]) => ids.map((id) => [id, UP] as const);

describe('VMs per host (TRANSIT_MAX_VMS_PER_HOST)', () => {
  const MAX = 3;

  it('should refuse whole, with TOO_MANY_VMS, a batch that would place more VMs on its host than the cap', () => {
    const { table } = createTable({ maxVmsPerHost: MAX });
    unwrap(report(table, SOURCE, up(vmsNamed('a', MAX))));
    const before = observe(table);
    expectRefused(report(table, SOURCE, up(['a-new'])), ErrorCode.TOO_MANY_VMS, 'vms');
    expectRefused(report(table, SOURCE, up(vmsNamed('b', 10_000 / 1_000))), ErrorCode.TOO_MANY_VMS, 'vms');
    expect(observe(table)).toEqual(before);
    expect(table.vm('a-new')).toBeUndefined();
  });

  it('should accept a batch that keeps the count within the cap: VMs that leave make room for those that arrive', () => {
    const { table } = createTable({ maxVmsPerHost: MAX });
    unwrap(report(table, SOURCE, up(vmsNamed('a', MAX))));
    unwrap(report(table, SOURCE, up(['a-0', 'a-1', 'c-0']), { full: true })); // a-2 is DOWN: c-0 takes its place
    unwrap(report(table, SOURCE, [['a-0', DOWN], ['c-1', UP]]));
    expect(table.vmIdsOnHost(SOURCE).slice().sort()).toEqual(['a-1', 'c-0', 'c-1']);
    unwrap(report(table, SOURCE, up(['a-1', 'c-0', 'c-1']), { full: true })); // the same again
  });

  it('should count the VMs migrating to the host, and the migrations it reports, against its cap', () => {
    const { table } = createTable({ maxVmsPerHost: MAX });
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: vmsNamed('d', MAX - 1) } });
    startMigration(table, VM, DESTINATION);
    expectRefused(report(table, DESTINATION, up(['d-new'])), ErrorCode.TOO_MANY_VMS, 'vms');
    expectRefused(report(table, DESTINATION, [['found', MIGRATING_TO]]), ErrorCode.TOO_MANY_VMS, 'vms');
    // Its own migration's report is no new VM.
    unwrap(report(table, DESTINATION, [[VM, MIGRATING_TO]]));
    expectRefused(report(table, SOURCE, [['s-1', UP], ['s-2', MIGRATING_FROM], ['s-3', UP]]), ErrorCode.TOO_MANY_VMS, 'vms');
  });

  it('should still accept the batches of a host above its cap that add nothing', () => {
    const { table } = createTable({ maxVmsPerHost: 2 });
    setupFleet(table, { hosts: { [SOURCE]: ['v-1'], [DESTINATION]: ['d-1', 'd-2'] } });
    startMigration(table, 'v-1', DESTINATION);
    succeed(table, 'v-1'); // DESTINATION now runs 3
    unwrap(report(table, DESTINATION, up(['d-1', 'd-2', 'v-1']), { full: true }));
    expectRefused(report(table, DESTINATION, up(['d-3'])), ErrorCode.TOO_MANY_VMS, 'vms');
  });
});

describe('hosts (TRANSIT_MAX_HOSTS)', () => {
  it('should refuse a new host beyond the cap, from registerHost or a first report, with TOO_MANY_HOSTS', () => {
    const { table } = createTable({ maxHosts: 2 });
    unwrap(table.registerHost({ hostId: SOURCE }));
    unwrap(report(table, DESTINATION, []));
    const before = observe(table);
    expectRefused(table.registerHost({ hostId: OTHER }), ErrorCode.TOO_MANY_HOSTS, 'hostId');
    expectRefused(report(table, OTHER, up(['x'])), ErrorCode.TOO_MANY_HOSTS, 'hostId');
    expect(observe(table)).toEqual(before);
    // Known hosts are not concerned, and a removed host frees its place.
    unwrap(report(table, SOURCE, up([VM])));
    unwrap(table.registerHost({ hostId: DESTINATION, cluster: 'elsewhere' }));
    unwrap(table.removeHost({ hostId: DESTINATION }));
    unwrap(table.registerHost({ hostId: OTHER }));
  });
});

describe('removeHost', () => {
  it('should forget a host that runs no VM and is no side of a migration, with a transition', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [OTHER]: [] } });
    const seq = table.latestSeq;
    expect(unwrap(table.removeHost({ hostId: OTHER }))).toBe(OTHER);
    expect(table.host(OTHER)).toBeUndefined();
    expect(table.hosts().map((h) => h.id)).toEqual([SOURCE]);
    expect(transitionsSince(table, seq).map((t) => [t.cause, t.hostId, t.hostStatusFrom, t.hostStatusTo])).toEqual([[Cause.HOST_REMOVED, OTHER, HostStatus.UP, null]]);
    expect(table.checkConsistency()).toEqual([]);
    // It registers afresh with its next report.
    unwrap(report(table, OTHER, []));
    expect(table.host(OTHER)?.status).toBe(HostStatus.UP);
  });

  it('should refuse an unknown host with HOST_NOT_FOUND', () => {
    const { table } = createTable();
    expectRefused(table.removeHost({ hostId: OTHER }), ErrorCode.HOST_NOT_FOUND, 'hostId');
  });

  it('should refuse, with HOST_NOT_EMPTY, a host that runs a VM (UNKNOWN included) or is a side of a migration in flight', () => {
    const { table, clock } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: ['o-1'] } });
    startMigration(table, VM, DESTINATION);
    const before = observe(table);
    expectRefused(table.removeHost({ hostId: SOURCE }), ErrorCode.HOST_NOT_EMPTY, 'hostId');
    expectRefused(table.removeHost({ hostId: DESTINATION }), ErrorCode.HOST_NOT_EMPTY, 'hostId');
    expectRefused(table.removeHost({ hostId: OTHER }), ErrorCode.HOST_NOT_EMPTY, 'hostId');
    expect(observe(table)).toEqual(before);
    unwrap(table.reportHostStatus({ hostId: OTHER, status: HostStatus.NON_RESPONSIVE }));
    expect(table.vm('o-1')?.status).toBe(VmStatus.UNKNOWN);
    expectRefused(table.removeHost({ hostId: OTHER }), ErrorCode.HOST_NOT_EMPTY, 'hostId');
    // Fenced, its VMs are DOWN: it may go.
    unwrap(table.reportFenceResult({ hostId: OTHER, succeeded: true, method: 'MANUAL' }));
    unwrap(table.removeHost({ hostId: OTHER }));
    clock.advance(1);
    succeed(table);
    unwrap(report(table, SOURCE, [], { full: true }));
    unwrap(table.removeHost({ hostId: SOURCE }));
    expect(table.migrations({ hostId: SOURCE }).items.map((m) => m.state)).toEqual([MigrationState.SUCCEEDED]); // history stays
  });
});

describe('VMs DOWN on no host (TRANSIT_VM_RETENTION_MS)', () => {
  const RETENTION_MS = 10_000;

  it('should forget a VM DOWN on no host that no report has named for the retention, and only such a VM', () => {
    const { table, clock } = createTable({ vmRetentionMs: RETENTION_MS, hostTimeoutMs: RETENTION_MS * 10 });
    unwrap(report(table, SOURCE, [['gone', DOWN], ['stays', UP]]));
    clock.advance(RETENTION_MS - 1);
    table.tick();
    expect(table.vm('gone')?.status).toBe(VmStatus.DOWN);
    clock.advance(1);
    table.tick();
    expect(table.vm('gone')).toBeUndefined();
    expect(table.vm('stays')?.status).toBe(VmStatus.UP);
    expect(table.vms({}).items.map((v) => v.id)).toEqual(['stays']);
    expect(table.vmCount()).toBe(1);
    expect(table.checkConsistency()).toEqual([]);
  });

  it('should count the retention from the latest report that names the VM, or from when it went down', () => {
    const { table, clock } = createTable({ vmRetentionMs: RETENTION_MS, hostTimeoutMs: RETENTION_MS * 10 });
    unwrap(report(table, SOURCE, [['named', DOWN], ['down-later', UP]]));
    clock.advance(RETENTION_MS - 1);
    unwrap(report(table, DESTINATION, [['named', DOWN]])); // another host says it does not run it: named
    unwrap(report(table, SOURCE, [['down-later', DOWN]]));
    clock.advance(RETENTION_MS - 1);
    table.tick();
    expect(table.vm('named')).toBeDefined();
    expect(table.vm('down-later')).toBeDefined();
    clock.advance(1);
    table.tick();
    expect(table.vm('named')).toBeUndefined();
    expect(table.vm('down-later')).toBeUndefined();
  });

  it('should keep at most TRANSIT_HISTORY_LIMIT VMs DOWN on no host, forgetting the least recently named first', () => {
    const { table } = createTable({ historyLimit: 5 });
    unwrap(report(table, SOURCE, vmsNamed('d', 8).map((id) => [id, DOWN] as const)));
    unwrap(report(table, SOURCE, up(['alive'])));
    expect(table.vms({}).items.map((v) => v.id)).toEqual(['d-3', 'd-4', 'd-5', 'd-6', 'd-7', 'alive']);
    unwrap(report(table, SOURCE, [['d-3', DOWN], ['d-8', DOWN]])); // d-3 named again; d-4 is the oldest now
    expect(table.vms({}).items.map((v) => v.id)).toEqual(['d-3', 'd-5', 'd-6', 'd-7', 'alive', 'd-8']);
    expect(table.checkConsistency()).toEqual([]);
  });
});

describe('work per tick', () => {
  it('should mark silent hosts NON_RESPONSIVE a bounded number of VMs per tick, the rest on the next ticks', () => {
    const { table, clock } = createTable({ tickBudgetVms: 5 });
    setupFleet(table, { hosts: { h1: vmsNamed('h1', 3), h2: vmsNamed('h2', 3), h3: vmsNamed('h3', 3) } });
    clock.advance(HOST_TIMEOUT_MS);
    const silent = () => table.hosts().filter((h) => h.status === HostStatus.NON_RESPONSIVE).length;
    table.tick();
    expect(silent()).toBe(2); // a host counts its VMs and itself: 4 + 4 reach the budget of 5
    table.tick();
    expect(silent()).toBe(3);
    expect(table.vms({ status: VmStatus.UNKNOWN }).items).toHaveLength(9);
  });
});
