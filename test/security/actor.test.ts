/**
 * `actor` with credentials (docs/contract.md §10): every transition and event a command causes
 * carries the name of the credential that sent it, over HTTP and graphql-ws alike.
 */
import { describe, expect, it } from 'vitest';
import { securePerTest, wsClientAs, CREDENTIALS, HOST_A, HOST_B } from '../utils/security.js';

const REPORT = `mutation ($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { errors { code } } }`;
const MIGRATE = `mutation ($vmId: ID!) { migrateVm(input: { vmId: $vmId, destinationHostId: "${HOST_B}" }) { migration { id } errors { code } } }`;
const EVENTS = `{ events(first: 100) { edges { node { type actor } } } }`;
const TRANSITIONS = `subscription ($after: String) { transitions(after: $after) { cause actor } }`;

describe('actor with credentials', () => {
  const server = securePerTest();

  it("should name the credential that sent each command on its transitions and events", async () => {
    const s = server();
    const report = (who: 'hostA' | 'hostB', hostId: string, vms: unknown[]) => s.as(who, REPORT, { input: { hostId, vms } });
    expect((await report('hostA', HOST_A, [{ vmId: 'vm-1', status: 'UP' }])).status).toBe(200);
    await report('hostB', HOST_B, []);
    const migrated = await s.as('operator', MIGRATE, { vmId: 'vm-1' });
    expect(migrated.result?.errors).toBeUndefined();

    const events = await s.as('viewer', EVENTS);
    const byType = (events.result?.data as { events: { edges: { node: { type: string; actor: string } }[] } }).events.edges.map((e) => [e.node.type, e.node.actor]);
    expect(byType).toContainEqual(['MIGRATION_STARTED', CREDENTIALS.operator.name]);

    const ws = wsClientAs(s.wsUrl, s.tokens.viewer);
    try {
      const seen: [string, string][] = [];
      await new Promise<void>((resolve, reject) => {
        ws.client.subscribe<{ transitions: { cause: string; actor: string } }>(
          { query: TRANSITIONS, variables: { after: `${s.app.table.epoch}:0` } },
          {
            next: (r) => {
              if (r.data) seen.push([r.data.transitions.cause, r.data.transitions.actor]);
              if (seen.some(([cause]) => cause === 'MIGRATE_COMMAND')) resolve();
            },
            error: reject,
            complete: resolve,
          },
        );
      });
      expect(seen).toContainEqual(['HOST_REPORT', CREDENTIALS.hostA.name]);
      expect(seen).toContainEqual(['HOST_REPORT', CREDENTIALS.hostB.name]);
      expect(seen).toContainEqual(['MIGRATE_COMMAND', CREDENTIALS.operator.name]);
    } finally {
      await ws.dispose();
    }
  });
});
