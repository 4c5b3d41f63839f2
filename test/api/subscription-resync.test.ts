import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, report } from '../utils/api.js';
import type { ResultStream } from '../utils/result-stream.js';
import { startServer, type TestServer } from '../utils/server.js';
import { subscribeSse } from '../utils/sse.js';
import { subscribeWs, wsClient, type WsClient } from '../utils/ws.js';

const TRANSITIONS_AFTER = graphql(`
  subscription ResyncTransitions($after: String) {
    transitions(after: $after) { cursor vmId }
  }
`);

const EVENTS_AFTER = graphql(`
  subscription ResyncEvents($after: String) {
    events(after: $after) { cursor type }
  }
`);

const ENGINE = graphql(`
  query ResyncEngine {
    engine { epoch cursor }
  }
`);

type Transport = 'graphql-ws' | 'SSE';

describe.each<Transport>(['graphql-ws', 'SSE'])('a subscriber over %s with a cursor it cannot resume from', (transport) => {
  const servers: TestServer[] = [];
  const clients: WsClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.dispose();
    for (const server of servers.splice(0)) await server.stop();
  });

  async function serve(overrides: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
    const server = await startServer(overrides);
    servers.push(server);
    return server;
  }

  function subscribe<R>(server: TestServer, document: TypedDocumentNode<R, { after?: string | null }>, after: string): ResultStream<R> {
    if (transport === 'SSE') return subscribeSse(server.url, document, { after });
    const client = wsClient(server.wsUrl);
    clients.push(client);
    return subscribeWs(client, document, { after });
  }

  /** The stream received only an error with `code`, then ended normally (not a broken connection). */
  async function expectEndedWith(stream: ResultStream<unknown>, code: string): Promise<void> {
    expect(await stream.ended()).toEqual({ kind: 'complete' });
    expect(stream.data).toEqual([]);
    expect(stream.errorCodes).toEqual([code]);
    expect(stream.errors[0]?.message).toEqual(expect.any(String));
  }

  it('should end with RESYNC_REQUIRED after an engine restart, and serve a fresh subscription', async () => {
    const before = await serve();
    await arrange(before, { 'host-a': ['vm-1'] });
    const { engine: old } = await before.data(ENGINE, {});
    await before.stop(); // closes its client connections too: none is reused against the new server

    // The engine restarts on the same address: empty table, new epoch.
    const after = await serve({ port: before.port });
    const { engine } = await after.data(ENGINE, {});
    expect(engine.epoch).not.toBe(old.epoch);
    const stale = subscribe(after, TRANSITIONS_AFTER, old.cursor);
    await expectEndedWith(stale, 'RESYNC_REQUIRED');
    expect(after.app.subscriberCount()).toBe(0);

    // What the error says to do: query the current state, then subscribe afresh with its cursor.
    const fresh = subscribe(after, TRANSITIONS_AFTER, engine.cursor);
    await after.untilSubscribers(1);
    await arrange(after, { 'host-a': ['vm-1'] });
    await fresh.until((s) => s.data.some((d) => d.transitions.vmId === 'vm-1'));
    expect(fresh.errors).toEqual([]);
  });

  it.each([
    ['transitions', TRANSITIONS_AFTER],
    ['events', EVENTS_AFTER],
  ] as const)('should end %s with RESYNC_REQUIRED when the history after the cursor is no longer kept', async (_feed, document) => {
    const server = await serve({ historyLimit: 10, subscriberBufferItems: 5 });
    await arrange(server, { 'host-a': ['vm-1'] });
    const { engine } = await server.data(ENGINE, {});
    // Each DOWN makes a transition and an event, each UP a transition: both logs evict the cursor's successors.
    for (let i = 0; i < 24; i++) await report(server, 'host-a', [{ vmId: 'vm-1', status: i % 2 === 0 ? 'DOWN' : 'UP' }]);
    await expectEndedWith(subscribe(server, document as TypedDocumentNode<unknown, { after?: string | null }>, engine.cursor), 'RESYNC_REQUIRED');
  });

  it.each([
    ['is not a cursor', () => 'yesterday'],
    ['has no sequence', () => 'epoch:'],
    ['is ahead of the engine', (server: TestServer) => `${server.app.table.epoch}:999999`],
  ])('should end with INVALID_CURSOR a cursor that %s', async (_case, cursorFor) => {
    const server = await serve();
    await expectEndedWith(subscribe(server, TRANSITIONS_AFTER, cursorFor(server)), 'INVALID_CURSOR');
  });
});
