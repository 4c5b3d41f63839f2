/**
 * Hostile requests (issue "Security and hostile input"): each is refused with its own code, the
 * service still answers afterwards, and the table is exactly as it was before the attack.
 * The server runs with a credentials file and small limits, so that each limit is reached fast.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { graphql } from '../gql/index.js';
import { readConfig } from '../../src/config.js';
import { newToken } from '../../src/server/security/credentials.js';
import { CSRF_HEADER } from '../../src/server/http/http-refusals.js';
import { observe, setupFleet } from '../utils/domain.js';
import { codesOf, fragmentChain, pagedCostBomb, HOST_A, HOST_B, post, rawSocket, socketEnd, startSecureServer, wsClientAs, type SecureServer } from '../utils/security.js';
import { subscribeWs } from '../utils/ws.js';
import { subscribeSse } from '../utils/sse.js';
import { postHead, rawClient, type RawClient } from '../utils/raw-http.js';
import { TOO_MANY_CONNECTIONS_FOR_CREDENTIAL } from '../../src/server/subscriptions/websocket.js';

/** Small limits, each reached by one of the cases below. */
const LIMITS = {
  maxDepth: 10,
  maxAliases: 15,
  maxTokens: 2_000,
  maxDirectives: 50,
  maxCost: 10_000,
  maxReportBatch: 100,
  maxBodyBytes: 64 * 1_024,
  wsMaxPayloadBytes: 64 * 1_024,
  wsInitTimeoutMs: 300,
  maxSubscriptionsPerConnection: 3,
  mutationsPerSecond: 1,
  mutationBurst: 5,
  maxConnections: 20,
  maxWsConnectionsPerCredential: 2,
  maxSubscriptionsPerCredential: 4,
  maxSubscriptions: 6,
  maxVmsPerHost: 2_000,
  maxHosts: 4,
} as const;

/** WebSocket close codes (RFC 6455 and graphql-ws). */
const MESSAGE_TOO_BIG = 1009;

const REPORT = graphql(`
  mutation HostileReport($input: ReportVmStatusesInput!) {
    reportVmStatuses(input: $input) { host { id } errors { code field } }
  }
`);
const HOST_COMMANDS = graphql(`
  subscription HostileHostCommands($hostId: ID!) {
    hostCommands(hostId: $hostId) { kind migrationId }
  }
`);
const TRANSITIONS = graphql(`
  subscription HostileTransitions {
    transitions { cursor }
  }
`);
const ENGINE = graphql(`
  query HostileStillAnswering {
    engine { cursor }
  }
`);

const text = print;
const REPORT_TEXT = print(REPORT);

/** What the service answered: an `extensions.code` (and the HTTP status), or a WebSocket close code. */
interface Observed {
  readonly code: unknown;
  readonly status?: number;
}

interface HostileCase {
  readonly name: string;
  /** The code the service must answer with. */
  readonly expected: string | number;
  /** The HTTP status, for a request over HTTP. */
  readonly status?: number;
  /** Permitted requests before the attack (they may change the table). */
  readonly prepare?: (s: SecureServer) => Promise<void>;
  readonly attack: (s: SecureServer) => Promise<Observed>;
}

const first = async (answer: Promise<Awaited<ReturnType<typeof post>>>): Promise<Observed> => {
  const a = await answer;
  return { code: codesOf(a)[0] ?? a.result?.data ?? a.text, status: a.status };
};

/** The first error code a subscription ended with over graphql-ws. */
async function wsRefusal(url: string, token: string, document: typeof HOST_COMMANDS, variables: { hostId: string }): Promise<Observed> {
  const ws = wsClientAs(url, token);
  try {
    const sub = subscribeWs(ws, document, variables);
    await sub.ended();
    return { code: sub.errorCodes[0] };
  } finally {
    await ws.dispose();
  }
}

const nest = (levels: number) => `{ vm(id: "vm-1") ${'{ migration { vm '.repeat(levels)}{ id }${' } }'.repeat(levels)} }`;

