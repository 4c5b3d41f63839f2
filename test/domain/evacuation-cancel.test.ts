/**
 * Cancelling an evacuation (docs/contract.md §9 `cancelEvacuation`, and `reportHostStatus(UP)`
 * which does the same), letting a host go after a failed one, and NOT_EVACUATING.
 */
import { describe, expect, it } from 'vitest';
import { Cause, ErrorCode, EvacuationState, EventType, HostStatus, MigrationState } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  entry,
  eventsOf,
  expectRefused,
  failAttempt,
  observe,
  OTHER,
  OTHER_CLUSTER,
  report,
  setupFleet,
  SOURCE,
  succeed,
  transitionsSince,
  unwrap,
  VM,
  VM_2,
  type TestTable,
} from '../utils/domain.js';
import { countsOf, evacuate, evacuationFleet, evacuationNow } from '../utils/evacuation.js';

/** An evacuation of SOURCE that FAILED: VM_2 moved, VM could go nowhere. */
function failedEvacuation(t: TestTable): string {
  const { id } = evacuate(t.table, SOURCE);
  succeed(t.table, VM_2);
  failAttempt(t.table, VM);
  failAttempt(t.table, VM);
  expect(evacuationNow(t.table, id).state).toBe(EvacuationState.FAILED);
  return id;
}

describe('cancelEvacuation', () => {
  it('should end the running evacuation CANCELLED and return the host to UP, letting migrations in flight go on', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    const inFlight = entry(table, VM);
    const before = table.latestSeq;
    const cancelled = unwrap(table.cancelEvacuation({ hostId: SOURCE }));

    expect(cancelled).toMatchObject({ id, state: EvacuationState.CANCELLED });
    expect(cancelled.endedAt).not.toBeNull();
    expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
    const hostChange = transitionsSince(table, before).find((t) => t.hostStatusTo !== null);
    expect(hostChange).toMatchObject({ cause: Cause.EVACUATION, hostStatusFrom: HostStatus.PREPARING_FOR_MAINTENANCE, hostStatusTo: HostStatus.UP });
    expect(entry(table, VM)).toMatchObject({ id: inFlight.id, state: MigrationState.IN_PROGRESS, cancelRequested: false });
    const [event] = eventsOf(table, EventType.EVACUATION_CANCELLED);
    expect(event?.hostId).toBe(SOURCE);
    // It no longer follows what it started: a migration that succeeds afterwards changes nothing of it.
    succeed(table, VM);
    expect(countsOf(evacuationNow(table, id))).toEqual({ state: EvacuationState.CANCELLED, total: 2, moved: 0, remaining: 2, failed: 0 });
    expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
  });

  it('should let the host of a FAILED evacuation go back to UP, the evacuation staying FAILED', () => {
    const t = evacuationFleet();
    const id = failedEvacuation(t);
    const released = unwrap(t.table.cancelEvacuation({ hostId: SOURCE }));
    expect(released).toMatchObject({ id, state: EvacuationState.FAILED });
    expect(t.table.host(SOURCE)?.status).toBe(HostStatus.UP);
    expect(eventsOf(t.table, EventType.EVACUATION_CANCELLED)).toEqual([]);
    // Once let go, there is nothing more to cancel.
    expectRefused(t.table.cancelEvacuation({ hostId: SOURCE }), ErrorCode.NOT_EVACUATING, 'hostId');
  });

  it.each([
    ['never evacuated', (_t: TestTable) => {}],
    ['whose evacuation completed', (t: TestTable) => void evacuate(t.table, OTHER)],
    ['whose evacuation was cancelled', (t: TestTable) => (evacuate(t.table, SOURCE), unwrap(t.table.cancelEvacuation({ hostId: SOURCE })))],
  ])('should refuse a host %s with NOT_EVACUATING, changing nothing', (_what, before) => {
    const t = evacuationFleet();
    before(t);
    const host = t.table.host(OTHER)?.status === HostStatus.MAINTENANCE ? OTHER : SOURCE;
    const seen = observe(t.table);
    expectRefused(t.table.cancelEvacuation({ hostId: host }), ErrorCode.NOT_EVACUATING, 'hostId');
    expect(observe(t.table)).toEqual(seen);
  });

  it('should leave a host that does not answer as it is, to come back UP (not preparing for maintenance) when it reports', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.NON_RESPONSIVE }));
    expect(unwrap(table.cancelEvacuation({ hostId: SOURCE })).state).toBe(EvacuationState.CANCELLED);
    expect(table.host(SOURCE)?.status).toBe(HostStatus.NON_RESPONSIVE);
    unwrap(report(table, SOURCE, [[VM, 'MIGRATING_FROM'], [VM_2, 'MIGRATING_FROM']]));
    expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
    expect(evacuationNow(table, id).state).toBe(EvacuationState.CANCELLED);
  });

  it('should refuse an unknown host with HOST_NOT_FOUND', () => {
    const { table } = evacuationFleet();
    expectRefused(table.cancelEvacuation({ hostId: 'host-nowhere' }), ErrorCode.HOST_NOT_FOUND, 'hostId');
  });
});

