/**
 * A leak the graphql-ws fuzz found (test/security/fuzz.test.ts) in graphql-ws's own server, checked
 * against Transit's graphql-transport-ws transport (src/server/subscriptions/websocket.ts).
 *
 * A client subscribes with an id, completes it before the subscription has started, and subscribes
 * again with the same id. graphql-ws's `complete` forgets the id while the first operation is still
 * being set up; the second subscribe registers the id again; when the first operation's stream is
 * ready, graphql-ws finds the id registered and takes it for its own, and the second stream then
 * overwrites it: the first stream is referenced by nothing any more, and the table keeps feeding it
 * (graphql-ws issue #532 was the same leak for a stream ready after the socket closed). Transit's
 * transport gives each subscribe its own operation object and lets an operation act only while its
 * id still maps to it.
 */
import { describe, expect, it } from 'vitest';
import { rawSocket, socketEnd } from '../utils/security.js';
import { startServer } from '../utils/server.js';
import { opened } from '../utils/ws.js';

const SUBSCRIPTION = 'subscription { transitions { cursor } }';
const ENGINE = '{ engine { cursor } }';

describe('a subscription completed before it started, whose id is reused at once', () => {
  it('should be let go of once the socket closes, both the completed one and the one that reused its id', async () => {
    const server = await startServer();
    try {
      const socket = rawSocket(server.wsUrl);
      const end = socketEnd(socket);
      await opened(socket);
      const acknowledged = new Promise<void>((resolve) => socket.once('message', () => resolve()));
      socket.send(JSON.stringify({ type: 'connection_init' }));
      await acknowledged;
      socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: SUBSCRIPTION } }));
      socket.send(JSON.stringify({ type: 'complete', id: '1' }));
      socket.send(JSON.stringify({ type: 'subscribe', id: '1', payload: { query: SUBSCRIPTION } }));
      // Barrier: a query sent after them is answered once both subscribes have been acted on.
      const answered = new Promise<void>((resolve) =>
        socket.on('message', (data: Buffer) => {
          if ((JSON.parse(data.toString()) as { id?: string; type?: string }).id === 'barrier') resolve();
        }),
      );
      socket.send(JSON.stringify({ type: 'subscribe', id: 'barrier', payload: { query: ENGINE } }));
      await answered;
      socket.close(1000);
      expect(await end).toBe(1000);
      await server.untilSubscribers(0, 500);
    } finally {
      await server.stop();
    }
  });
});
