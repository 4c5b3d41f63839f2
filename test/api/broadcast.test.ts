/**
 * The broadcast path (src/server/subscriptions/delivery.ts): every subscriber of an operation is
 * written the same serialized result, in the very bytes graphql-ws and yoga frame, while each
 * subscriber keeps its own bound: one that stops reading is ended alone.
 */
import { print } from 'graphql';
import { MessageType, stringifyMessage } from 'graphql-ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { graphql } from '../gql/index.js';
import { arrange, migrate, report } from '../utils/api.js';
import { rawSocket } from '../utils/security.js';
import { startServer, type TestServer } from '../utils/server.js';
import { subscribeSse } from '../utils/sse.js';
import { opened, subscribeWs, wsClient, type WsClient } from '../utils/ws.js';

const WATCH = graphql(`
  subscription BroadcastWatch {
    transitions { cursor cause vmId to { status hostId } }
  }
`);

const HEAVY = graphql(`
  subscription BroadcastHeavy {
    transitions {
      cursor
      migration { id progress source { id vms { id status } } }
    }
  }
`);

/** Until `condition` holds, checked whenever something arrives; fails after 10 s. */
function until(condition: () => boolean, what: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const check = () => {
      if (condition()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out: ${what()}`));
      setTimeout(check, 5);
    };
    check();
  });
}

/** A raw graphql-transport-ws socket subscribed with operation id `id`; collects the text of every `next` frame. */
async function rawSubscriber(server: TestServer, id: string, query: string): Promise<{ frames: string[]; socket: WebSocket }> {
  const socket = rawSocket(server.wsUrl);
  const frames: string[] = [];
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    expect(isBinary).toBe(false);
    const text = data.toString('utf8');
    if (text.includes('"type":"connection_ack"')) socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query } }));
    if (text.includes('"type":"next"')) frames.push(text);
  });
  await opened(socket);
  socket.send(JSON.stringify({ type: 'connection_init' }));
  return { frames, socket };
}

/** A raw SSE subscriber; collects every `event: next` block exactly as it came. */
function rawSse(server: TestServer, query: string): { events: string[]; abort: () => void } {
  const events: string[] = [];
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query }),
      signal: controller.signal,
    });
    if (response.body === null) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end + 2);
        buffer = buffer.slice(end + 2);
        if (block.startsWith('event: next\n')) events.push(block);
      }
    }
  })().catch(() => undefined);
  return { events, abort: () => controller.abort() };
}

describe('the broadcast path', () => {
  let server: TestServer;
  const sockets: WebSocket[] = [];
  const clients: WsClient[] = [];

  beforeEach(async () => {
    server = await startServer({ subscriberBufferItems: 20 });
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.terminate();
    for (const client of clients.splice(0)) await client.dispose();
    await server.stop();
  });

  it('should write every subscriber of an operation the same bytes, framed as graphql-ws and yoga frame them', async () => {
    const query = print(WATCH);
    const ws = await Promise.all(['1', '1', '1', 'other'].map((id) => rawSubscriber(server, id, query)));
    sockets.push(...ws.map((s) => s.socket));
    const sse = [rawSse(server, query), rawSse(server, query)];
    try {
      await server.untilSubscribers(6);
      await arrange(server, { 'host-a': ['vm-1', 'vm-2'], 'host-b': [] });
      await migrate(server, 'vm-1', 'host-b');
      const kept = server.app.table.transitionsAfter(0);
      if (!kept.ok) throw new Error('history evicted');
      const expected = kept.items.length;
      const everyone = () => [...ws.map((s) => s.frames.length), ...sse.map((s) => s.events.length)];
      await until(() => everyone().every((n) => n === expected), () => `received ${JSON.stringify(everyone())} of ${expected}`);

      const [first, second, third, other] = ws.map((s) => s.frames);
      expect(second).toEqual(first);
      expect(third).toEqual(first);
      // Each frame is exactly graphql-ws's own serialization of that message.
      const payloads = (first as string[]).map((frame) => (JSON.parse(frame) as { payload: unknown }).payload);
      expect(first).toEqual(payloads.map((payload) => stringifyMessage({ id: '1', type: MessageType.Next, payload: payload as never })));
      expect(other).toEqual(payloads.map((payload) => stringifyMessage({ id: 'other', type: MessageType.Next, payload: payload as never })));
      // SSE: yoga's event, the same bytes for both subscribers, the same payloads as over graphql-ws.
      expect(sse[1]?.events).toEqual(sse[0]?.events);
      expect(sse[0]?.events).toEqual(payloads.map((payload) => `event: next\ndata: ${JSON.stringify(payload)}\n\n`));
      expect(payloads.map((p) => (p as { data: { transitions: { cursor: string } } }).data.transitions.cursor)).toEqual(
        kept.items.map((t) => `${server.app.table.epoch}:${t.seq}`),
      );
    } finally {
      for (const s of sse) s.abort();
    }
  });

  it('should end only the subscriber that stops reading, while the others of the same operation receive every item in order', async () => {
    const residents = Array.from({ length: 1_500 }, (_, i) => `vm-${String(i).padStart(4, '0')}`);
    const migrating = residents.slice(0, 10);
    await arrange(server, { 'host-a': residents, 'host-b': [] });
    for (const vmId of migrating) await migrate(server, vmId, 'host-b');

    const slowClient = wsClient(server.wsUrl);
    const fastClient = wsClient(server.wsUrl);
    clients.push(slowClient, fastClient);
    const slow = subscribeWs(slowClient, HEAVY);
    const fast = subscribeWs(fastClient, HEAVY);
    const fastSse = subscribeSse(server.url, HEAVY);
    try {
      await server.untilSubscribers(3);
      const from = server.app.table.latestSeq;
      const made = () => {
        const kept = server.app.table.transitionsAfter(from);
        if (!kept.ok) throw new Error('history evicted');
        return kept.items.map((t) => t.seq);
      };
      const progress = (p: number) => report(server, 'host-a', migrating.map((vmId) => ({ vmId, status: 'MIGRATING_FROM' as const, progress: p })));
      await progress(1);
      await slow.until((s) => s.data.length === migrating.length);
      slowClient.socket().pause();

      // Reports go on until the paused subscriber is ended; the readers keep up with each one.
      let p = 2;
      for (; server.app.subscriberCount() === 3; p++) {
        if (p > 100) throw new Error('the paused subscriber was never ended');
        await progress(p);
        const count = made().length;
        await fast.until((s) => s.data.length === count);
        await fastSse.until((s) => s.data.length === count);
      }
      expect(server.app.subscriberCount()).toBe(2);
      await progress(p);
      const all = made();
      await fast.until((s) => s.data.length === all.length);
      await fastSse.until((s) => s.data.length === all.length);

      const seqs = (cursors: string[]) => cursors.map((c) => Number(c.slice(c.lastIndexOf(':') + 1)));
      expect(seqs(fast.data.map((d) => d.transitions.cursor))).toEqual(all);
      expect(seqs(fastSse.data.map((d) => d.transitions.cursor))).toEqual(all);
      expect([...fast.errors, ...fastSse.errors]).toEqual([]);

      slowClient.socket().resume();
      expect(await slow.ended()).toEqual({ kind: 'complete' });
      expect(slow.errorCodes).toEqual(['SUBSCRIBER_TOO_SLOW']);
      // What it did receive is a prefix of the same sequence, with no gap.
      const got = seqs(slow.data.map((d) => d.transitions.cursor));
      expect(got).toEqual(all.slice(0, got.length));
    } finally {
      fastSse.cancel();
    }
  });
});
