import { describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { serverPerTest } from '../utils/server.js';

const REGISTER_HOST = graphql(`
  mutation RegisterHost($input: RegisterHostInput!) {
    registerHost(input: $input) {
      host { id cluster status lastReportAt vms { id } }
      errors { code message field }
    }
  }
`);

describe('registerHost', () => {
  const server = serverPerTest();

  it('should register a new host UP in the default cluster', async () => {
    const { registerHost } = await server().data(REGISTER_HOST, { input: { hostId: 'host-a' } });
    expect(registerHost).toEqual({ host: { id: 'host-a', cluster: 'default', status: 'UP', lastReportAt: null, vms: [] }, errors: [] });
  });

  it('should move a known host to the cluster it names', async () => {
    await server().data(REGISTER_HOST, { input: { hostId: 'host-a' } });
    const { registerHost } = await server().data(REGISTER_HOST, { input: { hostId: 'host-a', cluster: 'blue' } });
    expect(registerHost.host).toMatchObject({ id: 'host-a', cluster: 'blue' });
  });

  it.each([
    ['an empty id', { hostId: '' }, 'hostId'],
    ['an id with spaces', { hostId: 'host a' }, 'hostId'],
    ['an empty cluster', { hostId: 'host-a', cluster: '' }, 'cluster'],
  ])('should refuse %s with INVALID_INPUT naming the field, changing nothing', async (_case, input, field) => {
    const { registerHost } = await server().data(REGISTER_HOST, { input });
    expect(registerHost.host).toBeNull();
    expect(registerHost.errors).toEqual([{ code: 'INVALID_INPUT', message: expect.any(String), field }]);
    expect(server().app.table.hosts()).toEqual([]);
  });
});
