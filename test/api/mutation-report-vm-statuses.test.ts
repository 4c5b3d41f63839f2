import { describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import type { ReportVmStatusesInput } from '../gql/graphql.js';
import { arrange } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';

const REPORT_VM_STATUSES = graphql(`
  mutation ReportVmStatuses($input: ReportVmStatusesInput!) {
    reportVmStatuses(input: $input) {
      host { id cluster status lastReportAt vms { id status } }
      errors { code message field }
    }
  }
`);

const VM = graphql(`
  query ReportedVm($id: ID!) {
    vm(id: $id) { id status host { id } migration { id } }
  }
`);

describe('reportVmStatuses', () => {
  const server = serverPerTest();

  it("should register the host with its first report and apply each VM's status", async () => {
    const { reportVmStatuses } = await server().data(REPORT_VM_STATUSES, {
      input: { hostId: 'host-a', cluster: 'blue', vms: [{ vmId: 'vm-1', status: 'UP' }, { vmId: 'vm-2', status: 'UP' }] },
    });
    expect(reportVmStatuses.errors).toEqual([]);
    expect(reportVmStatuses.host).toMatchObject({
      id: 'host-a',
      cluster: 'blue',
      status: 'UP',
      lastReportAt: new Date(server().clock.nowMs).toISOString(),
      vms: [{ id: 'vm-1', status: 'UP' }, { id: 'vm-2', status: 'UP' }],
    });
  });

  it('should make a VM a full batch does not list DOWN on that host', async () => {
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2'] });
    await server().data(REPORT_VM_STATUSES, { input: { hostId: 'host-a', full: true, vms: [{ vmId: 'vm-1', status: 'UP' }] } });
    const { vm } = await server().data(VM, { id: 'vm-2' });
    expect(vm).toEqual({ id: 'vm-2', status: 'DOWN', host: null, migration: null });
  });

  it('should add a migration found in a report (MIGRATING_FROM naming its peer)', async () => {
    await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
    await server().data(REPORT_VM_STATUSES, { input: { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'MIGRATING_FROM', progress: 10, peerHostId: 'host-b' }] } });
    const { vm } = await server().data(VM, { id: 'vm-1' });
    expect(vm).toMatchObject({ status: 'MIGRATING_FROM', host: { id: 'host-a' }, migration: { id: expect.any(String) } });
  });

  type Case = [string, string, ReportVmStatusesInput, string | null];
  it.each<Case>([
    ['INVALID_INPUT', 'an empty host id', { hostId: '', vms: [] }, 'hostId'],
    ['INVALID_INPUT', 'progress with UP', { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'UP', progress: 10 }] }, 'vms.0.progress'],
    ['INVALID_INPUT', 'progress above 100', { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'MIGRATING_FROM', progress: 101 }] }, 'vms.0.progress'],
    ['INVALID_INPUT', 'an exit reason with UP', { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'UP', exitReason: 'NORMAL' }] }, 'vms.0.exitReason'],
    ['INVALID_INPUT', 'a VM listed twice', { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'UP' }, { vmId: 'vm-1', status: 'DOWN' }] }, 'vms.1.vmId'],
    ['INVALID_INPUT', 'the host as its own peer', { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'MIGRATING_TO', peerHostId: 'host-a' }] }, 'vms.0.peerHostId'],
    ['INVALID_INPUT', 'a peer with UP', { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'UP', peerHostId: 'host-b' }] }, 'vms.0.peerHostId'],
    ['INVALID_INPUT', 'a negative sequence', { hostId: 'host-a', vms: [], sequence: -1 }, 'sequence'],
    ['INVALID_INPUT', 'another cluster for a known host', { hostId: 'host-a', vms: [], cluster: 'blue' }, 'cluster'],
  ])('should refuse with %s: %s, naming the field and changing nothing', async (code, _case, input, field) => {
    await arrange(server(), { 'host-a': ['vm-0'] });
    const before = server().app.table.cursor;
    const { reportVmStatuses } = await server().data(REPORT_VM_STATUSES, { input });
    expect(reportVmStatuses.host).toBeNull();
    expect(reportVmStatuses.errors).toContainEqual({ code, message: expect.any(String), field });
    expect(server().app.table.cursor).toBe(before);
  });

  it('should refuse a batch whole when one report in it is invalid', async () => {
    const { reportVmStatuses } = await server().data(REPORT_VM_STATUSES, {
      input: { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'UP' }, { vmId: 'vm-2', status: 'DOWN', progress: 5 }] },
    });
    expect(reportVmStatuses.errors.map((e) => e.field)).toEqual(['vms.1.progress']);
    expect((await server().data(VM, { id: 'vm-1' })).vm).toBeNull();
  });

  it('should refuse with STALE_REPORT a sequence not above the last accepted from the same boot', async () => {
    const input = { hostId: 'host-a', bootId: 'boot-1', sequence: 1_700_000_000_000, vms: [{ vmId: 'vm-1', status: 'UP' as const }] };
    expect((await server().data(REPORT_VM_STATUSES, { input })).reportVmStatuses.errors).toEqual([]);
    const again = await server().data(REPORT_VM_STATUSES, { input: { ...input, vms: [{ vmId: 'vm-1', status: 'DOWN' as const }] } });
    expect(again.reportVmStatuses).toEqual({ host: null, errors: [{ code: 'STALE_REPORT', message: expect.any(String), field: 'sequence' }] });
    expect((await server().data(VM, { id: 'vm-1' })).vm?.status).toBe('UP');
    const newBoot = await server().data(REPORT_VM_STATUSES, { input: { ...input, bootId: 'boot-2', sequence: 1 } });
    expect(newBoot.reportVmStatuses.errors).toEqual([]);
  });
});
