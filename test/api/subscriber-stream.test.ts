/**
 * The subscription streams over the table, without a transport: each pull and each change is
 * placed exactly, to show the guarantees hold at every interleaving a network could produce.
 */
import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Transition } from '../../src/domain/model.js';
import { MigrationTable } from '../../src/domain/table/table.js';
import { TableFeeds } from '../../src/server/subscriptions/feeds.js';

const HISTORY_LIMIT = 30;
const BUFFER_ITEMS = 5;
const PAGE_ITEMS = 2;

function setup(bufferItems = BUFFER_ITEMS) {
  let now = Date.UTC(2030, 0, 1);
  const table = new MigrationTable({ epoch: 'e1', clock: () => now++, hostTimeoutMs: 60_000, migrationStartTimeoutMs: 30_000, maxAttempts: 3, historyLimit: HISTORY_LIMIT });
  table.registerHost({ hostId: 'host-a' });
  const feeds = new TableFeeds(table, { bufferItems, pageItems: PAGE_ITEMS });
  let toggles = 0;
  /** One report that changes one VM: one transition. */
  const change = () => {
    const result = table.reportVmStatuses({ hostId: 'host-a', vms: [{ vmId: `vm-${toggles % 3}`, status: Math.floor(toggles / 3) % 2 === 0 ? 'UP' : 'DOWN' }] });
    toggles++;
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
  };
  const seqs = (afterSeq: number) => {
    const kept = table.transitionsAfter(afterSeq);
    if (!kept.ok) throw new Error('evicted');
    return kept.items.map((t) => t.seq);
  };
  return { table, feeds, change, seqs };
}

async function pull(stream: AsyncIterator<Transition | GraphQLError>): Promise<Transition> {
  const { value, done } = await stream.next();
  if (done || value instanceof GraphQLError) throw new Error(`expected an item, got ${done ? 'the end' : (value as GraphQLError).message}`);
  return value as Transition;
}

