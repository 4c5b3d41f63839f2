/**
 * The host agent authenticates with its host credential (`token`): its reports (HTTP) are accepted
 * and its orders (graphql-ws `hostCommands`) arrive; without a token, or with another host's, it
 * can do neither.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HostAgent } from '../../src/agent/agent.js';
import type { HypervisorAdapter, MigrationOrder, VmObservation } from '../../src/agent/hypervisor.js';
import { setupFleet } from '../utils/domain.js';
import { until } from '../utils/fleet.js';
import { HOST_A, HOST_B, securePerTest } from '../utils/security.js';

/** A hypervisor running `vms`, recording the orders it gets. */
function hypervisor(vms: string[]): HypervisorAdapter & { orders: MigrationOrder[] } {
  const orders: MigrationOrder[] = [];
  return {
    orders,
    observe: (): VmObservation[] => vms.map((vmId) => ({ vmId, status: 'UP' })),
    migrate: (order) => orders.push(order),
    cancel: (order) => orders.push(order),
    watch: () => () => undefined,
  };
}

describe('a host agent with a host credential', () => {
  const server = securePerTest();
  let agent: HostAgent | null = null;
  afterEach(async () => {
    await agent?.stop();
    agent = null;
  });

  it('should report and receive its orders with its own token', async () => {
    setupFleet(server().app.table, { hosts: { [HOST_A]: ['vm-1'], [HOST_B]: [] } });
    const adapter = hypervisor(['vm-1']);
    agent = new HostAgent({ url: server().wsUrl, hostId: HOST_A, adapter, fullReportIntervalMs: 100, token: server().tokens.hostA });
    agent.start();
    await until(() => (agent?.stats.reportsSent ?? 0) > 0 && server().app.subscriberCount() === 1, 'a report and the order stream');
    expect(server().app.table.migrateVm({ vmId: 'vm-1', destinationHostId: HOST_B }).ok).toBe(true);
    await until(() => adapter.orders.length === 1, 'the migrate order');
    expect(adapter.orders[0]).toMatchObject({ kind: 'MIGRATE', vmId: 'vm-1', destinationHostId: HOST_B });
    expect(agent.stats.reportsRefused).toBe(0);
  });

  it.each([
    ['without a token', undefined],
    ["with another host's token", 'hostB'],
  ] as const)('should be refused %s: no report applied, no order stream', async (_how, who) => {
    const errors: unknown[] = [];
    const token = who === undefined ? undefined : server().tokens[who];
    agent = new HostAgent({ url: server().wsUrl, hostId: HOST_A, adapter: hypervisor(['vm-1']), fullReportIntervalMs: 100, maxReconnectDelayMs: 100, token, onError: (e) => errors.push(e) });
    agent.start();
    await until(() => errors.length >= 2, 'the refusals');
    expect(server().app.table.hosts()).toEqual([]);
    expect(server().app.subscriberCount()).toBe(0);
  });
});
