/**
 * The dashboard's state (src/dashboard/store.ts), driven directly: progress bars never run
 * backwards within an attempt, slot use follows the migrations in flight, decided migrations
 * leave the live lists, and the kept lists stay bounded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MigrationRow, StateResult, TransitionRow } from '../../src/dashboard/model.js';
import { DashboardStore, DECIDED_KEPT, EVENTS_KEPT } from '../../src/dashboard/store.js';

const EPOCH = 'e1';
let seq = 0;
const cursor = () => `${EPOCH}:${++seq}`;

const migration = (over: Partial<MigrationRow> = {}): MigrationRow => ({
  id: 'm1',
  vmId: 'vm-1',
  sourceHostId: 'host-a',
  destinationHostId: 'host-b',
  sourceReport: 'MIGRATING_FROM',
  destinationReport: 'MIGRATING_TO',
  state: 'IN_PROGRESS',
  vmStatus: 'MIGRATING_FROM',
  progress: null,
  stalled: false,
  stalledReason: null,
  cancelRequested: false,
  attempt: 1,
  startedAt: '2030-01-01T00:00:00.000Z',
  endedAt: null,
  reason: null,
  ...over,
});

const transition = (m: MigrationRow | null, over: Partial<TransitionRow> = {}): TransitionRow => ({
  cursor: cursor(),
  cause: 'HOST_REPORT',
  vmId: m?.vmId ?? null,
  hostId: m?.sourceHostId ?? null,
  hostStatusTo: null,
  migration: m,
  ...over,
});

const loaded = (): DashboardStore => {
  const store = new DashboardStore();
  const state: StateResult = {
    engine: { epoch: EPOCH, cursor: `${EPOCH}:0`, version: '0', startedAt: '2030-01-01T00:00:00.000Z' },
    hosts: ['host-a', 'host-b', 'host-c'].map((id) => ({ id, cluster: 'c1', status: 'UP' })),
    inFlight: { edges: [], pageInfo: { hasNextPage: false } },
  };
  store.load(state);
  return store;
};

describe('the dashboard store', () => {
  it('should never show a lower progress than it showed in the same attempt, whatever the reports say', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }), { minLength: 1, maxLength: 40 }), (reports) => {
        const store = loaded();
        let shown = 0;
        for (const progress of reports) {
          store.applyTransition(transition(migration({ progress })));
          const now = store.inFlight.get('m1')?.progress ?? 0;
          expect(now).toBeGreaterThanOrEqual(shown);
          shown = now;
        }
        expect(shown).toBe(Math.max(0, ...reports.map((p) => p ?? 0)));
      }),
    );
  });

  it('should start the bar again for a new attempt (a rerun), and keep it monotonic there', () => {
    const store = loaded();
    store.applyTransition(transition(migration({ progress: 80 })));
    store.applyTransition(transition(migration({ attempt: 2, destinationHostId: 'host-c', progress: null })));
    expect(store.inFlight.get('m1')?.progress).toBeNull();
    store.applyTransition(transition(migration({ attempt: 2, destinationHostId: 'host-c', progress: 30 })));
    store.applyTransition(transition(migration({ attempt: 2, destinationHostId: 'host-c', progress: 10 })));
    expect(store.inFlight.get('m1')?.progress).toBe(30);
  });

  it('should count outgoing and incoming slots from the migrations in flight, and free them when decided', () => {
    const store = loaded();
    store.applyTransition(transition(migration({ id: 'm1', vmId: 'vm-1' })));
    store.applyTransition(transition(migration({ id: 'm2', vmId: 'vm-2', destinationHostId: 'host-c' })));
    store.applyTransition(transition(migration({ id: 'm3', vmId: 'vm-3', sourceHostId: 'host-b', destinationHostId: 'host-c' })));
    expect(Object.fromEntries(store.slotUse())).toEqual({
      'host-a': { outgoing: 2, incoming: 0 },
      'host-b': { outgoing: 1, incoming: 1 },
      'host-c': { outgoing: 0, incoming: 2 },
    });
    store.applyTransition(transition(migration({ id: 'm2', vmId: 'vm-2', destinationHostId: 'host-c', state: 'SUCCEEDED', endedAt: '2030-01-01T00:00:05.000Z' })));
    expect(store.slotUse().get('host-c')).toEqual({ outgoing: 0, incoming: 1 });
    expect(store.decided.map((m) => [m.id, m.state, m.progress])).toEqual([['m2', 'SUCCEEDED', 100]]);
  });

  it('should keep queued (PENDING) migrations apart from those in flight, and move them when they start', () => {
    const store = loaded();
    store.applyTransition(transition(migration({ state: 'PENDING', destinationHostId: null, waitingReason: 'host-a has 2 of 2 outgoing migrations' })));
    expect([store.queue.size, store.inFlight.size]).toEqual([1, 0]);
    expect(store.slotUse().size).toBe(0);
    store.applyTransition(transition(migration()));
    expect([store.queue.size, store.inFlight.size]).toEqual([0, 1]);
  });

  it('should follow host status changes and say when a host is new to it', () => {
    const store = loaded();
    expect(store.applyTransition(transition(null, { hostId: 'host-a', hostStatusTo: 'NON_RESPONSIVE', cause: 'HOST_UNRESPONSIVE' }))).toBe(false);
    expect(store.hosts.get('host-a')?.status).toBe('NON_RESPONSIVE');
    expect(store.applyTransition(transition(null, { hostId: 'host-new', hostStatusTo: 'UP', cause: 'HOST_REGISTERED' }))).toBe(true);
  });

  it('should keep only the newest decided migrations and events', () => {
    const store = loaded();
    for (let i = 0; i < DECIDED_KEPT + 10; i++) store.applyTransition(transition(migration({ id: `m${i}`, vmId: `vm-${i}`, state: 'FAILED' })));
    for (let i = 0; i < EVENTS_KEPT + 10; i++) {
      store.applyEvent({ cursor: cursor(), at: '2030-01-01T00:00:00.000Z', type: 'MIGRATION_FAILED', severity: 'ERROR', message: `e${i}`, vmId: null, hostId: null, migrationId: null });
    }
    expect(store.decided).toHaveLength(DECIDED_KEPT);
    expect(store.decided[0]?.id).toBe(`m${DECIDED_KEPT + 9}`);
    expect(store.events).toHaveLength(EVENTS_KEPT);
    expect(store.events[0]?.message).toBe(`e${EVENTS_KEPT + 9}`);
  });
});
