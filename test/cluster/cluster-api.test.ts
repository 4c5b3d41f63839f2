/**
 * Clustered mode through the public API (docs/contract.md §13), with Transit servers in this
 * process sharing one real redis-server: one engine, replicas that forward queries and mutations
 * to it and serve subscriptions from the change stream, resume across processes, pending orders
 * on a replica, a new engine run, the fence on the stream, and Redis going away and coming back.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, completeMigration, migrate, report } from '../utils/api.js';
import { CLUSTER_TIMING, eventually, freshPrefix, health, startClusterServers } from '../utils/cluster.js';
import { skipWithoutRedis, startRedis, type RedisServer } from '../utils/redis-server.js';
import { startServer, type TestServer } from '../utils/server.js';
import { subscribeSse } from '../utils/sse.js';
import { subscribeWs, wsClient, type WsClient } from '../utils/ws.js';

const TRANSITIONS = graphql(`
  subscription ClusterTransitions($after: String) {
    transitions(after: $after) {
      cursor
      cause
      vmId
      migration { id state source { id status } destination { id } vm { id status } }
    }
  }
`);

const HOST_ORDERS = graphql(`
  subscription ClusterHostOrders($hostId: ID!) {
    hostCommands(hostId: $hostId) { kind migrationId vmId attempt epoch }
  }
`);

const OVERVIEW = graphql(`
  query ClusterOverview {
    engine { epoch cursor }
    hosts { id status }
    vms(first: 10) { edges { node { id status host { id } } } }
  }
`);

const REPORT_ONE = graphql(`
  mutation ClusterReportOne($input: ReportVmStatusesInput!) {
    reportVmStatuses(input: $input) { errors { code } }
  }
`);

const MIGRATE_ANY = graphql(`
  mutation ClusterMigrate($vmId: ID!) {
    migrateVm(input: { vmId: $vmId }) { migration { id } errors { code } }
  }
`);

describe.skipIf(skipWithoutRedis())('clustered mode', () => {
  let redis: RedisServer;
  let servers: TestServer[] = [];
  const clients: WsClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.dispose();
    for (const server of servers.splice(0)) await server.stop();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  const ws = (server: TestServer) => {
    const client = wsClient(server.wsUrl);
    clients.push(client);
    return client;
  };

  it('should make one process the engine and the others replicas, each saying so on /health with the same epoch', async () => {
    servers = await startClusterServers(redis.url, 3);
    const reports = await Promise.all(servers.map((s) => health(s.url)));
    expect(reports.map((r) => r.role)).toEqual(['engine', 'replica', 'replica']);
    expect(new Set(reports.map((r) => r.epoch)).size).toBe(1);
    expect(reports[0]?.epoch).toMatch(/^\d+$/);
    expect(reports.every((r) => r.redis === 'reachable')).toBe(true);
    const metrics = await (await fetch(new URL('/metrics', servers[1]?.url))).text();
    expect(metrics).toMatch(/transit_cluster_role\{role="replica"\} 1/);
    expect(metrics).toMatch(/transit_stream_lag_seconds \d/);
    expect(await (await fetch(new URL('/metrics', servers[0]?.url))).text()).toMatch(/transit_takeovers_total 1/);
  });

  it("should forward a replica's queries and mutations to the engine and answer with the engine's result", async () => {
    servers = await startClusterServers(redis.url, 2);
    const [engine, replica] = servers as [TestServer, TestServer];
    await arrange(replica, { 'host-a': ['vm-1', 'vm-2'], 'host-b': [] });
    const { migrateVm } = await replica.data(MIGRATE_ANY, { vmId: 'vm-1' });
    expect(migrateVm.errors).toEqual([]);
    expect(migrateVm.migration?.id).toMatch(new RegExp(`^${engine.app.table.epoch}-`));
    const fromReplica = await replica.data(OVERVIEW);
    expect(fromReplica).toEqual(await engine.data(OVERVIEW));
    expect(fromReplica.engine.epoch).toBe(engine.app.table.epoch);
    expect(fromReplica.vms.edges.map((e) => [e.node.id, e.node.status])).toEqual([
      ['vm-1', 'MIGRATING_FROM'],
      ['vm-2', 'UP'],
    ]);
  });

  it('should forward a request sent to a replica the moment it starts listening, before it has asked Redis who the engine is', async () => {
    const redisKeyPrefix = freshPrefix();
    servers = await startClusterServers(redis.url, 1, { redisKeyPrefix });
    const [engine] = servers as [TestServer];
    // No wait for the replica's /health: its first request may come before its first lease check.
    const fresh = await startServer({ redisUrl: redis.url, redisKeyPrefix, ...CLUSTER_TIMING });
    servers.push(fresh);
    const { engine: seen } = await fresh.data(OVERVIEW);
    expect(seen.epoch).toBe(engine.app.table.epoch);
    expect((await health(fresh.url)).redis).toBe('reachable');
  });

  it('should stream transitions on a replica with their hosts resolved, and resume on another process with no gap and no duplicate', async () => {
    servers = await startClusterServers(redis.url, 3);
    const [engine, b, c] = servers as [TestServer, TestServer, TestServer];
    const { engine: start } = await b.data(OVERVIEW);
    const whole = subscribeWs(ws(b), TRANSITIONS, { after: start.cursor });
    const first = subscribeSse(c.url, TRANSITIONS, { after: start.cursor });
    await arrange(engine, { 'host-a': ['vm-1', 'vm-2'], 'host-b': [] });
    await migrate(c, 'vm-1', 'host-b');
    await first.until((s) => s.data.length >= 4);
    first.cancel();
    const seen = first.data.map((d) => d.transitions.cursor);
    // The rest of the run, while the first subscriber is away.
    await completeMigration(b, 'vm-1', 'host-a', 'host-b');
    await report(engine, 'host-a', [{ vmId: 'vm-2', status: 'DOWN' }]);
    const resumed = subscribeWs(ws(engine), TRANSITIONS, { after: seen.at(-1) as string });
    const kept = engine.app.table.transitionsAfter(0);
    const total = `${engine.app.table.epoch}:${kept.ok ? kept.items.at(-1)?.seq : 'none'}`;
    await whole.until((s) => s.data.at(-1)?.transitions.cursor === total);
    await resumed.until((s) => s.data.at(-1)?.transitions.cursor === total);
    const all = whole.data.map((d) => d.transitions.cursor);
    expect([...seen, ...resumed.data.map((d) => d.transitions.cursor)]).toEqual(all);
    expect(new Set(all).size).toBe(all.length);
    // Nested objects are resolved on the replica, from its view of the table.
    const decided = whole.data.map((d) => d.transitions.migration).find((m) => m?.state === 'SUCCEEDED');
    expect(decided).toMatchObject({ source: { id: 'host-a', status: 'UP' }, destination: { id: 'host-b' }, vm: { id: 'vm-1', status: 'UP' } });
    expect(whole.errors).toEqual([]);
  });

  it('should give a host agent subscribing on a replica its pending orders first, carrying the engine epoch', async () => {
    servers = await startClusterServers(redis.url, 2);
    const [engine, replica] = servers as [TestServer, TestServer];
    await arrange(engine, { 'host-a': ['vm-1', 'vm-2'], 'host-b': [] });
    const pending = await migrate(engine, 'vm-1', 'host-b');
    const orders = subscribeWs(ws(replica), HOST_ORDERS, { hostId: 'host-a' });
    await orders.until((s) => s.data.length >= 1);
    const live = await migrate(replica, 'vm-2', 'host-b');
    await orders.until((s) => s.data.length >= 2);
    const epoch = Number(engine.app.table.epoch);
    expect(orders.data.map((d) => [d.hostCommands.migrationId, d.hostCommands.kind, d.hostCommands.epoch])).toEqual([
      [pending, 'MIGRATE', epoch],
      [live, 'MIGRATE', epoch],
    ]);
  });

  it('should end every subscription with RESYNC_REQUIRED when a new engine run begins, and refuse the old cursors', async () => {
    servers = await startClusterServers(redis.url, 2);
    const [engine, replica] = servers as [TestServer, TestServer];
    await arrange(engine, { 'host-a': ['vm-1'], 'host-b': [] });
    const before = (await replica.data(OVERVIEW)).engine;
    const watching = subscribeWs(ws(replica), TRANSITIONS, {});
    const orders = subscribeWs(ws(replica), HOST_ORDERS, { hostId: 'host-a' });
    await replica.untilSubscribers(2);
    // The engine shuts down and gives its lease back: the replica takes over at its next tick.
    await engine.stop();
    servers = [replica];
    const after = await eventually(() => health(replica.url), (h) => h.role === 'engine', 'the replica to take over');
    expect(Number(after.epoch)).toBeGreaterThan(Number(before.epoch));
    await watching.until((s) => s.ending !== null);
    await orders.until((s) => s.ending !== null);
    expect(watching.errorCodes).toEqual(['RESYNC_REQUIRED']);
    expect(orders.errorCodes).toEqual(['RESYNC_REQUIRED']);
    const old = subscribeWs(ws(replica), TRANSITIONS, { after: before.cursor });
    await old.until((s) => s.ending !== null);
    expect(old.errorCodes).toEqual(['RESYNC_REQUIRED']);
    // The new engine starts empty and is rebuilt from reports.
    expect((await replica.data(OVERVIEW)).hosts).toEqual([]);
  });

  it('should append the changes of concurrent mutations in the order it made them, from its first change on', async () => {
    servers = await startClusterServers(redis.url, 1);
    const [engine] = servers as [TestServer];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => engine.request(REPORT_ONE, { input: { hostId: `host-${i % 6}`, vms: [{ vmId: `vm-${i}`, status: 'UP' }] } })),
    );
    expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
    expect(engine.app.cluster?.role).toBe('engine');
    const raw = new Redis(redis.url);
    try {
      const ids = (await raw.xrange(engine.app.cluster?.keys.changes as string, '-', '+')).map(([id]) => id);
      const epoch = engine.app.table.epoch;
      expect(ids).toEqual(ids.map((_, n) => `${epoch}-${n}`));
      expect(ids.length).toBeGreaterThan(60);
    } finally {
      raw.disconnect();
    }
  });

  it('should refuse the appends of an engine whose epoch another process took, and make it step down', async () => {
    servers = await startClusterServers(redis.url, 1);
    const [engine] = servers as [TestServer];
    await arrange(engine, { 'host-a': ['vm-1'], 'host-b': [] });
    const keys = engine.app.cluster?.keys as { epoch: string; changes: string };
    const epoch = engine.app.table.epoch;
    const raw = new Redis(redis.url);
    const entriesOf = async (run: string) => (await raw.xrange(keys.changes, '-', '+')).filter(([id]) => id.startsWith(`${run}-`)).length;
    try {
      const entriesBefore = await entriesOf(epoch);
      // What a takeover does to the fencing token, while this engine still believes its lease.
      await raw.incr(keys.epoch);
      const { status, result } = await engine.request(MIGRATE_ANY, { vmId: 'vm-1' });
      expect(status).toBe(503);
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['ENGINE_UNAVAILABLE']);
      expect(await entriesOf(epoch)).toBe(entriesBefore);
      // It stepped down (it may have taken the lease again since, as a new engine run).
      expect(engine.app.cluster?.stepDowns).toBe(1);
    } finally {
      raw.disconnect();
    }
  });
});

describe.skipIf(skipWithoutRedis())('clustered mode when Redis goes away', () => {
  let redis: RedisServer;
  let servers: TestServer[] = [];
  const clients: WsClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) await client.dispose();
    for (const server of servers.splice(0)) await server.stop();
    await redis?.stop();
  });

  it('should answer ENGINE_UNAVAILABLE and end subscriptions with it while Redis is away, then recover without a restart', async () => {
    servers = await startClusterServers(redis.url, 2);
    const [engine, replica] = servers as [TestServer, TestServer];
    await arrange(engine, { 'host-a': ['vm-1'], 'host-b': [] });
    const client = wsClient(replica.wsUrl);
    clients.push(client);
    const watching = subscribeWs(client, TRANSITIONS, {});
    await replica.untilSubscribers(1);
    await redis.kill();
    // The engine cannot write or renew: it stops applying; the replica has no engine to forward to.
    await eventually(() => health(engine.url), (h) => h.role === 'replica', 'the engine to step down');
    const refused = await replica.request(MIGRATE_ANY, { vmId: 'vm-1' });
    expect(refused.status).toBe(503);
    expect(refused.result.errors?.map((e) => e.extensions?.code)).toEqual(['ENGINE_UNAVAILABLE']);
    await watching.until((s) => s.ending !== null);
    expect(watching.errorCodes).toEqual(['ENGINE_UNAVAILABLE']);
    await redis.restart();
    const [a, b] = await eventually(
      () => Promise.all(servers.map((s) => health(s.url))),
      (hs) => hs.filter((h) => h.role === 'engine').length === 1 && hs.every((h) => h.epoch !== null && h.epoch === hs[0]?.epoch),
      'one engine again, known to both',
    );
    expect([a?.role, b?.role].sort()).toEqual(['engine', 'replica']);
    await arrange(replica, { 'host-a': ['vm-1'], 'host-b': [] });
    const { migrateVm } = await replica.data(MIGRATE_ANY, { vmId: 'vm-1' });
    expect(migrateVm.errors).toEqual([]);
  });
});

describe.skipIf(skipWithoutRedis())('clustered mode when Redis restarts with its data', () => {
  let redis: RedisServer;
  let servers: TestServer[] = [];
  const clients: WsClient[] = [];

  beforeAll(async () => {
    redis = await startRedis({ persistence: true });
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) await client.dispose();
    for (const server of servers.splice(0)) await server.stop();
    await redis?.stop();
  });

  it('should carry on in the same engine run, subscribers included, when Redis is back before the lease runs out', async () => {
    servers = await startClusterServers(redis.url, 2, { leaseTtlMs: 8_000 });
    const [engine, replica] = servers as [TestServer, TestServer];
    await arrange(engine, { 'host-a': ['vm-1'], 'host-b': [] });
    const epoch = engine.app.table.epoch;
    const client = wsClient(replica.wsUrl);
    clients.push(client);
    const watching = subscribeWs(client, TRANSITIONS, {});
    await replica.untilSubscribers(1);
    await redis.kill();
    // Meanwhile the engine applies nothing: it could not write it.
    const meanwhile = await engine.request(MIGRATE_ANY, { vmId: 'vm-1' });
    expect(meanwhile.status).toBe(503);
    expect(meanwhile.result.errors?.map((e) => e.extensions?.code)).toEqual(['ENGINE_UNAVAILABLE']);
    await redis.restart();
    await eventually(() => health(engine.url), (h) => h.redis === 'reachable' && h.role === 'engine', 'the engine to reach Redis again');
    await eventually(() => replica.request(MIGRATE_ANY, { vmId: 'vm-1' }), (r) => r.status === 200, 'the replica to forward again');
    await watching.until((s) => s.data.some((d) => d.transitions.cause === 'MIGRATE_COMMAND'));
    expect(engine.app.table.epoch).toBe(epoch);
    expect(watching.errors).toEqual([]);
    expect(watching.data.every((d) => d.transitions.cursor.startsWith(`${epoch}:`))).toBe(true);
  });
});
