/**
 * Who did what (docs/contract.md §10): every transition and event carries the actor of the command
 * that caused it, the scheduler's, a rerun's and a fence's doings included; the clock's are the
 * engine's.
 */
import { describe, expect, it } from 'vitest';
import { Cause, ENGINE_ACTOR, FenceMethod, HostStatus, MigrationState, OPEN_ACTOR } from '../../src/domain/vocabulary.js';
import {
  createTable,
  DESTINATION,
  eventsSince,
  MIGRATION_START_TIMEOUT_MS,
  OTHER,
  report,
  setupFleet,
  SOURCE,
  transitionsSince,
  unwrap,
  UP,
  DOWN,
  MIGRATING_FROM,
} from '../utils/domain.js';

const OPERATOR = 'ops-alice';
const AGENT = 'agent-host-a';
const FENCER = 'fencer-1';
const [V1, V2, V3] = ['vm-a1', 'vm-a2', 'vm-a3'] as const;

const actorsSince = (table: Parameters<typeof transitionsSince>[0], seq: number) => [
  ...new Set([...transitionsSince(table, seq).map((t) => t.actor), ...eventsSince(table, seq).map((e) => e.actor)]),
];

describe('actor', () => {
  it("should carry the sender's name on everything a command causes, the scheduler's starts included", () => {
    const { table } = createTable({ migrationStartTimeoutMs: 60_000 });
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [], [OTHER]: [] } });
    let seq = table.latestSeq;
    unwrap(table.migrateVm({ vmId: V1 }, OPERATOR));
    unwrap(table.migrateVm({ vmId: V2 }, OPERATOR));
    const pending = unwrap(table.migrateVm({ vmId: V3 }, OPERATOR));
    expect(pending.state).toBe(MigrationState.PENDING);
    expect(actorsSince(table, seq)).toEqual([OPERATOR]);

    // The agent's report ends V1's attempt: the rerun and the queue start it frees are the agent's doing.
    seq = table.latestSeq;
    const destination = table.entryOf(V1)?.destination.hostId as string;
    unwrap(table.reportVmStatuses({ hostId: SOURCE, vms: [{ vmId: V1, status: MIGRATING_FROM }] }, AGENT));
    unwrap(table.reportVmStatuses({ hostId: SOURCE, vms: [{ vmId: V1, status: UP }] }, AGENT));
    unwrap(table.reportVmStatuses({ hostId: destination, vms: [{ vmId: V1, status: DOWN }] }, AGENT));
    const causes = transitionsSince(table, seq).map((t) => t.cause);
    expect(causes).toContain(Cause.RERUN);
    expect(actorsSince(table, seq)).toEqual([AGENT]);
  });

  it('should be `open` for a command sent without a name (open mode)', () => {
    const { table } = createTable();
    const seq = table.latestSeq;
    unwrap(report(table, SOURCE, [[V1, UP]]));
    expect(actorsSince(table, seq)).toEqual([OPEN_ACTOR]);
  });

  it("should be `engine` for what the clock does: timeouts, and a queue start they free", () => {
    const { table, clock } = createTable({ hostTimeoutMs: 86_400_000 });
    setupFleet(table, { hosts: { [SOURCE]: [V1, V2, V3], [DESTINATION]: [], [OTHER]: [] } });
    unwrap(table.migrateVm({ vmId: V1 }, OPERATOR));
    unwrap(table.migrateVm({ vmId: V2 }, OPERATOR));
    const pending = unwrap(table.migrateVm({ vmId: V3 }, OPERATOR));
    const seq = table.latestSeq;
    clock.advance(MIGRATION_START_TIMEOUT_MS);
    table.tick(); // both attempts time out; the pending one starts in the slot they free
    expect(table.migration(pending.id)?.state).toBe(MigrationState.IN_PROGRESS);
    expect(transitionsSince(table, seq).map((t) => t.cause)).toEqual(expect.arrayContaining([Cause.START_TIMEOUT, Cause.SCHEDULER]));
    expect(actorsSince(table, seq)).toEqual([ENGINE_ACTOR]);
  });

  it("should carry the fencer's name on a fence and what it decides", () => {
    const { table } = createTable();
    setupFleet(table, { hosts: { [SOURCE]: [V1], [DESTINATION]: [] } });
    unwrap(table.reportHostStatus({ hostId: DESTINATION, status: HostStatus.NON_RESPONSIVE }, FENCER));
    const seq = table.latestSeq;
    unwrap(table.reportFenceResult({ hostId: DESTINATION, succeeded: true, method: FenceMethod.AUTOMATIC }, FENCER));
    expect(actorsSince(table, seq)).toEqual([FENCER]);
  });
});
