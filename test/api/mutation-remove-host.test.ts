/** `removeHost` (docs/contract.md §11), and the caps on VMs per host and on hosts, over the API. */
import { describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, migrate, report, REPORT } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';

const REMOVE_HOST = graphql(`
  mutation RemoveHost($input: RemoveHostInput!) {
    removeHost(input: $input) {
      hostId
      errors { code message field }
    }
  }
`);

const HOSTS = graphql(`
  query RemoveHostHosts {
    hosts { id }
  }
`);

describe('removeHost', () => {
  const server = serverPerTest();

  it('should forget a host that runs no VM, and say which', async () => {
    await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
    const { removeHost } = await server().data(REMOVE_HOST, { input: { hostId: 'host-b' } });
    expect(removeHost).toEqual({ hostId: 'host-b', errors: [] });
    expect((await server().data(HOSTS)).hosts).toEqual([{ id: 'host-a' }]);
  });

  it.each([
    ['a host that runs a VM', 'host-a', 'HOST_NOT_EMPTY'],
    ['an unknown host', 'host-z', 'HOST_NOT_FOUND'],
  ])('should refuse %s with %s, changing nothing', async (_case, hostId, code) => {
    await arrange(server(), { 'host-a': ['vm-1'] });
    const cursor = server().app.table.cursor;
    const { removeHost } = await server().data(REMOVE_HOST, { input: { hostId } });
    expect(removeHost).toEqual({ hostId: null, errors: [{ code, message: expect.any(String), field: 'hostId' }] });
    expect(server().app.table.cursor).toBe(cursor);
  });
});

describe('caps on VMs per host and on hosts', () => {
  const server = serverPerTest({ maxVmsPerHost: 2, maxHosts: 1 });

  it('should refuse a batch that would put more VMs on its host than TRANSIT_MAX_VMS_PER_HOST with TOO_MANY_VMS', async () => {
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2'] });
    const { reportVmStatuses } = await server().data(REPORT, { input: { hostId: 'host-a', vms: [{ vmId: 'vm-3', status: 'UP' }] } });
    expect(reportVmStatuses).toEqual({ host: null, errors: [{ code: 'TOO_MANY_VMS', message: expect.any(String), field: 'vms' }] });
    expect(server().app.table.vm('vm-3')).toBeUndefined();
  });

  it('should refuse a host beyond TRANSIT_MAX_HOSTS with TOO_MANY_HOSTS', async () => {
    await arrange(server(), { 'host-a': [] });
    const { reportVmStatuses } = await server().data(REPORT, { input: { hostId: 'host-b', vms: [] } });
    expect(reportVmStatuses.errors).toEqual([{ code: 'TOO_MANY_HOSTS', message: expect.any(String), field: 'hostId' }]);
  });
});

const MIGRATION_VM = graphql(`
  query ForgottenVmMigration($id: ID!, $vmId: ID!) {
    migration(id: $id) { state vm { id status host { id } migration { id } } }
    vm(id: $vmId) { id }
  }
`);

describe('a VM forgotten after its retention (TRANSIT_VM_RETENTION_MS)', () => {
  const RETENTION_MS = 60_000;
  const server = serverPerTest({ vmRetentionMs: RETENTION_MS, hostTimeoutMs: RETENTION_MS * 10 });

  it('should no longer be found, while its kept migration shows it DOWN on no host', async () => {
    await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
    const id = await migrate(server(), 'vm-1', 'host-b');
    await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'MIGRATING_FROM' }]);
    await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'DOWN' }]);
    await report(server(), 'host-b', [{ vmId: 'vm-1', status: 'DOWN' }]); // row 1: VM_DOWN
    server().clock.advance(RETENTION_MS);
    server().app.table.tick();
    const { migration, vm } = await server().data(MIGRATION_VM, { id, vmId: 'vm-1' });
    expect(vm).toBeNull();
    expect(migration).toEqual({ state: 'VM_DOWN', vm: { id: 'vm-1', status: 'DOWN', host: null, migration: null } });
  });
});
