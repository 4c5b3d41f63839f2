/**
 * The host agent carries out an abort (docs/contract.md §8): a migration whose progress stalls past
 * the progress timeout gets a CANCEL order; the agent hands it to its hypervisor, which stops the
 * migration; the agent's next reports show the VM still on the source, and the migration ends
 * FAILED with the abort reason. The agent also reports each VM's memory (`memoryMiB`).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostAgent } from '../../src/agent/agent.js';
import type { HypervisorAdapter, MigrationOrder, VmObservation } from '../../src/agent/hypervisor.js';
import type { App } from '../../src/server/http/app.js';
import { startServer, type TestServer } from '../utils/server.js';
import { until } from '../utils/fleet.js';

const SOURCE = 'host-src';
const DESTINATION = 'host-dst';
const VM = 'vm-stuck';
const MEMORY_MIB = 6_144;
const PROGRESS_TIMEOUT_MS = 10_000;

/** One side of a migration that never converges: stuck at 40% until it is cancelled. */
function stuckHypervisor(role: 'source' | 'destination'): HypervisorAdapter & { cancels: MigrationOrder[]; migrating: boolean } {
  const watchers = new Set<(change: VmObservation) => void>();
  const adapter = {
    cancels: [] as MigrationOrder[],
    migrating: true,
    observe: (): VmObservation[] => {
      if (role === 'destination') return adapter.migrating ? [{ vmId: VM, status: 'MIGRATING_TO', peerHostId: SOURCE }] : [];
      return [adapter.migrating ? { vmId: VM, status: 'MIGRATING_FROM', progress: 40, peerHostId: DESTINATION, memoryMiB: MEMORY_MIB } : { vmId: VM, status: 'UP', memoryMiB: MEMORY_MIB }];
    },
    migrate: () => undefined,
    cancel: (order: MigrationOrder) => {
      adapter.cancels.push(order);
      adapter.migrating = false;
      for (const watcher of watchers) watcher({ vmId: VM, status: 'UP', memoryMiB: MEMORY_MIB });
    },
    watch: (onChange: (change: VmObservation) => void) => {
      watchers.add(onChange);
      return () => watchers.delete(onChange);
    },
  };
  return adapter;
}

describe('a host agent and a deadline', () => {
  let server: TestServer;
  let app: App;
  const agents: HostAgent[] = [];

  beforeEach(async () => {
    server = await startServer({ migrationProgressTimeoutMs: PROGRESS_TIMEOUT_MS });
    app = server.app;
  });
  afterEach(async () => {
    for (const agent of agents.splice(0)) await agent.stop();
    await server.stop();
  });

  it('should carry out the abort Transit orders, so that the reports end the migration FAILED', async () => {
    const source = stuckHypervisor('source');
    const destination = stuckHypervisor('destination');
    for (const [hostId, adapter] of [
      [SOURCE, source],
      [DESTINATION, destination],
    ] as const) {
      const agent = new HostAgent({ url: server.wsUrl, hostId, adapter, fullReportIntervalMs: 100 });
      agents.push(agent);
      agent.start();
    }
    // Found in the reports (the seed's second way in): its deadlines count from then.
    await until(() => app.table.entryOf(VM)?.destination.report === 'MIGRATING_TO', 'the migration in the table');
    const id = app.table.entryOf(VM)?.id as string;
    expect(app.table.vm(VM)?.memoryMiB).toBe(MEMORY_MIB);

    server.clock.advance(PROGRESS_TIMEOUT_MS);
    app.table.tick();
    expect(app.table.migration(id)?.abortReason).toMatch(/progress timeout/);
    await until(() => source.cancels.length === 1, 'the CANCEL order at the source');
    expect(source.cancels[0]).toMatchObject({ kind: 'CANCEL', migrationId: id, vmId: VM, destinationHostId: DESTINATION });

    destination.migrating = false; // the destination drops what it had received
    await until(() => app.table.migration(id)?.state !== 'IN_PROGRESS', 'the outcome from the reports');
    expect(app.table.migration(id)).toMatchObject({ state: 'FAILED', reason: app.table.migration(id)?.abortReason, attempt: 1 });
    expect(app.table.vm(VM)).toMatchObject({ status: 'UP', hostId: SOURCE });
  });
});
