/**
 * The host agent's half of the fence (docs/contract.md §13): an order whose epoch is lower than
 * the highest the agent has seen comes from an engine that lost its lease, and is not carried out.
 * The orders come from a stand-in order stream (graphql-ws with the `hostCommands` field of the
 * real schema's shape), which can send what a real cluster sends only in a race: an old engine's
 * order after a new engine's.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { HostAgent } from '../../src/agent/agent.js';
import type { HypervisorAdapter, MigrationOrder } from '../../src/agent/hypervisor.js';
import { until } from '../utils/fleet.js';

const SCHEMA = buildSchema(`
  type Query { ok: Boolean }
  type Mutation { reportVmStatuses(input: ReportInput!): ReportPayload }
  input ReportInput { hostId: ID! vms: [VmInput!]! full: Boolean sequence: Int bootId: ID cluster: String }
  input VmInput { vmId: ID! status: String! progress: Float exitReason: String peerHostId: ID }
  type ReportPayload { host: Host errors: [UserError!]! }
  type Host { id: ID! status: String! }
  type UserError { code: String! message: String! field: String }
  type HostCommand { kind: String! migrationId: ID! vmId: ID! destinationHostId: ID attempt: Int! epoch: Int }
  type Subscription { hostCommands(hostId: ID!): HostCommand! }
`);

type Order = MigrationOrder & { epoch: number };

/** An order stream that sends exactly `orders`, in order, to its subscriber. */
async function orderStream(orders: Order[]): Promise<{ url: string; stop(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(503).end();
  });
  const wss = new WebSocketServer({ server, path: '/graphql' });
  const disposable = useServer(
    {
      schema: SCHEMA,
      roots: {
        subscription: {
          hostCommands: async function* () {
            for (const order of orders) yield { hostCommands: order };
            await new Promise(() => undefined); // then nothing more, as a quiet engine
          },
        },
      },
    },
    wss,
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/graphql`,
    stop: async () => {
      await disposable.dispose();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a host agent in clustered mode', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('should carry out orders of the highest epoch seen and ignore one from a lower epoch', async () => {
    const order = (migrationId: string, epoch: number): Order => ({ kind: 'MIGRATE', migrationId, vmId: `vm-${migrationId}`, destinationHostId: 'host-b', attempt: 1, epoch });
    const stream = await orderStream([order('a', 5), order('b', 7), order('stale', 6), order('c', 7)]);
    cleanup.push(() => stream.stop());
    const carried: string[] = [];
    const adapter: HypervisorAdapter = {
      observe: () => [],
      migrate: (o) => carried.push(o.migrationId),
      cancel: () => undefined,
      watch: () => () => undefined,
    };
    const agent = new HostAgent({ url: stream.url, hostId: 'host-a', adapter, fullReportIntervalMs: 60_000, reportTimeoutMs: 500 });
    cleanup.push(() => agent.stop());
    agent.start();
    await until(() => agent.stats.ordersReceived === 4, 'the four orders', 5_000);
    expect(carried).toEqual(['a', 'b', 'c']);
    expect(agent.stats.ordersFenced).toBe(1);
  });
});
