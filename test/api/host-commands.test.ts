import { beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import type { AgentOrdersSubscription } from '../gql/graphql.js';
import { arrange, completeMigration, migrate, report } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';
import { subscribeSse } from '../utils/sse.js';
import { subscribeWs, wsClient, type WsClient } from '../utils/ws.js';

const HOST_COMMANDS = graphql(`
  subscription AgentOrders($hostId: ID!) {
    hostCommands(hostId: $hostId) { kind hostId migrationId vmId destinationHostId attempt issuedAt }
  }
`);

const CANCEL = graphql(`
  mutation AgentTestCancel($vmId: ID!) {
    cancelMigration(input: { vmId: $vmId }) { errors { code } }
  }
`);

type Order = AgentOrdersSubscription['hostCommands'];
const order = (o: Order) => ({ kind: o.kind, migrationId: o.migrationId, vmId: o.vmId, destinationHostId: o.destinationHostId, attempt: o.attempt });
const byKey = (a: ReturnType<typeof order>, b: ReturnType<typeof order>) => `${a.vmId}${a.attempt}${a.kind}`.localeCompare(`${b.vmId}${b.attempt}${b.kind}`);

describe('hostCommands', () => {
  const server = serverPerTest();
  const agents: WsClient[] = [];

  beforeEach(async () => {
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2', 'vm-3', 'vm-4'], 'host-b': [], 'host-c': [] });
    return async () => {
      for (const agent of agents.splice(0)) await agent.dispose();
    };
  });

  function connectAgent(hostId: string) {
    const agent = wsClient(server().wsUrl);
    agents.push(agent);
    return { agent, orders: subscribeWs(agent, HOST_COMMANDS, { hostId }) };
  }

  it("should deliver the source host agent's migrate and cancel orders as they are issued, and nothing to other hosts", async () => {
    const { orders } = connectAgent('host-a');
    const { orders: other } = connectAgent('host-b');
    await server().untilSubscribers(2);

    const migrationId = await migrate(server(), 'vm-1', 'host-b');
    await orders.until((s) => s.data.length === 1);
    expect(orders.data[0]?.hostCommands).toEqual({
      kind: 'MIGRATE',
      hostId: 'host-a',
      migrationId,
      vmId: 'vm-1',
      destinationHostId: 'host-b',
      attempt: 1,
      issuedAt: new Date(server().clock.nowMs).toISOString(),
    });

    await server().data(CANCEL, { vmId: 'vm-1' });
    await orders.until((s) => s.data.length === 2);
    expect(order(orders.data[1]?.hostCommands as Order)).toEqual({ kind: 'CANCEL', migrationId, vmId: 'vm-1', destinationHostId: 'host-b', attempt: 1 });
    expect(other.data).toEqual([]);
  });

  it('should order the next attempt when a migration is rerun on another host', async () => {
    const { orders } = connectAgent('host-a');
    await server().untilSubscribers(1);
    const migrationId = await migrate(server(), 'vm-1'); // Transit chooses host-b, then host-c
    await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'MIGRATING_FROM' }]);
    await report(server(), 'host-b', [{ vmId: 'vm-1', status: 'DOWN', exitReason: 'MIGRATION_FAILED' }]);
    await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'UP' }]);
    await orders.until((s) => s.data.length === 2);
    expect(orders.data.map((d) => order(d.hostCommands))).toEqual([
      { kind: 'MIGRATE', migrationId, vmId: 'vm-1', destinationHostId: 'host-b', attempt: 1 },
      { kind: 'MIGRATE', migrationId, vmId: 'vm-1', destinationHostId: 'host-c', attempt: 2 },
    ]);
  });

  it('should redeliver after a reconnect every order still pending, then the new ones', async () => {
    const first = connectAgent('host-a');
    await server().untilSubscribers(1);
    const m1 = await migrate(server(), 'vm-1', 'host-b');
    await first.orders.until((s) => s.data.length === 1);

    // The agent's connection drops; meanwhile orders are issued and a migration ends.
    // (host-a sends at most 2 at once, docs/contract.md §8: vm-3 ends before vm-2 starts.)
    first.agent.socket().terminate();
    await server().untilSubscribers(0);
    await migrate(server(), 'vm-3', 'host-b');
    await completeMigration(server(), 'vm-3', 'host-a', 'host-b'); // done: nothing left to order
    const m2 = await migrate(server(), 'vm-2', 'host-c');
    await server().data(CANCEL, { vmId: 'vm-1' });

    const second = connectAgent('host-a');
    await second.orders.until((s) => s.data.length === 3);
    expect(second.orders.data.map((d) => order(d.hostCommands)).sort(byKey)).toEqual([
      { kind: 'CANCEL', migrationId: m1, vmId: 'vm-1', destinationHostId: 'host-b', attempt: 1 },
      { kind: 'MIGRATE', migrationId: m1, vmId: 'vm-1', destinationHostId: 'host-b', attempt: 1 },
      { kind: 'MIGRATE', migrationId: m2, vmId: 'vm-2', destinationHostId: 'host-c', attempt: 1 },
    ]);

    await completeMigration(server(), 'vm-2', 'host-a', 'host-c'); // frees one of host-a's two outgoing slots
    const m4 = await migrate(server(), 'vm-4', 'host-c');
    await second.orders.until((s) => s.data.length === 4);
    expect(order(second.orders.data[3]?.hostCommands as Order)).toEqual({ kind: 'MIGRATE', migrationId: m4, vmId: 'vm-4', destinationHostId: 'host-c', attempt: 1 });
    expect(second.orders.errors).toEqual([]);
  });

  it('should deliver pending orders over SSE as well', async () => {
    const migrationId = await migrate(server(), 'vm-1', 'host-b');
    const orders = subscribeSse(server().url, HOST_COMMANDS, { hostId: 'host-a' });
    try {
      await orders.until((s) => s.data.length === 1);
      expect(order(orders.data[0]?.hostCommands as Order)).toEqual({ kind: 'MIGRATE', migrationId, vmId: 'vm-1', destinationHostId: 'host-b', attempt: 1 });
    } finally {
      orders.cancel();
    }
  });
});
