import { beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import type { HostStatus } from '../gql/graphql.js';
import { arrange } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';

const REPORT_HOST_STATUS = graphql(`
  mutation ReportHostStatus($input: ReportHostStatusInput!) {
    reportHostStatus(input: $input) {
      host { id status vms { id status } }
      errors { code message field }
    }
  }
`);

describe('reportHostStatus', () => {
  const server = serverPerTest();
  const set = (hostId: string, status: HostStatus) => server().data(REPORT_HOST_STATUS, { input: { hostId, status } });

  beforeEach(async () => {
    await arrange(server(), { 'host-a': ['vm-1'] });
  });

  it('should put a host into MAINTENANCE and back to UP', async () => {
    expect((await set('host-a', 'MAINTENANCE')).reportHostStatus).toEqual({ host: { id: 'host-a', status: 'MAINTENANCE', vms: [{ id: 'vm-1', status: 'UP' }] }, errors: [] });
    expect((await set('host-a', 'UP')).reportHostStatus.host?.status).toBe('UP');
  });

  it('should make a host reported NON_RESPONSIVE so, and its VMs UNKNOWN', async () => {
    expect((await set('host-a', 'NON_RESPONSIVE')).reportHostStatus).toEqual({
      host: { id: 'host-a', status: 'NON_RESPONSIVE', vms: [{ id: 'vm-1', status: 'UNKNOWN' }] },
      errors: [],
    });
  });

  it.each<[string, string, () => Promise<unknown>, string, HostStatus, string | null]>([
    ['INVALID_INPUT', 'REBOOTING, which only a fence sets', async () => undefined, 'host-a', 'REBOOTING', 'status'],
    ['INVALID_INPUT', 'UP for a NON_RESPONSIVE host, which only its report brings back', () => set('host-a', 'NON_RESPONSIVE'), 'host-a', 'UP', 'status'],
    ['INVALID_INPUT', 'an empty host id', async () => undefined, '', 'UP', 'hostId'],
    ['HOST_NOT_FOUND', 'a host that is not registered', async () => undefined, 'host-x', 'MAINTENANCE', 'hostId'],
  ])('should refuse with %s: %s, changing nothing', async (code, _case, before, hostId, status, field) => {
    await before();
    const cursor = server().app.table.cursor;
    expect((await set(hostId, status)).reportHostStatus).toEqual({ host: null, errors: [{ code, message: expect.any(String), field }] });
    expect(server().app.table.cursor).toBe(cursor);
  });
});
