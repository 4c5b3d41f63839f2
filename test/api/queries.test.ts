import { beforeEach, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { graphql } from '../gql/index.js';
import { arrange, completeMigration, migrate, report } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';

const VM = graphql(`
  query OneVm($id: ID!) {
    vm(id: $id) { id status location hostId host { id cluster } migration { id state } }
  }
`);

const VMS = graphql(`
  query VmPage($status: VmStatus, $hostId: ID, $first: Int, $after: String) {
    vms(status: $status, hostId: $hostId, first: $first, after: $after) {
      edges { cursor node { id status host { id } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`);

const HOSTS = graphql(`
  query HostList($cluster: String, $status: HostStatus) {
    hosts(cluster: $cluster, status: $status) { id cluster status }
    host(id: "host-a") { id status lastReportAt vms { id status } }
    missing: host(id: "host-x") { id }
  }
`);

const MIGRATIONS = graphql(`
  query MigrationPage($state: MigrationState, $vmId: ID, $hostId: ID, $first: Int, $after: String) {
    migrations(state: $state, vmId: $vmId, hostId: $hostId, first: $first, after: $after) {
      edges { cursor node { id state vm { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const MIGRATION = graphql(`
  query OneMigration($id: ID!) {
    migration(id: $id) {
      id vmId vm { id status } sourceHostId source { id } destinationHostId destination { id }
      sourceReport destinationReport vmStatus location state stalled stalledReason cancelRequested
      attempt attempts { attempt destinationHostId destination { id } state startedAt endedAt reason }
      progress startedAt endedAt reason
    }
  }
`);

const EVENTS = graphql(`
  query EventPage($after: String, $first: Int, $vmId: ID, $hostId: ID, $type: EventType) {
    events(after: $after, first: $first, vmId: $vmId, hostId: $hostId, type: $type) {
      edges { cursor node { cursor at type severity message vmId hostId migrationId } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const DECISION_TABLE = graphql(`
  query DecisionTable {
    decisionTable { row sourceReport destinationReport vmStatus location outcome reachable note }
  }
`);

const ENGINE = graphql(`
  query EngineInfo {
    engine { epoch startedAt cursor version }
  }
`);

describe('queries', () => {
  const server = serverPerTest();
  let migrationId: string;
  const startedAt = () => new Date(server().clock.nowMs).toISOString();

  beforeEach(async () => {
    // vm-1 migrated host-a → host-b (succeeded); vm-2 is migrating host-a → host-c; vm-3 runs on host-a, vm-4 on host-b.
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2', 'vm-3'], 'host-b': ['vm-4'], 'host-c': [] });
    await arrange(server(), { 'host-z': [] }, 'blue');
    migrationId = await migrate(server(), 'vm-1', 'host-b');
    await completeMigration(server(), 'vm-1', 'host-a', 'host-b');
    await migrate(server(), 'vm-2', 'host-c');
  });

  it('vm: should give a VM with its host and migration, and null for an unknown one', async () => {
    expect((await server().data(VM, { id: 'vm-2' })).vm).toEqual({
      id: 'vm-2',
      status: 'MIGRATING_FROM',
      location: 'SOURCE',
      hostId: 'host-a',
      host: { id: 'host-a', cluster: 'default' },
      migration: { id: expect.any(String), state: 'IN_PROGRESS' },
    });
    expect((await server().data(VM, { id: 'vm-1' })).vm).toMatchObject({ status: 'UP', host: { id: 'host-b' }, migration: null });
    expect((await server().data(VM, { id: 'vm-x' })).vm).toBeNull();
  });

  it('vms: should page through VMs in the order Transit heard of them, with no gap and no repeat', async () => {
    const first = (await server().data(VMS, { first: 3 })).vms;
    expect(first.edges.map((e) => e.node.id)).toEqual(['vm-1', 'vm-2', 'vm-3']);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0]?.cursor, endCursor: first.edges[2]?.cursor });
    const second = (await server().data(VMS, { first: 3, after: first.pageInfo.endCursor })).vms;
    expect(second.edges.map((e) => e.node.id)).toEqual(['vm-4']);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });

  it('vms: should filter by status and by host', async () => {
    const byStatus = (await server().data(VMS, { status: 'MIGRATING_FROM' })).vms.edges.map((e) => e.node.id);
    expect(byStatus).toEqual(['vm-2']);
    const byHost = (await server().data(VMS, { hostId: 'host-b' })).vms.edges.map((e) => e.node.id);
    expect(byHost).toEqual(['vm-1', 'vm-4']);
  });

  it('hosts and host: should list hosts by id, filtered by cluster and status', async () => {
    const all = await server().data(HOSTS, {});
    expect(all.hosts.map((h) => h.id)).toEqual(['host-a', 'host-b', 'host-c', 'host-z']);
    expect(all.host).toEqual({ id: 'host-a', status: 'UP', lastReportAt: startedAt(), vms: [{ id: 'vm-2', status: 'MIGRATING_FROM' }, { id: 'vm-3', status: 'UP' }] });
    expect(all.missing).toBeNull();
    expect((await server().data(HOSTS, { cluster: 'blue' })).hosts).toEqual([{ id: 'host-z', cluster: 'blue', status: 'UP' }]);
    expect((await server().data(HOSTS, { status: 'MAINTENANCE' })).hosts).toEqual([]);
  });

  it('migration: should give a decided migration with its attempts', async () => {
    const { migration } = await server().data(MIGRATION, { id: migrationId });
    expect(migration).toEqual({
      id: migrationId,
      vmId: 'vm-1',
      vm: { id: 'vm-1', status: 'UP' },
      sourceHostId: 'host-a',
      source: { id: 'host-a' },
      destinationHostId: 'host-b',
      destination: { id: 'host-b' },
      sourceReport: 'DOWN',
      destinationReport: 'UP',
      vmStatus: 'UP',
      location: 'DESTINATION',
      state: 'SUCCEEDED',
      stalled: false,
      stalledReason: null,
      cancelRequested: false,
      attempt: 1,
      attempts: [
        { attempt: 1, destinationHostId: 'host-b', destination: { id: 'host-b' }, state: 'SUCCEEDED', startedAt: startedAt(), endedAt: startedAt(), reason: expect.any(String) },
      ],
      progress: 100,
      startedAt: startedAt(),
      endedAt: startedAt(),
      reason: expect.any(String),
    });
    expect((await server().data(MIGRATION, { id: 'no-such-migration' })).migration).toBeNull();
  });

  it('migrations: should list migrations in flight and decided, filtered and paged', async () => {
    const all = (await server().data(MIGRATIONS, {})).migrations;
    expect(all.edges.map((e) => [e.node.vm.id, e.node.state])).toEqual([
      ['vm-1', 'SUCCEEDED'],
      ['vm-2', 'IN_PROGRESS'],
    ]);
    expect((await server().data(MIGRATIONS, { state: 'IN_PROGRESS' })).migrations.edges.map((e) => e.node.vm.id)).toEqual(['vm-2']);
    expect((await server().data(MIGRATIONS, { vmId: 'vm-1' })).migrations.edges.map((e) => e.node.id)).toEqual([migrationId]);
    expect((await server().data(MIGRATIONS, { hostId: 'host-c' })).migrations.edges.map((e) => e.node.vm.id)).toEqual(['vm-2']);
    const page = (await server().data(MIGRATIONS, { first: 1 })).migrations;
    expect(page.pageInfo.hasNextPage).toBe(true);
    const next = (await server().data(MIGRATIONS, { first: 1, after: page.pageInfo.endCursor })).migrations;
    expect(next.edges.map((e) => e.node.vm.id)).toEqual(['vm-2']);
  });

  it('events: should page through the event log, filtered by VM, host and type', async () => {
    const all = (await server().data(EVENTS, {})).events.edges.map((e) => e.node);
    expect(all.map((e) => [e.type, e.vmId])).toEqual([
      ['MIGRATION_STARTED', 'vm-1'],
      ['MIGRATION_SUCCEEDED', 'vm-1'],
      ['MIGRATION_STARTED', 'vm-2'],
    ]);
    expect(all.every((e) => e.at === startedAt())).toBe(true);
    const first = (await server().data(EVENTS, { first: 1 })).events;
    expect(first.pageInfo.hasNextPage).toBe(true);
    const rest = (await server().data(EVENTS, { after: first.pageInfo.endCursor })).events.edges.map((e) => e.node.type);
    expect(rest).toEqual(['MIGRATION_SUCCEEDED', 'MIGRATION_STARTED']);
    expect((await server().data(EVENTS, { vmId: 'vm-2' })).events.edges.map((e) => e.node.type)).toEqual(['MIGRATION_STARTED']);
    expect((await server().data(EVENTS, { type: 'MIGRATION_SUCCEEDED' })).events.edges.map((e) => e.node.migrationId)).toEqual([migrationId]);
    await report(server(), 'host-b', [{ vmId: 'vm-4', status: 'DOWN', exitReason: 'ERROR' }]);
    const down = (await server().data(EVENTS, { hostId: 'host-b', type: 'VM_DOWN' })).events.edges.map((e) => e.node);
    expect(down).toEqual([expect.objectContaining({ vmId: 'vm-4', severity: 'ERROR', message: expect.stringContaining('ERROR') })]);
  });

  it("decisionTable: should list the seed's eight rows first, in order", async () => {
    const { decisionTable } = await server().data(DECISION_TABLE, {});
    expect(decisionTable.slice(0, 8).map((r) => [r.row, r.sourceReport, r.destinationReport, r.vmStatus, r.location, r.outcome])).toEqual([
      [1, 'DOWN', 'DOWN', 'DOWN', null, 'VM_DOWN'],
      [2, 'DOWN', 'UP', 'UP', 'DESTINATION', 'SUCCEEDED'],
      [3, 'UP', 'DOWN', 'UP', 'SOURCE', 'FAILED'],
      [4, 'MIGRATING_FROM', 'DOWN', 'MIGRATING_FROM', 'SOURCE', 'IN_PROGRESS'],
      [5, 'MIGRATING_FROM', 'UP', 'MIGRATING_FROM', 'SOURCE', 'IN_PROGRESS'],
      [6, 'MIGRATING_FROM', 'MIGRATING_TO', 'MIGRATING_FROM', 'SOURCE', 'IN_PROGRESS'],
      [7, 'DOWN', 'MIGRATING_TO', 'MIGRATING_FROM', 'SOURCE', 'IN_PROGRESS'],
      [8, 'UP', 'MIGRATING_TO', 'MIGRATING_FROM', 'SOURCE', 'IN_PROGRESS'],
    ]);
    expect(decisionTable).toContainEqual(expect.objectContaining({ sourceReport: 'UP', destinationReport: 'UP', row: null, outcome: 'IN_PROGRESS', reachable: true }));
    expect(decisionTable).toContainEqual(expect.objectContaining({ sourceReport: null, destinationReport: null }));
  });

  it('engine: should give the epoch, start time, latest cursor and version', async () => {
    const { engine } = await server().data(ENGINE, {});
    expect(engine).toEqual({
      epoch: server().app.table.epoch,
      startedAt: startedAt(),
      cursor: server().app.table.cursor,
      version: packageJson.version,
    });
    expect(engine.cursor.startsWith(`${engine.epoch}:`)).toBe(true);
  });
});