describe('a transitions stream', () => {
  it('should replay the history after its cursor, then live items, with no gap and no duplicate whenever changes come', async () => {
    const { table, feeds, change, seqs } = setup();
    change();
    const cursor = table.cursor;
    const from = table.latestSeq;
    for (let i = 0; i < 5; i++) change(); // history to replay
    const stream = feeds.transitions({ after: cursor });
    const got: number[] = [];
    for (let step = 0; step < 8; step++) {
      // Changes land before, during and after the replay, between any two pulls.
      if (step % 3 === 0) change();
      got.push((await pull(stream)).seq);
    }
    const last = seqs(from).at(-1);
    while (got.at(-1) !== last) got.push((await pull(stream)).seq);
    expect(got).toEqual(seqs(from));
    await stream.return?.();
    expect(feeds.subscriberCount).toBe(0);
  });

  it('should end with RESYNC_REQUIRED when the history it replays is evicted meanwhile', async () => {
    const { table, feeds, change } = setup(HISTORY_LIMIT * 2); // room for every live item: only the history runs out
    change();
    const cursor = table.cursor;
    for (let i = 0; i < 5; i++) change();
    const stream = feeds.transitions({ after: cursor });
    await pull(stream);
    for (let i = 0; i < HISTORY_LIMIT; i++) change(); // the next page to replay is gone
    await pull(stream); // the rest of the page already read
    const { value } = await stream.next();
    expect((value as GraphQLError).extensions.code).toBe('RESYNC_REQUIRED');
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(feeds.subscriberCount).toBe(0);
  });

  it('should hold at most its buffer of live items, then end with SUBSCRIBER_TOO_SLOW and stop listening', async () => {
    const { feeds, change } = setup();
    const stream = feeds.transitions({});
    for (let i = 0; i < BUFFER_ITEMS; i++) change();
    expect(feeds.subscriberCount).toBe(1);
    change(); // one more than it may hold
    expect(feeds.subscriberCount).toBe(0);
    const { value } = await stream.next();
    expect((value as GraphQLError).extensions.code).toBe('SUBSCRIBER_TOO_SLOW');
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('should wait for the next change when it has delivered everything', async () => {
    const { feeds, change } = setup();
    const stream = feeds.transitions({});
    const next = pull(stream);
    change();
    expect((await next).cause).toBe('HOST_REPORT');
  });

  it('should let go of the table when its client goes away', async () => {
    const { feeds } = setup();
    const stream = feeds.transitions({ vmId: 'vm-1' });
    const pending = stream.next();
    expect(feeds.subscriberCount).toBe(1);
    await stream.return?.();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(feeds.subscriberCount).toBe(0);
  });
});

describe('the streams a change reaches', () => {
  /** What a stream has waiting: the seqs of the transitions pushed to it (never pulled here). */
  const waiting = (stream: unknown) => (stream as { waiting: number }).waiting;

  it('should hand a transition to every stream whose filter it matches, once each, and to no other', () => {
    let now = Date.UTC(2030, 0, 1);
    const table = new MigrationTable({ epoch: 'e1', clock: () => now++, hostTimeoutMs: 60_000, migrationStartTimeoutMs: 30_000, maxAttempts: 3, historyLimit: 100 });
    const feeds = new TableFeeds(table, { bufferItems: 100 });
    for (const hostId of ['host-a', 'host-b']) table.registerHost({ hostId });
    const streams = {
      all: feeds.transitions({}),
      vm1: feeds.transitions({ vmId: 'vm-1' }),
      vm2: feeds.transitions({ vmId: 'vm-2' }),
      hostA: feeds.transitions({ hostId: 'host-a' }),
      hostB: feeds.transitions({ hostId: 'host-b' }),
      vm1OnA: feeds.transitions({ vmId: 'vm-1', hostId: 'host-a' }),
      vm1OnB: feeds.transitions({ vmId: 'vm-1', hostId: 'host-b' }),
    };
    const before = table.latestSeq;
    const result = table.reportVmStatuses({ hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'UP' }] });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const made = table.transitionsAfter(before);
    if (!made.ok) throw new Error('evicted');
    const one = made.items.filter((t) => t.vmId === 'vm-1').length;
    expect(one).toBe(1);
    expect(Object.fromEntries(Object.entries(streams).map(([name, stream]) => [name, waiting(stream)]))).toEqual({
      all: made.items.length,
      vm1: 1,
      vm2: 0,
      hostA: made.items.filter((t) => t.hostIds.includes('host-a')).length,
      hostB: made.items.filter((t) => t.hostIds.includes('host-b')).length,
      vm1OnA: 1,
      vm1OnB: 0,
    });
  });

  it("should hand a host agent's orders to that host's streams only", () => {
    let now = Date.UTC(2030, 0, 1);
    const table = new MigrationTable({ epoch: 'e1', clock: () => now++, hostTimeoutMs: 60_000, migrationStartTimeoutMs: 30_000, maxAttempts: 3, historyLimit: 100 });
    const feeds = new TableFeeds(table, { bufferItems: 100 });
    table.reportVmStatuses({ hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'UP' }], full: true });
    const agents = Array.from({ length: 50 }, (_, i) => `host-${i}`);
    for (const hostId of ['host-b', ...agents]) table.registerHost({ hostId });
    const others = agents.map((hostId) => feeds.hostCommands(hostId));
    const mine = [feeds.hostCommands('host-a'), feeds.hostCommands('host-a')];
    const migrated = table.migrateVm({ vmId: 'vm-1', destinationHostId: 'host-b' });
    if (!migrated.ok) throw new Error(JSON.stringify(migrated.errors));
    expect(mine.map(waiting)).toEqual([1, 1]);
    expect(others.map(waiting).reduce((a, b) => a + b, 0)).toBe(0);
    for (const stream of [...mine, ...others]) void stream.return?.();
    expect(feeds.subscriberCount).toBe(0);
  });
});
