/**
 * The connection policy (issue 12, items 4 and 5; docs/contract.md §11): a client without a token
 * is refused at its headers, a slow client is cut off by the header and request timeouts, the
 * connection cap gives way to newcomers by closing connections that have not authenticated, and
 * each credential holds a bounded number of graphql-ws connections and subscriptions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { TOO_MANY_CONNECTIONS_FOR_CREDENTIAL } from '../../src/server/subscriptions/websocket.js';
import { observe, setupFleet } from '../utils/domain.js';
import { postHead, rawClient, type RawClient } from '../utils/raw-http.js';
import { startSecureServer, wsClientAs, type SecureServer } from '../utils/security.js';
import { subscribeSse } from '../utils/sse.js';
import { subscribeWs, type WsClient } from '../utils/ws.js';

const TRANSITIONS = graphql(`
  subscription ConnectionsTransitions {
    transitions { cursor }
  }
`);

/** Until `condition` holds, polling the server's own counters (no fixed sleep). */
async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('the connection policy', () => {
  let server: SecureServer | null = null;
  const raw: RawClient[] = [];
  const sockets: WsClient[] = [];

  const start = async (overrides: Parameters<typeof startSecureServer>[0]) => {
    server = await startSecureServer(overrides);
    setupFleet(server.app.table, { hosts: { 'host-a': ['vm-1'], 'host-b': [] } });
    return server;
  };

  afterEach(async () => {
    for (const client of raw.splice(0)) client.destroy();
    for (const ws of sockets.splice(0)) await ws.dispose();
    await server?.stop();
    server = null;
  });

  it('should refuse a request without a token at its headers, before its body arrives, and close its connection', async () => {
    const s = await start({});
    const before = observe(s.app.table);
    const client = await rawClient(s.url);
    raw.push(client);
    client.write(postHead(s.url, 10_000)); // and never the body
    expect(await client.statusLine()).toBe('HTTP/1.1 401 Unauthorized');
    await client.closed();
    expect(client.received()).toContain('"code":"UNAUTHENTICATED"');
    expect(client.received().toLowerCase()).toContain('www-authenticate: bearer');
    expect(observe(s.app.table)).toEqual(before);
  });

  it('should answer 408 and close a connection whose headers do not arrive within the headers timeout', async () => {
    const s = await start({ headersTimeoutMs: 300, requestTimeoutMs: 5_000 });
    const client = await rawClient(s.url);
    raw.push(client);
    client.write(`POST /graphql HTTP/1.1\r\nhost: ${new URL(s.url).host}\r\n`); // the rest never comes
    expect(await client.statusLine()).toBe('HTTP/1.1 408 Request Timeout');
    await client.closed();
  });

  it('should answer 408 and close an authenticated request whose body does not arrive within the request timeout', async () => {
    const s = await start({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const before = observe(s.app.table);
    const client = await rawClient(s.url);
    raw.push(client);
    client.write(postHead(s.url, 1_000, s.tokens.operator));
    client.write('{"query": "mutation { migrateVm(input: { vmId: \\"vm-1\\" }) { errors { code } } }"'); // never finished
    expect(await client.statusLine()).toBe('HTTP/1.1 408 Request Timeout');
    await client.closed();
    expect(observe(s.app.table)).toEqual(before);
  });

  it('should close the oldest connection that has not authenticated for a newcomer at the cap, and keep answering /health', async () => {
    const s = await start({ maxConnections: 4 });
    for (let i = 0; i < 4; i++) {
      const client = await rawClient(s.url);
      raw.push(client);
      client.write(`POST /graphql HTTP/1.1\r\nhost: ${new URL(s.url).host}\r\n`); // slow headers
    }
    await until(() => s.app.connectionCount() === 4, 'four connections');
    const health = await fetch(new URL('/health', s.url));
    expect(health.status).toBe(200);
    await (raw[0] as RawClient).closed(); // the oldest made way
    expect(s.app.connectionCount()).toBeLessThanOrEqual(4);
  });

  it('should answer 503 TOO_MANY_CONNECTIONS when every connection has authenticated, and serve again once one closes', async () => {
    const s = await start({ maxConnections: 3 });
    for (let i = 0; i < 3; i++) {
      const ws = wsClientAs(s.wsUrl, s.tokens.viewer);
      sockets.push(ws);
      subscribeWs(ws, TRANSITIONS, {});
    }
    await s.untilSubscribers(3);
    await until(() => s.app.connectionCount() === 3, 'three connections');
    const client = await rawClient(s.url);
    raw.push(client);
    expect(await client.statusLine()).toBe('HTTP/1.1 503 Service Unavailable');
    await client.closed();
    expect(client.received()).toContain('"code":"TOO_MANY_CONNECTIONS"');
    await (sockets.pop() as WsClient).dispose();
    await until(() => s.app.connectionCount() < 3, 'a free connection');
    expect((await fetch(new URL('/health', s.url))).status).toBe(200);
  });

  it("should close a graphql-ws connection beyond the credential's cap with 4029, and let other credentials connect", async () => {
    const s = await start({ maxWsConnectionsPerCredential: 2 });
    for (let i = 0; i < 2; i++) {
      const ws = wsClientAs(s.wsUrl, s.tokens.viewer);
      sockets.push(ws);
      subscribeWs(ws, TRANSITIONS, {});
    }
    await s.untilSubscribers(2);
    const third = wsClientAs(s.wsUrl, s.tokens.viewer);
    sockets.push(third);
    subscribeWs(third, TRANSITIONS, {});
    expect(await third.closeCode()).toBe(TOO_MANY_CONNECTIONS_FOR_CREDENTIAL);
    const operator = wsClientAs(s.wsUrl, s.tokens.operator);
    sockets.push(operator);
    subscribeWs(operator, TRANSITIONS, {});
    await s.untilSubscribers(3);
    // A place given back is taken again.
    await (sockets[0] as WsClient).dispose();
    await s.untilSubscribers(2);
    const again = wsClientAs(s.wsUrl, s.tokens.viewer);
    sockets.push(again);
    subscribeWs(again, TRANSITIONS, {});
    await s.untilSubscribers(3);
  });

  it("should refuse a subscription beyond the credential's cap over SSE and graphql-ws, and give the place back when one ends", async () => {
    const s = await start({ maxSubscriptionsPerCredential: 3 });
    const viewer = { authorization: `Bearer ${s.tokens.viewer}` };
    const ws = wsClientAs(s.wsUrl, s.tokens.viewer);
    sockets.push(ws);
    const held = [subscribeWs(ws, TRANSITIONS, {}), subscribeWs(ws, TRANSITIONS, {})];
    const sse = subscribeSse(s.url, TRANSITIONS, {}, viewer);
    await s.untilSubscribers(3);

    const overWs = subscribeWs(ws, TRANSITIONS, {});
    await overWs.ended();
    expect(overWs.errorCodes).toEqual(['TOO_MANY_SUBSCRIPTIONS_FOR_CREDENTIAL']);
    const overSse = subscribeSse(s.url, TRANSITIONS, {}, viewer);
    await overSse.ended();
    expect(overSse.errorCodes).toEqual(['TOO_MANY_SUBSCRIPTIONS_FOR_CREDENTIAL']);

    // Another credential is not concerned; an ended subscription gives its place back.
    const other = subscribeSse(s.url, TRANSITIONS, {}, { authorization: `Bearer ${s.tokens.operator}` });
    await s.untilSubscribers(4);
    held[0]?.unsubscribe();
    sse.cancel();
    other.cancel();
    await s.untilSubscribers(1);
    const again = subscribeWs(ws, TRANSITIONS, {});
    const againSse = subscribeSse(s.url, TRANSITIONS, {}, viewer);
    await s.untilSubscribers(3);
    expect([...again.errorCodes, ...againSse.errorCodes]).toEqual([]);
    againSse.cancel();
  });

  it('should refuse a subscription beyond the total for the server, whoever asks', async () => {
    const s = await start({ maxSubscriptions: 2 });
    const a = subscribeSse(s.url, TRANSITIONS, {}, { authorization: `Bearer ${s.tokens.viewer}` });
    const b = subscribeSse(s.url, TRANSITIONS, {}, { authorization: `Bearer ${s.tokens.operator}` });
    await s.untilSubscribers(2);
    const refused = subscribeSse(s.url, TRANSITIONS, {}, { authorization: `Bearer ${s.tokens.operator}` });
    await refused.ended();
    expect(refused.errorCodes).toEqual(['TOO_MANY_SUBSCRIPTIONS_ON_SERVER']);
    a.cancel();
    b.cancel();
    await s.untilSubscribers(0);
  });
});
