import { beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, migrate, report } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';

const MIGRATE_VM = graphql(`
  mutation MigrateVm($input: MigrateVmInput!) {
    migrateVm(input: $input) {
      migration {
        id
        vm { id status }
        source { id }
        destination { id }
        sourceReport
        destinationReport
        vmStatus
        location
        state
        stalled
        cancelRequested
        attempt
        attempts { attempt destination { id } state }
      }
      errors { code message field }
    }
  }
`);

const REPORT_HOST_STATUS = graphql(`
  mutation MigrateVmSetHostStatus($input: ReportHostStatusInput!) {
    reportHostStatus(input: $input) { errors { code } }
  }
`);

describe('migrateVm', () => {
  const server = serverPerTest();

  beforeEach(async () => {
    // host-a runs vm-1 and vm-2; host-b and host-m are empty (host-m goes into maintenance);
    // host-z is alone in cluster blue with vm-9; vm-0 is known but DOWN.
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2'], 'host-b': [], 'host-m': [] });
    await arrange(server(), { 'host-z': ['vm-9'] }, 'blue');
    await report(server(), 'host-a', [{ vmId: 'vm-0', status: 'DOWN' }]);
    await server().data(REPORT_HOST_STATUS, { input: { hostId: 'host-m', status: 'MAINTENANCE' } });
  });

  it('should start a migration to the destination it names, in progress at the source', async () => {
    const { migrateVm } = await server().data(MIGRATE_VM, { input: { vmId: 'vm-1', destinationHostId: 'host-b' } });
    expect(migrateVm.errors).toEqual([]);
    expect(migrateVm.migration).toMatchObject({
      vm: { id: 'vm-1', status: 'MIGRATING_FROM' },
      source: { id: 'host-a' },
      destination: { id: 'host-b' },
      sourceReport: null,
      destinationReport: null,
      vmStatus: 'MIGRATING_FROM',
      location: 'SOURCE',
      state: 'IN_PROGRESS',
      stalled: false,
      cancelRequested: false,
      attempt: 1,
      attempts: [{ attempt: 1, destination: { id: 'host-b' }, state: 'IN_PROGRESS' }],
    });
  });

  it('should choose an UP host of the cluster when none is named (never one in maintenance)', async () => {
    const { migrateVm } = await server().data(MIGRATE_VM, { input: { vmId: 'vm-1' } });
    expect(migrateVm.errors).toEqual([]);
    expect(migrateVm.migration?.destination).toEqual({ id: 'host-b' });
  });

  it.each([
    ['INVALID_INPUT', 'an empty VM id', { vmId: '' }, 'vmId'],
    ['VM_NOT_FOUND', 'a VM Transit does not know', { vmId: 'vm-unknown' }, 'vmId'],
    ['VM_NOT_UP', 'a VM that is DOWN', { vmId: 'vm-0' }, 'vmId'],
    ['HOST_NOT_FOUND', 'a destination that is not registered', { vmId: 'vm-1', destinationHostId: 'host-x' }, 'destinationHostId'],
    ['SAME_HOST', 'the host the VM runs on', { vmId: 'vm-1', destinationHostId: 'host-a' }, 'destinationHostId'],
    ['HOST_NOT_UP', 'a destination in maintenance', { vmId: 'vm-1', destinationHostId: 'host-m' }, 'destinationHostId'],
    ['CLUSTER_MISMATCH', 'a destination in another cluster', { vmId: 'vm-1', destinationHostId: 'host-z' }, 'destinationHostId'],
    ['NO_ELIGIBLE_HOST', 'a VM alone in its cluster, no destination named', { vmId: 'vm-9' }, 'destinationHostId'],
  ])('should refuse with %s: %s, changing nothing', async (code, _case, input, field) => {
    const before = server().app.table.cursor;
    const { migrateVm } = await server().data(MIGRATE_VM, { input });
    expect(migrateVm).toEqual({ migration: null, errors: [{ code, message: expect.any(String), field }] });
    expect(server().app.table.cursor).toBe(before);
  });

  it('should refuse with VM_ALREADY_MIGRATING a VM already in the table', async () => {
    await migrate(server(), 'vm-1', 'host-b');
    const { migrateVm } = await server().data(MIGRATE_VM, { input: { vmId: 'vm-1', destinationHostId: 'host-b' } });
    expect(migrateVm.errors).toEqual([{ code: 'VM_ALREADY_MIGRATING', message: expect.any(String), field: 'vmId' }]);
  });
});
