import { describe, expect, it } from 'vitest';
import { GRAPHIQL_QUERY } from '../../src/server/http/app.js';
import { graphql } from '../gql/index.js';
import { arrange, migrate } from '../utils/api.js';
import { startServer, serverPerTest } from '../utils/server.js';
import { subscribeSse } from '../utils/sse.js';
import { closed, opened, subscribeWs, wsClient } from '../utils/ws.js';

const HOST_STATUS = graphql(`
  query ServerHostStatus($id: ID!) {
    host(id: $id) { status }
  }
`);

const MIGRATION_STATE = graphql(`
  query ServerMigrationState($id: ID!) {
    migration(id: $id) { state reason }
  }
`);

const TRANSITIONS = graphql(`
  subscription ServerTransitions {
    transitions { cursor }
  }
`);

/** WebSocket close code of a server going away (RFC 6455). */
const GOING_AWAY = 1001;
const HOST_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 30_000;
const TICK_MS = 10;

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
}

describe('the server', () => {
  describe('endpoints', () => {
    const server = serverPerTest();

    it('should answer /health with its role (the engine, in one process), the engine epoch, latest cursor and open subscriptions', async () => {
      const response = await fetch(new URL('/health', server().url));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok', role: 'engine', epoch: server().app.table.epoch, cursor: server().app.table.cursor, subscriptions: 0 });
    });

    it('should serve GraphiQL to a browser on /graphql, with subscriptions over WebSocket', async () => {
      const response = await fetch(server().url, { headers: { accept: 'text/html' } });
      expect(response.status).toBe(200);
      const page = await response.text();
      expect(page).toContain('"subscriptionsProtocol":"WS"');
      expect(page).toContain('"title":"Transit"');
      // Self-contained: an operator's browser may not reach a CDN.
      expect(page).not.toMatch(/<script[^>]+src="https?:/);
      expect(page).not.toContain('unpkg.com');
    });

    it("should open GraphiQL on a query that runs", async () => {
      await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
      await migrate(server(), 'vm-1', 'host-b');
      const { status, result } = await server().requestText(GRAPHIQL_QUERY);
      expect(status).toBe(200);
      expect(result.errors).toBeUndefined();
      expect(result.data).toMatchObject({ hosts: [{ id: 'host-a' }, { id: 'host-b' }], migrations: { edges: [{ node: { vm: { id: 'vm-1' } } }] } });
    });

    it('should serve graphql-ws on the same port and path as HTTP', async () => {
      const ws = wsClient(server().wsUrl);
      try {
        const sub = subscribeWs(ws, TRANSITIONS, {});
        await server().untilSubscribers(1);
        await arrange(server(), { 'host-a': [] });
        await sub.until((s) => s.data.length > 0);
        expect(new URL(ws.socket().url).port).toBe(String(server().port));
      } finally {
        await ws.dispose();
      }
    });
  });

  describe("with the engine's clock ticking", () => {
    const server = serverPerTest({ tickIntervalMs: TICK_MS, hostTimeoutMs: HOST_TIMEOUT_MS, migrationStartTimeoutMs: START_TIMEOUT_MS });

    it('should make a host silent for the host timeout NON_RESPONSIVE', async () => {
      await arrange(server(), { 'host-a': ['vm-1'] });
      server().clock.advance(HOST_TIMEOUT_MS - 1);
      // Barrier: the engine's tick has read the advanced clock (and found nothing due) once this resolves.
      await server().clock.nextRead();
      expect((await server().data(HOST_STATUS, { id: 'host-a' })).host?.status).toBe('UP');
      server().clock.advance(1);
      const { host } = await eventually(() => server().data(HOST_STATUS, { id: 'host-a' }), (r) => r.host?.status !== 'UP');
      expect(host?.status).toBe('NON_RESPONSIVE');
    });

    it('should fail a migration its source did not start within the start timeout', async () => {
      await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
      const id = await migrate(server(), 'vm-1', 'host-b');
      server().clock.advance(START_TIMEOUT_MS);
      const { migration } = await eventually(() => server().data(MIGRATION_STATE, { id }), (r) => r.migration?.state !== 'IN_PROGRESS');
      expect(migration).toEqual({ state: 'FAILED', reason: 'the source did not start the migration' });
    });
  });

  describe('shutting down', () => {
    it('should end subscriptions, close WebSockets with 1001 and stop accepting connections', async () => {
      const server = await startServer();
      const ws = wsClient(server.wsUrl);
      const overWs = subscribeWs(ws, TRANSITIONS, {});
      const overSse = subscribeSse(server.url, TRANSITIONS, {});
      await server.untilSubscribers(2);
      await opened(ws.socket());
      const socketClosed = closed(ws.socket());

      await server.stop();
      expect(await socketClosed).toBe(GOING_AWAY);
      expect(await overSse.ended()).toEqual({ kind: 'complete' });
      expect(overWs.ending).not.toBeNull();
      expect(server.app.subscriberCount()).toBe(0);
      await expect(fetch(new URL('/health', server.url))).rejects.toThrow();
      await ws.dispose();
    });
  });
});
