/**
 * The host agent misses no order across a reconnect (issue: "the agent never loses an order across
 * a reconnect"). Its link to Transit goes through a proxy that really cuts the TCP connections;
 * orders issued while it is cut arrive once the agent is back, and an order replayed after a
 * reconnect is carried out only once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostAgent } from '../../src/agent/agent.js';
import type { HypervisorAdapter, MigrationOrder, VmObservation } from '../../src/agent/hypervisor.js';
import type { App } from '../../src/server/http/app.js';
import { startEngine, until } from '../utils/fleet.js';
import { startTcpProxy, type TcpProxy } from '../utils/tcp-proxy.js';

const SOURCE = 'host-src';
const DESTINATION = 'host-dst';
const VMS = ['vm-a', 'vm-b', 'vm-c'];

/** A hypervisor that runs its VMs and only records the orders it gets. */
function recordingHypervisor(vms: string[]): HypervisorAdapter & { orders: MigrationOrder[] } {
  const orders: MigrationOrder[] = [];
  return {
    orders,
    observe: (): VmObservation[] => vms.map((vmId) => ({ vmId, status: 'UP' })),
    migrate: (order) => orders.push(order),
    cancel: (order) => orders.push(order),
    watch: () => () => undefined,
  };
}

describe('a host agent across reconnects', () => {
  let app: App;
  let url: string;
  let proxy: TcpProxy;
  let source: HostAgent;
  let destination: HostAgent;
  let hypervisor: ReturnType<typeof recordingHypervisor>;

  const migrate = async (vmId: string) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `mutation { migrateVm(input: { vmId: "${vmId}" }) { migration { id } errors { code } } }` }),
    });
    const { data } = (await response.json()) as { data: { migrateVm: { migration: { id: string } | null } } };
    if (data.migrateVm.migration === null) throw new Error(`migrateVm ${vmId} refused`);
    return data.migrateVm.migration.id;
  };

  /**
   * Barrier after `proxy.cut()`: the engine has let go of the source agent's order stream (only the
   * destination's is left), and the agent has tried to reconnect and been refused. From here on, an
   * order can reach it only through a new subscription, once the link is restored.
   */
  const cutOff = async () => {
    const refused = proxy.refused;
    await until(() => app.subscriberCount() === 1, "the engine to drop the source's order stream");
    await until(() => proxy.refused > refused, 'the source agent to try to reconnect');
  };

  beforeEach(async () => {
    const engine = await startEngine();
    app = engine.app;
    url = engine.url;
    proxy = await startTcpProxy(engine.port);
    hypervisor = recordingHypervisor(VMS);
    const through = `ws://127.0.0.1:${proxy.port}/graphql`;
    source = new HostAgent({ url: through, hostId: SOURCE, adapter: hypervisor, fullReportIntervalMs: 200, reconnectDelayMs: 50, maxReconnectDelayMs: 200 });
    destination = new HostAgent({ url: engine.url.replace(/^http/, 'ws'), hostId: DESTINATION, adapter: recordingHypervisor([]), fullReportIntervalMs: 200 });
    source.start();
    destination.start();
    await until(() => VMS.every((vm) => app.table.vm(vm)?.status === 'UP') && app.table.host(DESTINATION) !== undefined, 'both hosts reporting');
  });

  afterEach(async () => {
    await source.stop();
    await destination.stop();
    await proxy.close();
    await app.stop();
  });

  it('should receive an order issued while its connection was cut, once it is back', async () => {
    const first = await migrate('vm-a');
    await until(() => hypervisor.orders.length === 1, 'the first order');

    proxy.cut();
    const second = await migrate('vm-b'); // issued while the agent cannot hear
    await cutOff();
    expect(hypervisor.orders.map((o) => o.migrationId)).toEqual([first]);

    proxy.restore();
    await until(() => hypervisor.orders.length === 2, 'the order issued while cut');
    expect(hypervisor.orders.map((o) => [o.kind, o.migrationId, o.vmId])).toEqual([
      ['MIGRATE', first, 'vm-a'],
      ['MIGRATE', second, 'vm-b'],
    ]);
    expect(source.stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  it('should carry out an order replayed after a reconnect only once', async () => {
    const id = await migrate('vm-c');
    await until(() => hypervisor.orders.length === 1, 'the order');
    const received = source.stats.ordersReceived;
    proxy.cut();
    await cutOff();
    proxy.restore();
    // The engine replays every pending order to a (re)subscribing agent: this one comes again.
    await until(() => source.stats.ordersReceived > received, 'the replayed order');
    expect(hypervisor.orders.map((o) => o.migrationId)).toEqual([id]);
  });
});