describe('reportHostStatus on a host being evacuated', () => {
  it('should cancel the evacuation on UP, as cancelEvacuation does', () => {
    const { table } = evacuationFleet();
    const { id } = evacuate(table, SOURCE);
    unwrap(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.UP }));
    expect(evacuationNow(table, id).state).toBe(EvacuationState.CANCELLED);
    expect(table.host(SOURCE)?.status).toBe(HostStatus.UP);
    expect(eventsOf(table, EventType.EVACUATION_CANCELLED)).toHaveLength(1);
  });

  it('should refuse MAINTENANCE while it runs: the host goes into maintenance when it runs no VM', () => {
    const { table } = evacuationFleet();
    evacuate(table, SOURCE);
    expectRefused(table.reportHostStatus({ hostId: SOURCE, status: HostStatus.MAINTENANCE }), ErrorCode.INVALID_INPUT, 'status');
    expect(table.host(SOURCE)?.status).toBe(HostStatus.PREPARING_FOR_MAINTENANCE);
  });

  it.each([HostStatus.UP, HostStatus.MAINTENANCE])('should let the host of a FAILED evacuation go to %s, the evacuation staying FAILED', (status) => {
    const t = evacuationFleet();
    const id = failedEvacuation(t);
    unwrap(t.table.reportHostStatus({ hostId: SOURCE, status }));
    expect(t.table.host(SOURCE)?.status).toBe(status);
    expect(evacuationNow(t.table, id).state).toBe(EvacuationState.FAILED);
    expectRefused(t.table.cancelEvacuation({ hostId: SOURCE }), ErrorCode.NOT_EVACUATING);
  });
});

describe('evacuating again', () => {
  it('should start a new evacuation of a host whose evacuation FAILED, trying its blockers again', () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [VM], [DESTINATION]: [] }, clusters: { [DESTINATION]: OTHER_CLUSTER } });
    const first = evacuate(table, SOURCE);
    expect(first.state).toBe(EvacuationState.FAILED);
    unwrap(table.registerHost({ hostId: OTHER })); // a host of the cluster comes up
    const second = evacuate(table, SOURCE);
    expect(second.id).not.toBe(first.id);
    expect(second.state).toBe(EvacuationState.IN_PROGRESS);
    expect(entry(table, VM).destination.hostId).toBe(OTHER);
    // The first no longer holds the host: cancelling now cancels the second.
    expect(unwrap(table.cancelEvacuation({ hostId: SOURCE })).id).toBe(second.id);
    expect(table.evacuations({ hostId: SOURCE }).items.map((e) => [e.id, e.state])).toEqual([
      [second.id, EvacuationState.CANCELLED],
      [first.id, EvacuationState.FAILED],
    ]);
  });
});