const CASES: HostileCase[] = [
  {
    name: 'no token',
    expected: 'UNAUTHENTICATED',
    status: 401,
    attack: (s) => first(s.as(null, '{ engine { cursor } }')),
  },
  {
    name: 'wrong token',
    expected: 'UNAUTHENTICATED',
    status: 401,
    attack: (s) => first(post(s.url, { body: JSON.stringify({ query: '{ engine { cursor } }' }), token: newToken() })),
  },
  {
    name: 'viewer mutating',
    expected: 'FORBIDDEN',
    status: 403,
    attack: (s) => first(s.as('viewer', 'mutation { migrateVm(input: { vmId: "vm-2" }) { errors { code } } }')),
  },
  {
    name: 'host reporting for another host',
    expected: 'FORBIDDEN',
    status: 403,
    attack: (s) => first(s.as('hostA', REPORT_TEXT, { input: { hostId: HOST_B, vms: [{ vmId: 'vm-2', status: 'DOWN' }] } })),
  },
  {
    name: "host subscribing to another host's orders",
    expected: 'FORBIDDEN',
    attack: (s) => wsRefusal(s.wsUrl, s.tokens.hostA, HOST_COMMANDS, { hostId: HOST_B }),
  },
  {
    name: 'host fencing',
    expected: 'FORBIDDEN',
    status: 403,
    attack: (s) => first(s.as('hostA', `mutation { reportFenceResult(input: { hostId: "${HOST_B}", succeeded: true, method: MANUAL }) { errors { code } } }`)),
  },
  {
    name: 'operator reporting VM statuses',
    expected: 'FORBIDDEN',
    status: 403,
    attack: (s) => first(s.as('operator', REPORT_TEXT, { input: { hostId: HOST_A, vms: [{ vmId: 'vm-1', status: 'DOWN' }] } })),
  },
  {
    name: 'a permitted report and a forbidden fence in one operation (nothing runs)',
    expected: 'FORBIDDEN',
    status: 403,
    attack: (s) =>
      first(
        s.as(
          'hostA',
          `mutation { r: reportVmStatuses(input: { hostId: "${HOST_A}", vms: [], full: true }) { errors { code } } f: reportFenceResult(input: { hostId: "${HOST_B}", succeeded: true, method: MANUAL }) { errors { code } } }`,
        ),
      ),
  },
  {
    name: 'deep query',
    expected: 'QUERY_TOO_DEEP',
    status: 400,
    attack: (s) => first(s.as('viewer', nest(6))),
  },
  {
    name: 'deep query over graphql-ws',
    expected: 'QUERY_TOO_DEEP',
    attack: async (s) => {
      const ws = wsClientAs(s.wsUrl, s.tokens.viewer);
      try {
        const result = await new Promise<unknown>((resolve) => {
          ws.client.subscribe({ query: nest(6) }, { next: resolve, error: resolve, complete: () => undefined });
        });
        const errors = Array.isArray(result) ? result : (result as { errors?: unknown[] }).errors;
        return { code: (errors?.[0] as { extensions?: { code?: unknown } } | undefined)?.extensions?.code };
      } finally {
        await ws.dispose();
      }
    },
  },
  {
    name: 'alias bomb',
    expected: 'TOO_MANY_ALIASES',
    status: 400,
    attack: (s) => first(s.as('viewer', `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: engine { cursor }`).join(' ')} }`)),
  },
  {
    name: 'cost bomb (fifteen aliased pages of a thousand)',
    expected: 'QUERY_TOO_COSTLY',
    status: 400,
    attack: (s) => first(s.as('viewer', pagedCostBomb)),
  },
  {
    name: 'token flood',
    expected: 'TOO_MANY_TOKENS',
    status: 400,
    attack: (s) => first(s.as('viewer', `{ engine { ${'cursor '.repeat(LIMITS.maxTokens)} } }`)),
  },
  {
    name: 'directive flood',
    expected: 'TOO_MANY_DIRECTIVES',
    status: 400,
    attack: (s) => first(s.as('viewer', `{ engine { cursor ${'@include(if: true) '.repeat(LIMITS.maxDirectives + 1)} } }`)),
  },
  {
    name: 'huge batch',
    expected: 'INVALID_INPUT',
    status: 200,
    attack: async (s) => {
      const vms = Array.from({ length: LIMITS.maxReportBatch + 1 }, (_, i) => ({ vmId: `vm-flood-${i}`, status: 'UP' }));
      const answer = await s.as('hostA', REPORT_TEXT, { input: { hostId: HOST_A, vms } });
      const payload = answer.result?.data?.reportVmStatuses as { errors: { code: string; field: string }[] };
      expect(payload.errors[0]?.field).toBe('vms');
      return { code: payload.errors[0]?.code, status: answer.status };
    },
  },
  {
    name: 'oversized body',
    expected: 'REQUEST_ENTITY_TOO_LARGE',
    status: 413,
    attack: (s) =>
      first(post(s.url, { token: s.tokens.hostA, body: JSON.stringify({ query: REPORT_TEXT, variables: { padding: 'x'.repeat(LIMITS.maxBodyBytes) } }) })),
  },
  {
    name: 'malformed JSON',
    expected: 'BAD_REQUEST',
    status: 400,
    attack: (s) => first(post(s.url, { token: s.tokens.operator, body: '{"query": "mutation { migrateVm(input: {vmId: \\"vm-2\\"}) { errors { code } } }"' })),
  },
  {
    name: 'wrong content type',
    expected: 'UNSUPPORTED_MEDIA_TYPE',
    status: 415,
    attack: (s) => first(post(s.url, { token: s.tokens.operator, contentType: 'application/xml', body: '<migrateVm vmId="vm-2"/>' })),
  },
  {
    name: 'form-like POST without the CSRF header (a cross-site browser request)',
    expected: 'CSRF_HEADER_REQUIRED',
    status: 403,
    attack: (s) =>
      first(post(s.url, { token: s.tokens.operator, contentType: 'text/plain', body: JSON.stringify({ query: 'mutation { migrateVm(input: { vmId: "vm-2" }) { errors { code } } }' }) })),
  },
  {
    name: 'batched request',
    expected: 'BAD_REQUEST',
    status: 400,
    attack: (s) => first(post(s.url, { token: s.tokens.viewer, body: JSON.stringify([{ query: '{ engine { cursor } }' }, { query: '{ engine { cursor } }' }]) })),
  },
  {
    name: 'WebSocket without init',
    expected: CloseCode.Unauthorized,
    attack: async (s) => {
      const socket = rawSocket(s.wsUrl);
      const end = socketEnd(socket);
      socket.once('open', () => socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: text(TRANSITIONS) } })));
      return { code: await end };
    },
  },
  {
    name: 'WebSocket silent past the init timeout',
    expected: CloseCode.ConnectionInitialisationTimeout,
    attack: async (s) => ({ code: await socketEnd(rawSocket(s.wsUrl)) }),
  },
  {
    name: 'WebSocket with a bad token',
    expected: CloseCode.Forbidden,
    attack: async (s) => {
      const ws = wsClientAs(s.wsUrl, newToken());
      subscribeWs(ws, TRANSITIONS, {});
      const code = await ws.closeCode();
      await ws.dispose();
      return { code };
    },
  },
  {
    name: 'WebSocket with no token',
    expected: CloseCode.Forbidden,
    attack: async (s) => {
      const ws = wsClientAs(s.wsUrl, null);
      subscribeWs(ws, TRANSITIONS, {});
      const code = await ws.closeCode();
      await ws.dispose();
      return { code };
    },
  },
  {
    name: 'WebSocket message above maxPayload',
    expected: MESSAGE_TOO_BIG,
    attack: async (s) => {
      const socket = rawSocket(s.wsUrl);
      const end = socketEnd(socket);
      socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { padding: randomBytes(LIMITS.wsMaxPayloadBytes).toString('hex') } })));
      return { code: await end };
    },
  },
  {
    name: 'WebSocket upgrade from a page of another origin',
    expected: -403,
    attack: async (s) => ({ code: await socketEnd(rawSocket(s.wsUrl, { origin: 'https://evil.example' })) }),
  },
  {
    name: 'subscription flood on one connection',
    expected: 'TOO_MANY_SUBSCRIPTIONS',
    attack: async (s) => {
      const ws = wsClientAs(s.wsUrl, s.tokens.viewer);
      try {
        const subs = Array.from({ length: LIMITS.maxSubscriptionsPerConnection + 1 }, () => subscribeWs(ws, TRANSITIONS, {}));
        const refused = subs.at(-1) as (typeof subs)[number];
        await refused.ended();
        await s.untilSubscribers(LIMITS.maxSubscriptionsPerConnection); // the others still run
        for (const sub of subs) sub.unsubscribe();
        return { code: refused.errorCodes[0] };
      } finally {
        await ws.dispose();
      }
    },
  },
  {
    name: 'report flood over the rate limit',
    expected: 'RATE_LIMITED',
    status: 429,
    prepare: async (s) => {
      for (let i = 0; i < LIMITS.mutationBurst; i++) {
        const answer = await s.as('hostA', REPORT_TEXT, { input: { hostId: HOST_A, vms: [{ vmId: 'vm-1', status: 'MIGRATING_FROM', progress: i }] } });
        expect(codesOf(answer)).toEqual([]);
      }
    },
    attack: async (s) => {
      const answer = await s.as('hostA', REPORT_TEXT, { input: { hostId: HOST_A, vms: [{ vmId: 'vm-1', status: 'DOWN' }] } });
      expect(answer.headers.get('retry-after')).not.toBeNull();
      return first(Promise.resolve(answer));
    },
  },
  // ---- issue 12: a hostile-client review (docs/contract.md §11) ----
  {
    name: 'fragment chain, each fragment spreading the next twice (30 fragments, about 1.2 KB)',
    // Each spread counts one level of depth; the cost rule used to expand 2^29 copies first.
    expected: 'QUERY_TOO_DEEP',
    status: 400,
    attack: (s) => first(s.as('viewer', fragmentChain(30))),
  },
  {
    name: "a host's whole list of 2,000 VMs, unpaged (priced at its real size)",
    expected: 'QUERY_TOO_COSTLY',
    status: 400,
    prepare: async (s) => {
      for (let batch = 0; batch < 20; batch++) {
        const vms = Array.from({ length: LIMITS.maxReportBatch }, (_, i) => ({ vmId: `vm-many-${batch}-${i}`, status: 'UP' as const })).slice(batch === 0 ? 1 : 0);
        expect(s.app.table.reportVmStatuses({ hostId: HOST_A, vms }).ok).toBe(true);
      }
    },
    // 1 + 2,000 × 6 values, above 10,000 (an unpaged list used to be assumed 100 long: 601).
    attack: (s) => first(s.as('viewer', `{ host(id: "${HOST_A}") { vms { id status hostId location host { id } } } }`)),
  },
  {
    name: 'malformed JSON, accepting application/json only (no parser detail, 400 as with the other types)',
    expected: 'BAD_REQUEST',
    status: 400,
    attack: async (s) => {
      const answer = await post(s.url, { token: s.tokens.operator, accept: 'application/json', body: '{"query": "mutation { migrateVm(input: {vmId: \\"vm-2\\"}) { errors { code } } }"' });
      expect(answer.result?.errors?.[0]?.extensions).toEqual({ code: 'BAD_REQUEST' });
      return first(Promise.resolve(answer));
    },
  },
  {
    name: 'only a persisted-query extension, accepting application/json only',
    expected: 'BAD_REQUEST',
    status: 400,
    attack: (s) => first(post(s.url, { token: s.tokens.operator, accept: 'application/json', body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } }) })),
  },
  {
    name: 'CORS preflight from a page of another origin',
    expected: 'ORIGIN_NOT_ALLOWED',
    status: 403,
    attack: async (s) => {
      const response = await fetch(s.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' } });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
      return { code: body.errors[0]?.extensions.code, status: response.status };
    },
  },
  {
    name: 'mutation from a page of another origin, with a valid token',
    expected: 'ORIGIN_NOT_ALLOWED',
    status: 403,
    attack: (s) => first(post(s.url, { token: s.tokens.operator, headers: { origin: 'https://evil.example' }, body: JSON.stringify({ query: 'mutation { cancelMigration(input: { vmId: "vm-1" }) { errors { code } } }' }) })),
  },
  {
    name: 'request without a token, its body sent slowly (refused at its headers)',
    expected: 'UNAUTHENTICATED',
    status: 401,
    attack: async (s) => {
      const client = await rawClient(s.url);
      try {
        client.write(postHead(s.url, 5_000));
        client.write('{"query": "mutation { cancelMigration(input: { vmId: \\"vm-1\\" }) { errors { code } } }"'); // the rest never comes
        const status = Number((await client.statusLine()).split(' ')[1]);
        await client.closed();
        return { code: /"code":"([A-Z_]+)"/.exec(client.received())?.[1], status };
      } finally {
        client.destroy();
      }
    },
  },
  {
    name: 'connection flood of slow headers without a token, past the connection cap (the oldest make way)',
    expected: 200,
    attack: async (s) => {
      const clients: RawClient[] = [];
      try {
        for (let i = 0; i < LIMITS.maxConnections + 5; i++) {
          const client = await rawClient(s.url);
          clients.push(client);
          client.write(`POST /graphql HTTP/1.1\r\nhost: ${new URL(s.url).host}\r\n`);
        }
        await (clients[0] as RawClient).closed();
        expect(s.app.connectionCount()).toBeLessThanOrEqual(LIMITS.maxConnections);
        return { code: (await fetch(new URL('/health', s.url))).status };
      } finally {
        for (const client of clients) client.destroy();
      }
    },
  },
  {
    name: 'every connection held by an authenticated body sent slowly, then one more',
    expected: 'TOO_MANY_CONNECTIONS',
    status: 503,
    attack: async (s) => {
      const clients: RawClient[] = [];
      try {
        while (s.app.connectionCount() < LIMITS.maxConnections) {
          const client = await rawClient(s.url);
          clients.push(client);
          client.write(postHead(s.url, 5_000, s.tokens.viewer));
          client.write('{"query": "{ engine { cursor } }"'); // the rest never comes
          await untilTrue(() => s.app.pendingConnectionCount() === 0); // authenticated at its headers
        }
        const refused = await rawClient(s.url);
        clients.push(refused);
        const status = Number((await refused.statusLine()).split(' ')[1]);
        await refused.closed();
        return { code: /"code":"([A-Z_]+)"/.exec(refused.received())?.[1], status };
      } finally {
        for (const client of clients) client.destroy();
        await untilTrue(() => s.app.connectionCount() < LIMITS.maxConnections);
      }
    },
  },
  {
    name: 'graphql-ws connections of one credential past its cap',
    expected: TOO_MANY_CONNECTIONS_FOR_CREDENTIAL,
    attack: async (s) => {
      const held = Array.from({ length: LIMITS.maxWsConnectionsPerCredential }, () => wsClientAs(s.wsUrl, s.tokens.viewer));
      const extra = wsClientAs(s.wsUrl, s.tokens.viewer);
      try {
        const subs = held.map((ws) => subscribeWs(ws, TRANSITIONS, {}));
        await s.untilSubscribers(held.length);
        subscribeWs(extra, TRANSITIONS, {});
        const code = await extra.closeCode();
        for (const sub of subs) sub.unsubscribe();
        return { code };
      } finally {
        for (const ws of [...held, extra]) await ws.dispose();
      }
    },
  },
  {
    name: 'subscriptions of one credential past its cap, over graphql-ws and SSE',
    expected: 'TOO_MANY_SUBSCRIPTIONS_FOR_CREDENTIAL',
    attack: async (s) => {
      const ws = wsClientAs(s.wsUrl, s.tokens.viewer);
      const viewer = { authorization: `Bearer ${s.tokens.viewer}` };
      const sse = Array.from({ length: 2 }, () => subscribeSse(s.url, TRANSITIONS, {}, viewer));
      try {
        const subs = [subscribeWs(ws, TRANSITIONS, {}), subscribeWs(ws, TRANSITIONS, {})];
        await s.untilSubscribers(LIMITS.maxSubscriptionsPerCredential);
        const refused = subscribeSse(s.url, TRANSITIONS, {}, viewer);
        await refused.ended();
        for (const sub of subs) sub.unsubscribe();
        return { code: refused.errorCodes[0] };
      } finally {
        for (const sub of sse) sub.cancel();
        await ws.dispose();
      }
    },
  },
  {
    name: 'subscriptions past the total for the server',
    expected: 'TOO_MANY_SUBSCRIPTIONS_ON_SERVER',
    attack: async (s) => {
      const viewer = { authorization: `Bearer ${s.tokens.viewer}` };
      const operator = { authorization: `Bearer ${s.tokens.operator}` };
      const open = [
        ...Array.from({ length: LIMITS.maxSubscriptionsPerCredential }, () => subscribeSse(s.url, TRANSITIONS, {}, viewer)),
        ...Array.from({ length: LIMITS.maxSubscriptions - LIMITS.maxSubscriptionsPerCredential }, () => subscribeSse(s.url, TRANSITIONS, {}, operator)),
      ];
      try {
        await s.untilSubscribers(LIMITS.maxSubscriptions);
        const refused = subscribeSse(s.url, TRANSITIONS, {}, operator);
        await refused.ended();
        return { code: refused.errorCodes[0] };
      } finally {
        for (const sub of open) sub.cancel();
        await s.untilSubscribers(0);
      }
    },
  },
  {
    name: 'a discovered migration decided by the report that names its destination keeps it in its attempt',
    expected: 'host-c',
    prepare: async (s) => {
      const t = s.app.table;
      expect(t.reportVmStatuses({ hostId: HOST_B, vms: [{ vmId: 'vm-7', status: 'MIGRATING_FROM' }] }).ok).toBe(true);
      expect(t.reportVmStatuses({ hostId: HOST_B, vms: [{ vmId: 'vm-7', status: 'DOWN' }] }).ok).toBe(true);
      expect(t.reportVmStatuses({ hostId: 'host-c', vms: [{ vmId: 'vm-7', status: 'UP' }] }).ok).toBe(true);
    },
    attack: async (s) => {
      const answer = await s.as('viewer', '{ migrations(vmId: "vm-7") { edges { node { state attempts { destination { id } } } } } }');
      const node = (answer.result?.data?.migrations as { edges: { node: { state: string; attempts: { destination: { id: string } | null }[] } }[] }).edges[0]?.node;
      expect(node?.state).toBe('SUCCEEDED');
      return { code: node?.attempts[0]?.destination?.id ?? null };
    },
  },
  {
    name: "moving the destination of a migration in flight to another cluster",
    expected: 'CLUSTER_MISMATCH',
    status: 200,
    attack: async (s) => {
      const answer = await s.as('operator', 'mutation { registerHost(input: { hostId: "host-c", cluster: "elsewhere" }) { host { id } errors { code field } } }');
      const payload = answer.result?.data?.registerHost as { errors: { code: string; field: string }[] };
      expect(payload.errors[0]?.field).toBe('cluster');
      return { code: payload.errors[0]?.code, status: answer.status };
    },
  },
  {
    name: 'a delayed batch of a boot the host has since replaced',
    expected: 'STALE_REPORT',
    status: 200,
    prepare: async (s) => {
      for (const [bootId, sequence, status] of [['boot-1', 5, 'UP'], ['boot-2', 1, 'DOWN']] as const) {
        const answer = await s.as('hostB', REPORT_TEXT, { input: { hostId: HOST_B, bootId, sequence, vms: [{ vmId: 'vm-2', status }] } });
        expect(codesOf(answer)).toEqual([]);
      }
    },
    attack: async (s) => {
      const answer = await s.as('hostB', REPORT_TEXT, { input: { hostId: HOST_B, bootId: 'boot-1', sequence: 4, vms: [{ vmId: 'vm-2', status: 'UP' }] } });
      const payload = answer.result?.data?.reportVmStatuses as { errors: { code: string; field: string }[] };
      expect(payload.errors[0]?.field).toBe('bootId');
      return { code: payload.errors[0]?.code, status: answer.status };
    },
  },
  {
    name: "an agent back after its attempt timed out unstarted is handed the CANCEL again",
    expected: 'CANCEL',
    prepare: async (s) => {
      s.clock.advance(readConfig({}).migrationStartTimeoutMs);
      s.app.table.tick();
      expect(s.app.table.entryOf('vm-1')).toBeUndefined(); // FAILED: the source never started it
    },
    attack: async (s) => {
      const ws = wsClientAs(s.wsUrl, s.tokens.hostA);
      try {
        const orders = subscribeWs(ws, HOST_COMMANDS, { hostId: HOST_A });
        await orders.until((o) => o.data.length > 0);
        orders.unsubscribe();
        return { code: (orders.data[0] as { hostCommands: { kind: string } }).hostCommands.kind };
      } finally {
        await ws.dispose();
      }
    },
  },
  {
    name: 'a host at its cap of VMs reporting one more',
    expected: 'TOO_MANY_VMS',
    status: 200,
    prepare: async (s) => {
      const onHost = 1; // vm-2
      for (let batch = 0; batch * LIMITS.maxReportBatch < LIMITS.maxVmsPerHost - onHost; batch++) {
        const size = Math.min(LIMITS.maxReportBatch, LIMITS.maxVmsPerHost - onHost - batch * LIMITS.maxReportBatch);
        const vms = Array.from({ length: size }, (_, i) => ({ vmId: `vm-b-${batch}-${i}`, status: 'UP' as const }));
        expect(s.app.table.reportVmStatuses({ hostId: HOST_B, vms }).ok).toBe(true);
      }
      expect(s.app.table.vmIdsOnHost(HOST_B)).toHaveLength(LIMITS.maxVmsPerHost);
    },
    attack: async (s) => {
      const answer = await s.as('hostB', REPORT_TEXT, { input: { hostId: HOST_B, vms: [{ vmId: 'vm-one-more', status: 'UP' }] } });
      const payload = answer.result?.data?.reportVmStatuses as { errors: { code: string; field: string }[] };
      expect(payload.errors[0]?.field).toBe('vms');
      return { code: payload.errors[0]?.code, status: answer.status };
    },
  },
  {
    name: 'a new host beyond the cap of hosts',
    expected: 'TOO_MANY_HOSTS',
    status: 200,
    prepare: async (s) => {
      expect(s.app.table.registerHost({ hostId: 'host-d' }).ok).toBe(true);
      expect(s.app.table.hosts()).toHaveLength(LIMITS.maxHosts);
    },
    attack: async (s) => {
      const answer = await s.as('operator', 'mutation { registerHost(input: { hostId: "host-e" }) { host { id } errors { code field } } }');
      return { code: (answer.result?.data?.registerHost as { errors: { code: string }[] }).errors[0]?.code, status: answer.status };
    },
  },
  {
    name: 'removing a host that still runs a VM',
    expected: 'HOST_NOT_EMPTY',
    status: 200,
    attack: async (s) => {
      const answer = await s.as('operator', `mutation { removeHost(input: { hostId: "${HOST_B}" }) { hostId errors { code field } } }`);
      return { code: (answer.result?.data?.removeHost as { errors: { code: string }[] }).errors[0]?.code, status: answer.status };
    },
  },
  {
    name: 'removing a host as a viewer',
    expected: 'FORBIDDEN',
    status: 403,
    attack: (s) => first(s.as('viewer', 'mutation { removeHost(input: { hostId: "host-c" }) { hostId errors { code } } }')),
  },
];

/** Until `condition` holds, polling (a condition, never a fixed sleep). */
async function untilTrue(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('hostile requests', () => {
  let server: SecureServer;

  beforeEach(async () => {
    server = await startSecureServer(LIMITS);
    // Hosts with VMs and a migration in flight: something an attack could damage.
    setupFleet(server.app.table, { hosts: { [HOST_A]: ['vm-1'], [HOST_B]: ['vm-2'], 'host-c': [] } });
    const started = server.app.table.migrateVm({ vmId: 'vm-1', destinationHostId: 'host-c' });
    expect(started.ok).toBe(true);
  });

  afterEach(async () => {
    await server.stop();
  });

  it.each(CASES)('$name → $expected', async ({ expected, status, prepare, attack }) => {
    await prepare?.(server);
    const before = observe(server.app.table);
    const seq = server.app.table.latestSeq;

    const observed = await attack(server);

    expect(observed.code).toBe(expected);
    if (status !== undefined) expect(observed.status).toBe(status);
    // The service still answers, and the attack changed nothing.
    const { status: healthy, result } = await post(server.url, { token: server.tokens.viewer, body: JSON.stringify({ query: text(ENGINE) }) });
    expect(healthy).toBe(200);
    expect(result?.errors).toBeUndefined();
    expect(server.app.table.latestSeq).toBe(seq);
    expect(observe(server.app.table)).toEqual(before);
    expect(server.app.table.checkConsistency()).toEqual([]);
  });

  it('should accept the CSRF header on a GET query', async () => {
    const url = `${server.url}?query=${encodeURIComponent('{ engine { cursor } }')}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${server.tokens.viewer}`, [CSRF_HEADER]: '1', accept: 'application/json' } });
    expect(response.status).toBe(200);
  });
});
