import { describe, expect, it, vi } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';
import { subscribeWs, wsClient } from '../utils/ws.js';

const REPORT_HOST_STATUS = graphql(`
  mutation RequestErrorsHostStatus($input: ReportHostStatusInput!) {
    reportHostStatus(input: $input) { host { id } errors { code } }
  }
`);

const VMS = graphql(`
  query RequestErrorsVms($first: Int, $after: String) {
    vms(first: $first, after: $after) { edges { node { id } } }
  }
`);

const EVENTS = graphql(`
  query RequestErrorsEvents($after: String) {
    events(after: $after) { edges { node { type } } }
  }
`);

const ONE_VM = graphql(`
  query RequestErrorsVm($id: ID!) {
    vm(id: $id) { id }
  }
`);

describe('refusals of the request itself', () => {
  const server = serverPerTest({ historyLimit: 5, subscriberBufferItems: 2 });

  it.each([
    ['an unknown enum value', 'mutation { reportHostStatus(input: { hostId: "host-a", status: FLYING }) { errors { code } } }'],
    ['a wrong type', 'mutation { reportVmStatuses(input: { hostId: "host-a", vms: [{ vmId: "vm-1", status: UP, progress: "fast" }] }) { errors { code } } }'],
    ['an unknown input field', 'mutation { migrateVm(input: { vmId: "vm-1", speed: 3 }) { errors { code } } }'],
    ['an unknown field', '{ vms { edges { node { id colour } } } }'],
  ])('should refuse %s as a GraphQL validation error, before anything runs', async (_case, query) => {
    const before = server().app.table.cursor;
    const { status, result } = await server().requestText(query);
    expect(status).toBe(400);
    expect(result.data).toBeUndefined();
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(server().app.table.cursor).toBe(before);
  });

  it.each([
    ['invalid JSON', '{"query": "{ engine { cursor } }"'],
    ['only a persisted-query extension', '{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}'],
    ['no query at all', '{}'],
  ])('should refuse a body with %s as 400 BAD_REQUEST, whatever JSON type is accepted, telling nothing of the parser (issue 12, item 10)', async (_case, body) => {
    for (const accept of ['application/graphql-response+json, application/json', 'application/json', '*/*']) {
      const response = await fetch(server().url, { method: 'POST', headers: { 'content-type': 'application/json', accept }, body });
      const result = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect({ accept, status: response.status }).toEqual({ accept, status: 400 });
      expect(result.errors.map((e) => e.extensions)).toEqual([{ code: 'BAD_REQUEST' }]);
    }
  });

  it('should refuse an unknown enum value in variables', async () => {
    const { status, result } = await server().requestText(
      'mutation ($input: ReportHostStatusInput!) { reportHostStatus(input: $input) { errors { code } } }',
      { input: { hostId: 'host-a', status: 'FLYING' } },
    );
    expect(status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(/FLYING/);
    expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('should refuse an unknown enum value over graphql-ws too', async () => {
    const ws = wsClient(server().wsUrl);
    try {
      const sub = subscribeWs(ws, REPORT_HOST_STATUS, { input: { hostId: 'host-a', status: 'FLYING' as 'UP' } });
      await sub.ended();
      expect(sub.errors.map((e) => [e.message.includes('FLYING'), e.extensions?.code])).toEqual([[true, 'BAD_USER_INPUT']]);
      expect(sub.data).toEqual([]);
    } finally {
      await ws.dispose();
    }
  });

  it('should refuse a page size above the limit with BAD_USER_INPUT', async () => {
    const { result } = await server().request(VMS, { first: 1_001 });
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });

  it.each([
    ['a page cursor that is not one', VMS, { after: 'not-a-cursor' }, 'INVALID_CURSOR'],
    ['an event cursor that is not one', EVENTS, { after: 'garbage' }, 'INVALID_CURSOR'],
    ['a page cursor of another engine run', VMS, { after: Buffer.from('oldepoch:3').toString('base64url') }, 'RESYNC_REQUIRED'],
    ['an event cursor of another engine run', EVENTS, { after: 'oldepoch:3' }, 'RESYNC_REQUIRED'],
  ] as const)('should refuse %s with its code', async (_case, document, variables, code) => {
    const { result } = await server().request(document as typeof EVENTS, variables);
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual([code]);
  });

  it('should refuse an event cursor older than the kept history with RESYNC_REQUIRED', async () => {
    await arrange(server(), { 'host-a': ['vm-1'] });
    const first = server().app.table.cursor;
    for (let i = 0; i < 12; i++) await arrange(server(), { 'host-a': i % 2 === 0 ? [] : ['vm-1'] }); // VM_DOWN events push the log
    const { result } = await server().request(EVENTS, { after: first });
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['RESYNC_REQUIRED']);
  });

  it('should mask an unexpected error and log it, over HTTP and graphql-ws alike', async () => {
    vi.spyOn(server().app.table, 'vm').mockImplementation(() => {
      throw new Error('disk on fire at /var/lib/transit');
    });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const { result } = await server().request(ONE_VM, { id: 'vm-1' });
    expect(result.errors).toEqual([expect.objectContaining({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
    const ws = wsClient(server().wsUrl);
    try {
      const sub = subscribeWs(ws, ONE_VM, { id: 'vm-1' });
      await sub.ended();
      expect(sub.errors.map((e) => e.message)).toEqual(['Unexpected error.']);
      expect(JSON.stringify(sub.results)).not.toContain('disk on fire');
    } finally {
      await ws.dispose();
    }
    expect(logged.mock.calls.flat().map(String).join('\n')).toContain('disk on fire');
    logged.mockRestore();
  });
});
