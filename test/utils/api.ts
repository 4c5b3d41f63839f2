/**
 * Arranging the world through the public API, as host agents and automation do: hosts report
 * their VMs, automation migrates. Tests assert with their own documents; these only set up.
 */
import { expect } from 'vitest';
import { graphql } from '../gql/index.js';
import type { VmReportInput } from '../gql/graphql.js';
import type { TestServer } from './server.js';

export const REPORT = graphql(`
  mutation ArrangeReport($input: ReportVmStatusesInput!) {
    reportVmStatuses(input: $input) {
      host { id status }
      errors { code message field }
    }
  }
`);

export const MIGRATE = graphql(`
  mutation ArrangeMigrate($input: MigrateVmInput!) {
    migrateVm(input: $input) {
      migration { id attempt destination { id } }
      errors { code message field }
    }
  }
`);

/** A host's report, which must be accepted. */
export async function report(server: TestServer, hostId: string, vms: VmReportInput[], extra: { full?: boolean; cluster?: string } = {}): Promise<void> {
  const { reportVmStatuses } = await server.data(REPORT, { input: { hostId, vms, ...extra } });
  expect(reportVmStatuses.errors).toEqual([]);
}

/** Each host reports (full) the VMs it runs, all UP: `{ 'host-a': ['vm-1'], 'host-b': [] }`. */
export async function arrange(server: TestServer, layout: Record<string, readonly string[]>, cluster?: string): Promise<void> {
  for (const [hostId, vmIds] of Object.entries(layout)) {
    await report(server, hostId, vmIds.map((vmId) => ({ vmId, status: 'UP' as const })), { full: true, ...(cluster ? { cluster } : {}) });
  }
}

/** Orders a migration, which must be accepted; returns its id. */
export async function migrate(server: TestServer, vmId: string, destinationHostId?: string): Promise<string> {
  const { migrateVm } = await server.data(MIGRATE, { input: { vmId, destinationHostId } });
  expect(migrateVm.errors).toEqual([]);
  return (migrateVm.migration as { id: string }).id;
}

/** The reports of a migration that succeeds: source sends, destination receives, source lets go, destination runs. */
export async function completeMigration(server: TestServer, vmId: string, source: string, destination: string): Promise<void> {
  await report(server, source, [{ vmId, status: 'MIGRATING_FROM', progress: 40 }]);
  await report(server, destination, [{ vmId, status: 'MIGRATING_TO' }]);
  await report(server, source, [{ vmId, status: 'MIGRATING_FROM', progress: 100 }]);
  await report(server, source, [{ vmId, status: 'DOWN', exitReason: 'MIGRATION_SUCCEEDED' }]);
  await report(server, destination, [{ vmId, status: 'UP' }]);
}

/**
 * Keeps a host reporting, one VM at a time, as fast as the server answers: each report turns one
 * of `vmIds` DOWN or back UP, so every report makes a transition and every other one an event.
 */
export function keepReporting(server: TestServer, hostId: string, vmIds: readonly string[]): { reports: () => number; stop: () => Promise<void> } {
  let running = true;
  let count = 0;
  const done = (async () => {
    while (running) {
      const vmId = vmIds[count % vmIds.length] as string;
      const status = Math.floor(count / vmIds.length) % 2 === 0 ? 'DOWN' : 'UP';
      await report(server, hostId, [{ vmId, status }]);
      count++;
    }
  })();
  return {
    reports: () => count,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** The sequence number in a transition or event cursor. */
export const seqOf = (cursor: string): number => Number(cursor.slice(cursor.lastIndexOf(':') + 1));
