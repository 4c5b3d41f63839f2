import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, completeMigration, migrate } from '../utils/api.js';
import { subscribeSse } from '../utils/sse.js';
import type { ResultStream } from '../utils/result-stream.js';
import { startServer, type TestServer } from '../utils/server.js';
import { subscribeWs, wsClient, type WsClient } from '../utils/ws.js';

const TRANSITIONS = graphql(`
  subscription FullMigrationTransitions($vmId: ID) {
    transitions(vmId: $vmId) {
      cursor
      cause
      vmId
      from { status hostId location }
      to { status hostId location }
      migration { id state vmStatus location sourceReport destinationReport progress attempt source { id } destination { id } }
    }
  }
`);

const EVENTS = graphql(`
  subscription FullMigrationEvents($vmId: ID) {
    events(vmId: $vmId) { cursor type severity message vmId migrationId }
  }
`);

type Transport = 'graphql-ws' | 'SSE';

describe.each<Transport>(['graphql-ws', 'SSE'])('a monitor subscribed over %s', (transport) => {
  let server: TestServer;
  let ws: WsClient | null = null;
  const streams: { cancel?: () => void }[] = [];

  beforeEach(async () => {
    server = await startServer();
  });
  afterEach(async () => {
    for (const s of streams.splice(0)) s.cancel?.();
    await ws?.dispose();
    await server.stop();
  });

  function subscribe<R, V>(document: Parameters<typeof subscribeSse<R, V>>[1], variables: V): ResultStream<R> {
    if (transport === 'SSE') {
      const stream = subscribeSse(server.url, document, variables);
      streams.push(stream);
      return stream;
    }
    ws ??= wsClient(server.wsUrl);
    return subscribeWs(ws, document, variables);
  }

  it('should receive a full migration, from the migrate command to its success', async () => {
    await arrange(server, { 'host-a': ['vm-1', 'vm-2'], 'host-b': [] });
    const transitions = subscribe(TRANSITIONS, { vmId: 'vm-1' });
    const events = subscribe(EVENTS, { vmId: 'vm-1' });
    await server.untilSubscribers(2);

    const migrationId = await migrate(server, 'vm-1', 'host-b');
    await completeMigration(server, 'vm-1', 'host-a', 'host-b');
    await transitions.until((s) => s.data.some((d) => d.transitions.migration?.state === 'SUCCEEDED'));
    await events.until((s) => s.data.some((d) => d.events.type === 'MIGRATION_SUCCEEDED'));

    const seen = transitions.data.map((d) => d.transitions);
    expect(seen.every((t) => t.vmId === 'vm-1' && t.migration?.id === migrationId)).toBe(true);
    expect(seen.map((t) => [t.cause, t.migration?.sourceReport, t.migration?.destinationReport, t.migration?.state])).toEqual([
      ['MIGRATE_COMMAND', null, null, 'IN_PROGRESS'],
      ['HOST_REPORT', 'MIGRATING_FROM', null, 'IN_PROGRESS'],
      ['HOST_REPORT', 'MIGRATING_FROM', 'MIGRATING_TO', 'IN_PROGRESS'],
      ['HOST_REPORT', 'MIGRATING_FROM', 'MIGRATING_TO', 'IN_PROGRESS'],
      ['HOST_REPORT', 'DOWN', 'MIGRATING_TO', 'IN_PROGRESS'],
      ['HOST_REPORT', 'DOWN', 'UP', 'SUCCEEDED'],
    ]);
    expect(seen[0]?.from).toEqual({ status: 'UP', hostId: 'host-a', location: null });
    expect(seen[0]?.to).toEqual({ status: 'MIGRATING_FROM', hostId: 'host-a', location: 'SOURCE' });
    expect(seen.map((t) => t.migration?.progress)).toEqual([null, 40, 40, 100, 100, 100]);
    const last = seen.at(-1);
    expect(last?.to).toEqual({ status: 'UP', hostId: 'host-b', location: null });
    expect(last?.migration).toMatchObject({ vmStatus: 'UP', location: 'DESTINATION', source: { id: 'host-a' }, destination: { id: 'host-b' } });
    expect(isIncreasing(seen.map((t) => t.cursor))).toBe(true);

    expect(events.data.map((d) => [d.events.type, d.events.severity, d.events.migrationId])).toEqual([
      ['MIGRATION_STARTED', 'INFO', migrationId],
      ['MIGRATION_SUCCEEDED', 'INFO', migrationId],
    ]);
    expect(events.errors).toEqual([]);
    expect(transitions.errors).toEqual([]);
  });
});

/** Cursors of one engine run compare by their sequence number. */
function isIncreasing(cursors: readonly string[]): boolean {
  const seqs = cursors.map((c) => Number(c.slice(c.lastIndexOf(':') + 1)));
  return seqs.every((seq, i) => i === 0 || seq > (seqs[i - 1] as number));
}
