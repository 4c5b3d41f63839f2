import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, migrate, report, seqOf } from '../utils/api.js';
import { startServer, type TestServer } from '../utils/server.js';
import { subscribeSse } from '../utils/sse.js';
import { subscribeWs, wsClient, type WsClient } from '../utils/ws.js';

/** Heavy items: each transition of a migration carries its source host's 1 500 VMs (~50 kB). */
const HEAVY_TRANSITIONS = graphql(`
  subscription SlowHeavyTransitions($after: String) {
    transitions(after: $after) {
      cursor
      migration { id progress source { id vms { id status } } }
    }
  }
`);

const TRANSITIONS = graphql(`
  subscription SlowResumedTransitions($after: String) {
    transitions(after: $after) { cursor }
  }
`);

const ENGINE = graphql(`
  query SlowEngine {
    engine { cursor }
  }
`);

/** Live items a subscriber may have waiting; each report below makes fewer, so a reading client never overflows. */
const BUFFER_ITEMS = 20;
const MIGRATING = Array.from({ length: 10 }, (_, i) => `vm-${String(i).padStart(4, '0')}`);
const RESIDENTS = Array.from({ length: 1_500 }, (_, i) => `vm-${String(i).padStart(4, '0')}`);
/** Reports enough to fill the sockets' buffers (tens of MB) many times over. */
const MAX_REPORTS = 100;

type Transport = 'graphql-ws' | 'SSE';

describe.each<Transport>(['graphql-ws', 'SSE'])('a subscriber over %s that stops reading', (transport) => {
  let server: TestServer;
  let ws: WsClient | null = null;

  beforeEach(async () => {
    // Ten migrations in flight from one host at once: the migration limits (docs/contract.md §8) are off here.
    server = await startServer({ subscriberBufferItems: BUFFER_ITEMS, maxOutgoingMigrationsPerHost: 0, maxIncomingMigrationsPerHost: 0, maxMigrationsPerCluster: 0 });
    await arrange(server, { 'host-a': RESIDENTS, 'host-b': [] });
    for (const vmId of MIGRATING) await migrate(server, vmId, 'host-b');
  });
  afterEach(async () => {
    await ws?.dispose();
    ws = null;
    await server.stop();
  });

  function subscribe(after: string) {
    if (transport === 'SSE') {
      const stream = subscribeSse(server.url, HEAVY_TRANSITIONS, { after });
      return { stream, pause: () => stream.pause(), resume: () => stream.resume() };
    }
    ws = wsClient(server.wsUrl);
    const stream = subscribeWs(ws, HEAVY_TRANSITIONS, { after });
    const socket = () => (ws as WsClient).socket();
    return { stream, pause: () => socket().pause(), resume: () => socket().resume() };
  }

  it('should be ended with SUBSCRIBER_TOO_SLOW, holding no more than its buffer, and resume from its last cursor with nothing lost', async () => {
    const { engine } = await server.data(ENGINE, {});
    const slow = subscribe(engine.cursor);
    await server.untilSubscribers(1);
    const progressReport = (progress: number) => report(server, 'host-a', MIGRATING.map((vmId) => ({ vmId, status: 'MIGRATING_FROM' as const, progress })));
    await progressReport(1);
    await slow.stream.until((s) => s.data.length === MIGRATING.length);
    slow.pause();

    // The source keeps reporting progress. The paused client's socket fills, the transport stops
    // pulling, the subscriber's buffer fills, and the server ends it instead of holding more.
    let reports = 0;
    for (let progress = 2; server.app.subscriberCount() > 0; progress++) {
      if (++reports > MAX_REPORTS) throw new Error(`still subscribed after ${MAX_REPORTS} reports`);
      await progressReport(progress);
    }
    // The table's position when the report that ended it was applied.
    const { engine: atEnd } = await server.data(ENGINE, {});
    // Ended: later changes are no longer queued for it.
    await progressReport(100);
    expect(server.app.subscriberCount()).toBe(0);

    slow.resume();
    expect(await slow.stream.ended()).toEqual({ kind: 'complete' });
    expect(slow.stream.errorCodes).toEqual(['SUBSCRIBER_TOO_SLOW']);
    const received = slow.stream.data.map((d) => d.transitions.cursor);
    const last = received.at(-1) as string;

    // It resumes from its last cursor and gets everything it missed.
    const client = wsClient(server.wsUrl);
    try {
      const resumed = subscribeWs(client, TRANSITIONS, { after: last });
      const kept = server.app.table.transitionsAfter(seqOf(engine.cursor));
      if (!kept.ok) throw new Error('history evicted');
      const expected = kept.items.map((t) => t.seq);
      await resumed.until((s) => s.data.some((d) => seqOf(d.transitions.cursor) === expected.at(-1)));
      const missed = resumed.data.map((d) => seqOf(d.transitions.cursor));
      const all = [...received.map(seqOf), ...missed];
      expect(all).toEqual(expected);
      expect(resumed.errors).toEqual([]);

      // What it held, measured: everything the transport took from its stream reached it (the
      // sockets' buffers drain once it reads again), so what it missed up to the ending report is
      // what the server held for it and dropped when it ended it: its buffer, full (BUFFER_ITEMS),
      // plus the item that overflowed it and the rest of that report, fewer than MIGRATING.length.
      const dropped = missed.filter((seq) => seq <= seqOf(atEnd.cursor)).length;
      expect(dropped).toBeGreaterThan(BUFFER_ITEMS);
      expect(dropped).toBeLessThanOrEqual(BUFFER_ITEMS + MIGRATING.length);
    } finally {
      await client.dispose();
    }
  });

  it('should not be ended while it keeps reading, under the same load', async () => {
    const { engine } = await server.data(ENGINE, {});
    const reader = subscribe(engine.cursor);
    await server.untilSubscribers(1);
    const reports = 30;
    for (let progress = 1; progress <= reports; progress++) {
      await report(server, 'host-a', MIGRATING.map((vmId) => ({ vmId, status: 'MIGRATING_FROM' as const, progress })));
      await reader.stream.until((s) => s.data.length === progress * MIGRATING.length);
    }
    expect(server.app.subscriberCount()).toBe(1);
    expect(reader.stream.errors).toEqual([]);
  });
});
