/**
 * Transit's own server side of the graphql-transport-ws protocol (src/server/subscriptions/websocket.ts)
 * answers as graphql-ws's server does: the same messages and close codes, checked with a raw socket
 * where the protocol is at stake and with graphql-ws's own client where a client would notice.
 */
import { print } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { graphql } from '../gql/index.js';
import { arrange } from '../utils/api.js';
import { rawSocket, socketEnd } from '../utils/security.js';
import { serverPerTest } from '../utils/server.js';
import { opened, subscribeWs, wsClient, type WsClient } from '../utils/ws.js';

const TRANSITIONS = graphql(`
  subscription ProtocolTransitions {
    transitions { cursor }
  }
`);

const ENGINE = graphql(`
  query ProtocolEngine {
    engine { epoch }
  }
`);

/** A raw socket past `connection_ack`, recording every message it receives. */
async function acknowledged(url: string): Promise<{ socket: WebSocket; messages: unknown[]; next: () => Promise<unknown> }> {
  const socket = rawSocket(url);
  const messages: unknown[] = [];
  const waiters: (() => void)[] = [];
  socket.on('message', (data: Buffer) => {
    messages.push(JSON.parse(data.toString('utf8')));
    waiters.splice(0).forEach((wake) => wake());
  });
  let read = 0;
  const next = async (): Promise<unknown> => {
    while (messages.length <= read) await new Promise<void>((resolve) => waiters.push(resolve));
    return messages[read++];
  };
  await opened(socket);
  socket.send(JSON.stringify({ type: 'connection_init' }));
  expect(await next()).toEqual({ type: 'connection_ack' });
  return { socket, messages, next };
}

describe('graphql-transport-ws', () => {
  const server = serverPerTest();
  const sockets: WebSocket[] = [];
  const clients: WsClient[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    for (const client of clients.splice(0)) await client.dispose();
  });

  it('should answer a query with next then complete, and a ping with a pong carrying its payload', async () => {
    const { socket, next } = await acknowledged(server().wsUrl);
    sockets.push(socket);
    socket.send(JSON.stringify({ type: 'ping', payload: { n: 1 } }));
    expect(await next()).toEqual({ type: 'pong', payload: { n: 1 } });
    socket.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: print(ENGINE) } }));
    expect(await next()).toEqual({ id: 'q', type: 'next', payload: { data: { engine: { epoch: server().app.table.epoch } } } });
    expect(await next()).toEqual({ id: 'q', type: 'complete' });
  });

  it('should answer an invalid operation with an error message, and keep the connection', async () => {
    const { socket, next } = await acknowledged(server().wsUrl);
    sockets.push(socket);
    socket.send(JSON.stringify({ id: 'bad', type: 'subscribe', payload: { query: 'subscription { nothing }' } }));
    const error = (await next()) as { id: string; type: string; payload: { extensions?: { code?: string } }[] };
    expect([error.id, error.type, error.payload[0]?.extensions?.code]).toEqual(['bad', 'error', 'GRAPHQL_VALIDATION_FAILED']);
    socket.send(JSON.stringify({ id: 'ok', type: 'subscribe', payload: { query: print(ENGINE) } }));
    expect(await next()).toMatchObject({ id: 'ok', type: 'next' });
  });

  it('should stop a subscription the client completes, sending nothing more for it', async () => {
    const { socket, messages } = await acknowledged(server().wsUrl);
    sockets.push(socket);
    socket.send(JSON.stringify({ id: 's', type: 'subscribe', payload: { query: print(TRANSITIONS) } }));
    await server().untilSubscribers(1);
    socket.send(JSON.stringify({ id: 's', type: 'complete' }));
    await server().untilSubscribers(0);
    await arrange(server(), { 'host-a': ['vm-1'] });
    // A query after the change: its answer comes after anything the change could have sent.
    socket.send(JSON.stringify({ id: 'q', type: 'subscribe', payload: { query: print(ENGINE) } }));
    while (!messages.some((m) => (m as { id?: string; type: string }).id === 'q' && (m as { type: string }).type === 'complete')) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(messages.filter((m) => (m as { id?: string }).id === 's')).toEqual([]);
  });

  it.each([
    ['a second connection_init', [{ type: 'connection_init' }], CloseCode.TooManyInitialisationRequests],
    ['a subscribe with an id already open', [{ id: 'x', type: 'subscribe', payload: { query: 'subscription { transitions { cursor } }' } }, { id: 'x', type: 'subscribe', payload: { query: 'subscription { transitions { cursor } }' } }], CloseCode.SubscriberAlreadyExists],
    ['a message that is not one of the protocol', [{ type: 'bogus' }], CloseCode.BadRequest],
    ['text that is not JSON', ['{'], CloseCode.BadRequest],
  ])('should close the connection on %s with the code graphql-ws uses', async (_what, frames, code) => {
    const { socket } = await acknowledged(server().wsUrl);
    sockets.push(socket);
    const end = socketEnd(socket);
    for (const frame of frames) socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
    expect(await end).toBe(code);
  });

  it('should close a socket that names no subprotocol with 4406', async () => {
    const socket = new WebSocket(server().wsUrl);
    sockets.push(socket);
    expect(await socketEnd(socket)).toBe(CloseCode.SubprotocolNotAcceptable);
  });

  it("should serve graphql-ws's own client: a live subscription, then a query on the same connection", async () => {
    const client = wsClient(server().wsUrl);
    clients.push(client);
    const live = subscribeWs(client, TRANSITIONS);
    await server().untilSubscribers(1);
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2'] });
    await live.until((s) => s.data.length === 3);
    const query = subscribeWs(client, ENGINE);
    expect(await query.ended()).toEqual({ kind: 'complete' });
    expect(query.data).toEqual([{ engine: { epoch: server().app.table.epoch } }]);
    expect(live.errors).toEqual([]);
  });
});
