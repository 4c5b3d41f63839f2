/**
 * A large fleet put straight into a table, in process: `hosts` × `vmsPerHost` VMs UP, of which the
 * first `migrating` of each host are migrating to the next host (discovered from the source's
 * MIGRATING_FROM report), so that a query benchmark need not send a million VMs over HTTP first.
 */
import type { MigrationTable } from '../../src/domain/table/table.js';

export interface FleetShape {
  readonly hosts: number;
  readonly vmsPerHost: number;
  readonly migrating: number;
}

export const hostId = (h: number): string => `host-${h}`;
export const vmId = (h: number, v: number): string => `vm-${h}-${v}`;

export function preload(table: MigrationTable, { hosts, vmsPerHost, migrating }: FleetShape): void {
  for (let h = 0; h < hosts; h++) {
    const vms = Array.from({ length: vmsPerHost }, (_, v) => ({ vmId: vmId(h, v), status: 'UP' as const }));
    table.reportVmStatuses({ hostId: hostId(h), vms, full: true });
  }
  for (let h = 0; h < hosts; h++) {
    const vms = Array.from({ length: migrating }, (_, v) => ({ vmId: vmId(h, v), status: 'MIGRATING_FROM' as const, progress: 5, peerHostId: hostId((h + 1) % hosts) }));
    if (vms.length > 0) table.reportVmStatuses({ hostId: hostId(h), vms });
  }
}
