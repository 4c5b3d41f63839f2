import { beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import type { ReportFenceResultInput } from '../gql/graphql.js';
import { arrange } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';

const REPORT_FENCE_RESULT = graphql(`
  mutation ReportFenceResult($input: ReportFenceResultInput!) {
    reportFenceResult(input: $input) {
      host { id status vms { id } }
      errors { code message field }
    }
  }
`);

const SET_NON_RESPONSIVE = graphql(`
  mutation FenceSetNonResponsive($hostId: ID!) {
    reportHostStatus(input: { hostId: $hostId, status: NON_RESPONSIVE }) { errors { code } }
  }
`);

const AFTER_FENCE = graphql(`
  query AfterFence($vmId: ID!) {
    vm(id: $vmId) { status host { id } }
    events(type: FENCE_FAILED) { edges { node { type severity hostId message } } }
  }
`);

describe('reportFenceResult', () => {
  const server = serverPerTest();

  beforeEach(async () => {
    await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
    await server().data(SET_NON_RESPONSIVE, { hostId: 'host-a' });
  });

  it('should make a fenced host REBOOTING and its VMs DOWN', async () => {
    const { reportFenceResult } = await server().data(REPORT_FENCE_RESULT, { input: { hostId: 'host-a', succeeded: true, method: 'MANUAL' } });
    expect(reportFenceResult).toEqual({ host: { id: 'host-a', status: 'REBOOTING', vms: [] }, errors: [] });
    expect((await server().data(AFTER_FENCE, { vmId: 'vm-1' })).vm).toEqual({ status: 'DOWN', host: null });
  });

  it('should change nothing but log FENCE_FAILED when fencing failed', async () => {
    const { reportFenceResult } = await server().data(REPORT_FENCE_RESULT, {
      input: { hostId: 'host-a', succeeded: false, method: 'AUTOMATIC', message: 'no power management' },
    });
    expect(reportFenceResult).toEqual({ host: { id: 'host-a', status: 'NON_RESPONSIVE', vms: [{ id: 'vm-1' }] }, errors: [] });
    const after = await server().data(AFTER_FENCE, { vmId: 'vm-1' });
    expect(after.vm?.status).toBe('UNKNOWN');
    expect(after.events.edges.map((e) => e.node)).toEqual([
      { type: 'FENCE_FAILED', severity: 'ERROR', hostId: 'host-a', message: expect.stringContaining('no power management') },
    ]);
  });

  it.each<[string, string, ReportFenceResultInput, string | null]>([
    ['HOST_NOT_FOUND', 'a host that is not registered', { hostId: 'host-x', succeeded: true, method: 'MANUAL' }, 'hostId'],
    ['HOST_NOT_NON_RESPONSIVE', 'a host that is UP', { hostId: 'host-b', succeeded: true, method: 'MANUAL' }, 'hostId'],
    ['INVALID_INPUT', 'a message longer than 1024 characters', { hostId: 'host-a', succeeded: true, method: 'MANUAL', message: 'x'.repeat(1_025) }, 'message'],
  ])('should refuse with %s: %s, changing nothing', async (code, _case, input, field) => {
    const cursor = server().app.table.cursor;
    expect((await server().data(REPORT_FENCE_RESULT, { input })).reportFenceResult).toEqual({ host: null, errors: [{ code, message: expect.any(String), field }] });
    expect(server().app.table.cursor).toBe(cursor);
  });
});
