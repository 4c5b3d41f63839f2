/**
 * Who may do what (issue "Who may do what"): every credential against every root operation, over
 * HTTP for queries and mutations and graphql-ws for subscriptions; SSE carries the bearer token as
 * HTTP does. A permitted operation may still be refused by the table (a payload error): what is
 * checked here is only whether the credential got past authorization.
 */
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { setupFleet } from '../utils/domain.js';
import { codesOf, EVERYONE, HOST_A, HOST_B, startSecureServer, wsClientAs, type SecureServer, type Who } from '../utils/security.js';
import { subscribeWs } from '../utils/ws.js';

const TRANSITIONS = graphql(`
  subscription RolesTransitions {
    transitions { cursor }
  }
`);
const EVENTS = graphql(`
  subscription RolesEvents {
    events { cursor }
  }
`);
const HOST_COMMANDS = graphql(`
  subscription RolesHostCommands($hostId: ID!) {
    hostCommands(hostId: $hostId) { kind }
  }
`);

type Operation =
  | { readonly name: string; readonly http: string; readonly variables?: Record<string, unknown> }
  | { readonly name: string; readonly ws: typeof HOST_COMMANDS | typeof TRANSITIONS | typeof EVENTS; readonly variables: Record<string, unknown> };

const OPERATIONS: readonly Operation[] = [
  { name: 'query hosts', http: '{ hosts { id status } }' },
  { name: 'query engine', http: '{ engine { cursor } }' },
  { name: 'migrateVm', http: 'mutation { migrateVm(input: { vmId: "vm-2", destinationHostId: "host-c" }) { errors { code } } }' },
  { name: 'cancelMigration', http: 'mutation { cancelMigration(input: { vmId: "vm-1" }) { errors { code } } }' },
  { name: 'registerHost', http: 'mutation { registerHost(input: { hostId: "host-d" }) { errors { code } } }' },
  { name: 'reportHostStatus', http: 'mutation { reportHostStatus(input: { hostId: "host-c", status: UP }) { errors { code } } }' },
  { name: 'reportFenceResult', http: 'mutation { reportFenceResult(input: { hostId: "host-c", succeeded: false, method: MANUAL }) { errors { code } } }' },
  {
    name: `reportVmStatuses for ${HOST_A}`,
    http: 'mutation ($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { errors { code } } }',
    variables: { input: { hostId: HOST_A, vms: [{ vmId: 'vm-1', status: 'MIGRATING_FROM' }] } },
  },
  {
    name: `reportVmStatuses for ${HOST_B}`,
    http: `mutation { reportVmStatuses(input: { hostId: "${HOST_B}", vms: [{ vmId: "vm-2", status: UP }] }) { errors { code } } }`,
  },
  { name: 'subscription transitions', ws: TRANSITIONS, variables: {} },
  { name: 'subscription events', ws: EVENTS, variables: {} },
  { name: `subscription hostCommands(${HOST_A})`, ws: HOST_COMMANDS, variables: { hostId: HOST_A } },
  { name: `subscription hostCommands(${HOST_B})`, ws: HOST_COMMANDS, variables: { hostId: HOST_B } },
  // §9: the plan is a query for every reader; evacuating and cancelling are an operator's.
  { name: 'query evacuationPlan', http: `{ evacuationPlan(hostId: "${HOST_B}") { moves { vm { id } } } }` },
  { name: 'evacuateHost', http: 'mutation { evacuateHost(input: { hostId: "host-c" }) { errors { code } } }' },
  { name: 'cancelEvacuation', http: 'mutation { cancelEvacuation(input: { hostId: "host-c" }) { errors { code } } }' },
];

/** What each credential may run (issue: viewer, operator, host bound to one host, fencer). */
const PERMITTED: Record<Who, readonly string[]> = {
  viewer: ['query hosts', 'query engine', 'subscription transitions', 'subscription events', 'query evacuationPlan'],
  operator: [
    'query hosts',
    'query engine',
    'migrateVm',
    'cancelMigration',
    'registerHost',
    'reportHostStatus',
    'subscription transitions',
    'subscription events',
    'query evacuationPlan',
    'evacuateHost',
    'cancelEvacuation',
  ],
  hostA: [`reportVmStatuses for ${HOST_A}`, `subscription hostCommands(${HOST_A})`],
  hostB: [`reportVmStatuses for ${HOST_B}`, `subscription hostCommands(${HOST_B})`],
  fencer: ['reportHostStatus', 'reportFenceResult'],
};

const ALLOWED = 'allowed';
const CASES = EVERYONE.flatMap((who) =>
  OPERATIONS.map((operation) => ({ who, operation, expected: PERMITTED[who].includes(operation.name) ? ALLOWED : 'FORBIDDEN' })),
);

describe('roles', () => {
  let server: SecureServer;

  beforeAll(async () => {
    server = await startSecureServer();
    setupFleet(server.app.table, { hosts: { [HOST_A]: ['vm-1'], [HOST_B]: ['vm-2'], 'host-c': [] } });
    expect(server.app.table.migrateVm({ vmId: 'vm-1', destinationHostId: 'host-c' }).ok).toBe(true);
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(CASES)('$who: $operation.name → $expected', async ({ who, operation, expected }) => {
    if ('http' in operation) {
      const answer = await server.as(who, operation.http, operation.variables);
      const codes = codesOf(answer);
      expect(codes.length === 0 ? ALLOWED : codes[0]).toBe(expected);
      expect(answer.status).toBe(expected === ALLOWED ? 200 : 403);
      return;
    }
    const open = server.app.subscriberCount();
    const ws = wsClientAs(server.wsUrl, server.tokens[who]);
    try {
      const sub = subscribeWs(ws, operation.ws as typeof HOST_COMMANDS, operation.variables as { hostId: string });
      if (expected === ALLOWED) {
        await server.untilSubscribers(open + 1);
        expect(sub.errors).toEqual([]);
        sub.unsubscribe();
      } else {
        await sub.ended();
        expect(sub.errorCodes).toEqual([expected]);
      }
    } finally {
      await ws.dispose();
      await server.untilSubscribers(open);
    }
  });

  it.each([
    ['hostA', HOST_B, 'FORBIDDEN'],
    ['viewer', HOST_A, 'FORBIDDEN'],
  ] as const)('should refuse %s subscribing to hostCommands(%s) over SSE with %s', async (who, hostId, code) => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${server.tokens[who]}` },
      body: JSON.stringify({ query: print(HOST_COMMANDS), variables: { hostId } }),
    });
    const body = await response.text(); // a refused subscription ends at once
    expect(body).toContain(`"code":"${code}"`);
    expect(body).toContain('event: complete');
  });

  it('should let a host follow its own orders over SSE with its bearer token', async () => {
    const open = server.app.subscriberCount();
    const abort = new AbortController();
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${server.tokens.hostA}` },
      body: JSON.stringify({ query: print(HOST_COMMANDS), variables: { hostId: HOST_A } }),
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    // The pending migrate order of vm-1 comes first.
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let received = '';
    while (!received.includes('MIGRATE')) received += decoder.decode((await reader.read()).value, { stream: true });
    await server.untilSubscribers(open + 1);
    abort.abort();
    await server.untilSubscribers(open);
  });
});
