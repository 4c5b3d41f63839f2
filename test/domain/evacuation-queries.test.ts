/**
 * Reading evacuations (docs/contract.md §9): `evacuation(id)`, `evacuations(hostId, state, first,
 * after)` newest first, the history limit, and the counts monitoring reads.
 */
import { describe, expect, it } from 'vitest';
import { EvacuationState } from '../../src/domain/vocabulary.js';
import { createTable, DESTINATION, OTHER, setupFleet, SOURCE, SPARE, succeed, unwrap, VM, VM_2 } from '../utils/domain.js';
import { evacuate } from '../utils/evacuation.js';

const HISTORY = 3;

describe('evacuation queries', () => {
  it('should list evacuations newest first, by host and state, a page at a time', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [VM_2], [SPARE]: [] } });
    const a = evacuate(table, SPARE); // completes at once
    const b = evacuate(table, SOURCE);
    const c = evacuate(table, OTHER);
    unwrap(table.cancelEvacuation({ hostId: OTHER }));
    expect(table.evacuations({}).items.map((e) => e.id)).toEqual([c.id, b.id, a.id]);
    expect(table.evacuations({ hostId: SOURCE }).items.map((e) => e.id)).toEqual([b.id]);
    expect(table.evacuations({ state: EvacuationState.IN_PROGRESS }).items.map((e) => e.id)).toEqual([b.id]);
    expect(table.evacuations({ state: EvacuationState.CANCELLED, hostId: OTHER }).items.map((e) => e.id)).toEqual([c.id]);
    expect(table.evacuations({ state: EvacuationState.FAILED }).items).toEqual([]);

    const first = table.evacuations({}, 0, 2);
    expect(first).toMatchObject({ hasNextPage: true });
    expect(first.items.map((e) => e.id)).toEqual([c.id, b.id]);
    const second = table.evacuations({}, first.items[1]?.ordinal, 2);
    expect(second).toMatchObject({ hasNextPage: false });
    expect(second.items.map((e) => e.id)).toEqual([a.id]);
  });

  it('should find an evacuation by id, and none for an id it never gave', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] } });
    const { id } = evacuate(table, SOURCE);
    expect(table.evacuation(id)?.hostId).toBe(SOURCE);
    expect(table.evacuation('nope')).toBeUndefined();
  });

  it('should keep ended evacuations up to the history limit, oldest forgotten first, never a running one', () => {
    const { table } = createTable({ historyLimit: HISTORY });
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [], [SPARE]: [] } });
    const running = evacuate(table, SOURCE);
    const ended = [OTHER, SPARE, OTHER, SPARE].map((host) => {
      const e = evacuate(table, host);
      unwrap(table.reportHostStatus({ hostId: host, status: 'UP' }));
      return e.id;
    });
    expect(table.evacuations({}).items.map((e) => e.id)).toEqual([ended[3], ended[2], running.id]);
    expect(table.evacuation(ended[0] as string)).toBeUndefined();
    expect(table.checkConsistency()).toEqual([]);
    succeed(table, VM);
    expect(table.evacuation(running.id)?.state).toBe(EvacuationState.COMPLETED);
  });

  it('should count evacuations by state for monitoring', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [], [OTHER]: [] } });
    evacuate(table, OTHER);
    evacuate(table, SOURCE);
    const counts = table.stats().evacuationsByState;
    expect(counts.get(EvacuationState.IN_PROGRESS)).toBe(1);
    expect(counts.get(EvacuationState.COMPLETED)).toBe(1);
    expect(counts.get(EvacuationState.FAILED) ?? 0).toBe(0);
  });
});
