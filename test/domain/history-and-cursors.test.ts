/**
 * Bounded history and cursors (docs/contract.md §5 "resume", docs/decisions.md "History"): what is kept,
 * and how a reader learns that what it has not seen is gone instead of silently missing it.
 */
import { describe, expect, it } from 'vitest';
import type { Transition } from '../../src/domain/model.js';
import { MigrationState } from '../../src/domain/vocabulary.js';
import { createTable, DESTINATION, EPOCH, setupFleet, SOURCE, startMigration, succeed } from '../utils/domain.js';

const SMALL_HISTORY = 5;
const MIGRATIONS = SMALL_HISTORY + 1;

/** Migrates MIGRATIONS VMs to success one after the other, with a small history. */
function longHistory() {
  const t = createTable({ historyLimit: SMALL_HISTORY });
  const vms = Array.from({ length: MIGRATIONS }, (_, i) => `vm-${i}`);
  setupFleet(t.table, { hosts: { [SOURCE]: vms, [DESTINATION]: [] } });
  const transitions: Transition[] = [];
  t.table.subscribe((c) => transitions.push(...c.transitions));
  for (const vm of vms) {
    startMigration(t.table, vm, DESTINATION);
    succeed(t.table, vm);
  }
  return { ...t, transitions };
}

describe('bounded history', () => {
  it('should keep at most historyLimit transitions, the newest', () => {
    const { table, transitions } = longHistory();
    const lastEvicted = transitions.at(-SMALL_HISTORY - 1) as Transition;
    const kept = table.transitionsAfter(lastEvicted.seq);
    expect(kept).toEqual({ ok: true, items: transitions.slice(-SMALL_HISTORY) });
  });

  it('should answer EVICTED for a cursor older than the kept history, never a silent gap', () => {
    const { table, transitions } = longHistory();
    const lastEvicted = transitions.at(-SMALL_HISTORY - 1) as Transition;
    expect(table.transitionsAfter(lastEvicted.seq - 1)).toEqual({ ok: false, reason: 'EVICTED' });
    expect(table.transitionsAfter(0)).toEqual({ ok: false, reason: 'EVICTED' });
    expect(table.eventsAfter(0)).toEqual({ ok: false, reason: 'EVICTED' });
  });

  it('should read the kept history a page at a time', () => {
    const { table, transitions } = longHistory();
    const kept = transitions.slice(-SMALL_HISTORY);
    const after = (kept[0] as Transition).seq - 1;
    expect(table.transitionsAfter(after, 2)).toEqual({ ok: true, items: kept.slice(0, 2) });
    expect(table.transitionsAfter((kept[1] as Transition).seq, 2)).toEqual({ ok: true, items: kept.slice(2, 4) });
    expect(table.eventsKeptAfter(0)).toBe(false);
    expect(table.eventsKeptAfter(table.latestSeq)).toBe(true);
  });

  it('should answer an empty list, not EVICTED, for the latest cursor', () => {
    const { table } = longHistory();
    expect(table.transitionsAfter(table.latestSeq)).toEqual({ ok: true, items: [] });
    expect(table.eventsAfter(table.latestSeq)).toEqual({ ok: true, items: [] });
  });

  it('should keep at most historyLimit decided migrations', () => {
    const { table } = longHistory();
    const decided = table.migrations({ state: MigrationState.SUCCEEDED }, 0, 100).items;
    expect(decided).toHaveLength(SMALL_HISTORY);
    expect(table.migrations({}, 0, 100).items).toHaveLength(SMALL_HISTORY);
    expect(table.checkConsistency()).toEqual([]);
  });

  it('should evict the oldest decided migrations first', () => {
    const limit = 2;
    const vms = ['vm-0', 'vm-1', 'vm-2'];
    const { table } = createTable({ historyLimit: limit });
    setupFleet(table, { hosts: { [SOURCE]: vms, [DESTINATION]: [] } });
    for (const vm of vms) {
      startMigration(table, vm, DESTINATION);
      succeed(table, vm);
    }
    expect(table.migrations({}, 0, 100).items.map((m) => m.vmId)).toEqual(vms.slice(-limit));
  });
});

describe('cursors', () => {
  it('should resolve a cursor of this run to its sequence', () => {
    const { table } = longHistory();
    expect(table.resolveCursor(table.cursor)).toEqual({ ok: true, seq: table.latestSeq });
    expect(table.resolveCursor(`${EPOCH}:0`)).toEqual({ ok: true, seq: 0 });
  });

  it.each(['', 'garbage', `${EPOCH}:`, `${EPOCH}:-1`, `${EPOCH}:01`, `${EPOCH}:1.5`, ':7'])('should call %j MALFORMED', (cursor) => {
    const { table } = createTable();
    expect(table.resolveCursor(cursor)).toEqual({ ok: false, reason: 'MALFORMED' });
  });

  it('should call a cursor of another engine run OTHER_EPOCH', () => {
    const { table } = createTable();
    expect(table.resolveCursor('an-earlier-run:0')).toEqual({ ok: false, reason: 'OTHER_EPOCH' });
  });

  it('should call a cursor beyond the latest sequence FUTURE', () => {
    const { table } = longHistory();
    expect(table.resolveCursor(`${EPOCH}:${table.latestSeq + 1}`)).toEqual({ ok: false, reason: 'FUTURE' });
  });
});

describe('page cursors', () => {
  it('should read a page cursor up to the last ordinal handed out, and call one beyond it FUTURE', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: ['vm-1', 'vm-2'], [DESTINATION]: [] } });
    startMigration(table, 'vm-1');
    expect(table.resolvePageCursor('vms', `${EPOCH}:2`)).toEqual({ ok: true, ordinal: 2 });
    expect(table.resolvePageCursor('vms', `${EPOCH}:3`)).toEqual({ ok: false, reason: 'FUTURE' });
    expect(table.resolvePageCursor('migrations', `${EPOCH}:1`)).toEqual({ ok: true, ordinal: 1 });
    expect(table.resolvePageCursor('migrations', `${EPOCH}:2`)).toEqual({ ok: false, reason: 'FUTURE' });
  });

  it('should call a page cursor of another engine run OTHER_EPOCH and text that is none MALFORMED', () => {
    const { table } = createTable();
    expect(table.resolvePageCursor('vms', 'an-earlier-run:0')).toEqual({ ok: false, reason: 'OTHER_EPOCH' });
    expect(table.resolvePageCursor('migrations', 'garbage')).toEqual({ ok: false, reason: 'MALFORMED' });
  });
});
