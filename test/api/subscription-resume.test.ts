import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, keepReporting, seqOf } from '../utils/api.js';
import type { ResultStream } from '../utils/result-stream.js';
import { startServer, type TestServer } from '../utils/server.js';
import { subscribeSse } from '../utils/sse.js';
import { subscribeWs, wsClient, type WsClient } from '../utils/ws.js';

const TRANSITIONS_AFTER = graphql(`
  subscription ResumeTransitions($after: String) {
    transitions(after: $after) { cursor cause vmId }
  }
`);

const EVENTS_AFTER = graphql(`
  subscription ResumeEvents($after: String) {
    events(after: $after) { cursor type vmId }
  }
`);

const ENGINE_CURSOR = graphql(`
  query ResumeEngineCursor {
    engine { cursor }
  }
`);

const VM_IDS = Array.from({ length: 20 }, (_, i) => `vm-${i}`);
/** Items to receive before dropping the connection, and while reconnected, before reports stop. */
const BEFORE_DROP = 30;
const AFTER_RESUME = 30;

type Feed = 'transitions' | 'events';
type Transport = 'graphql-ws' | 'SSE';

interface Connection {
  readonly stream: ResultStream<unknown>;
  /** Cursors of the items received, in order. */
  cursors(): string[];
  /** Loses the connection abruptly, as a network failure would. */
  drop(): void;
}

describe.each<[Feed, Transport]>([
  ['transitions', 'graphql-ws'],
  ['transitions', 'SSE'],
  ['events', 'graphql-ws'],
  ['events', 'SSE'],
])('a %s subscriber over %s that loses its connection', (feed, transport) => {
  let server: TestServer;
  const clients: WsClient[] = [];

  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.dispose();
    await server.stop();
  });

  function open<R>(document: TypedDocumentNode<R, { after?: string | null }>, after: string, cursorOf: (data: R) => string): Connection {
    if (transport === 'SSE') {
      const stream = subscribeSse(server.url, document, { after });
      return { stream, cursors: () => stream.data.map(cursorOf), drop: () => stream.cancel() };
    }
    const client = wsClient(server.wsUrl);
    clients.push(client);
    const stream = subscribeWs(client, document, { after });
    return { stream, cursors: () => stream.data.map(cursorOf), drop: () => client.socket().terminate() };
  }

  const connect = (after: string): Connection =>
    feed === 'transitions' ? open(TRANSITIONS_AFTER, after, (d) => d.transitions.cursor) : open(EVENTS_AFTER, after, (d) => d.events.cursor);

  const kept = (afterSeq: number) => {
    const read = feed === 'transitions' ? server.app.table.transitionsAfter(afterSeq) : server.app.table.eventsAfter(afterSeq);
    if (!read.ok) throw new Error('history evicted');
    return read.items.map((item) => item.seq);
  };

  it('should resume from its last cursor with no gap and no duplicate while reports keep arriving', async () => {
    await arrange(server, { 'host-a': VM_IDS, 'host-b': [] });
    const { engine } = await server.data(ENGINE_CURSOR, {});
    const reporting = keepReporting(server, 'host-a', VM_IDS);
    try {
      const first = connect(engine.cursor);
      await first.stream.until((s) => s.data.length >= BEFORE_DROP);
      first.drop();
      await server.untilSubscribers(0);
      const received = first.cursors();
      const last = received.at(-1) as string;

      // Reports go on while it is away, and while it resubscribes.
      const away = server.app.table.latestSeq;
      await new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (server.app.table.latestSeq >= away + 20) resolve(clearInterval(check));
        }, 2);
      });
      const second = connect(last);
      await second.stream.until((s) => s.data.length >= AFTER_RESUME);
      await reporting.stop();
      const head = kept(seqOf(last)).at(-1) as number;
      await second.stream.until(() => second.cursors().some((c) => seqOf(c) === head));

      const all = [...received, ...second.cursors()].map(seqOf);
      expect(all).toEqual(kept(seqOf(engine.cursor)));
      expect(new Set(all).size).toBe(all.length);
      expect(second.stream.errors).toEqual([]);
    } finally {
      await reporting.stop();
    }
  });
});
