/**
 * docs/contract.md §8 and §10 as a client sees them over GraphQL: the queue's names (PENDING,
 * priority, waitingReason, MIGRATION_QUEUED), cancel of a pending migration, a deadline's abort
 * (memoryMiB, abortReason, MIGRATION_ABORTING, ABORT_ORDERED), blockedBy, and actor.
 */
import { describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, migrate, report } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';
import { subscribeWs, wsClient } from '../utils/ws.js';

const MIGRATE_VM = graphql(`
  mutation QueueMigrate($input: MigrateVmInput!) {
    migrateVm(input: $input) {
      migration { id state priority waitingReason destination { id } destinationHostId attempt attempts { attempt } blockedBy { code } }
      errors { code message field }
    }
  }
`);

const VM_MIGRATION = graphql(`
  query QueueVmMigration($id: ID!) {
    vm(id: $id) { status host { id } migration { id state waitingReason } }
  }
`);

const PENDING = graphql(`
  query QueuePending {
    migrations(state: PENDING) { edges { node { id vm { id } waitingReason priority } } }
  }
`);

const CANCEL = graphql(`
  mutation QueueCancel($input: CancelMigrationInput!) {
    cancelMigration(input: $input) { migration { id state cancelRequested endedAt } errors { code } }
  }
`);

const EVENTS = graphql(`
  query QueueEvents($type: EventType) {
    events(type: $type, first: 100) { edges { node { type severity message migrationId actor } } }
  }
`);

const MIGRATION = graphql(`
  query QueueMigration($id: ID!) {
    migration(id: $id) { id state abortReason reason stalled blockedBy { code hostId message } }
  }
`);

const TRANSITIONS = graphql(`
  subscription QueueTransitions($after: String) {
    transitions(after: $after) { cause actor }
  }
`);

describe('the queue over GraphQL (docs/contract.md §8)', () => {
  const server = serverPerTest();

  async function fillHostA() {
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2', 'vm-3'], 'host-b': [], 'host-c': [] });
    await migrate(server(), 'vm-1');
    await migrate(server(), 'vm-2');
    const { migrateVm } = await server().data(MIGRATE_VM, { input: { vmId: 'vm-3' } });
    return migrateVm;
  }

  it('should accept a migration over the limits as PENDING, with priority, reason, no destination and no attempt started', async () => {
    const migrateVm = await fillHostA();
    expect(migrateVm.errors).toEqual([]);
    expect(migrateVm.migration).toEqual({
      id: expect.any(String),
      state: 'PENDING',
      priority: 'NORMAL',
      waitingReason: 'host-a has 2 of 2 outgoing migrations',
      destination: null,
      destinationHostId: null,
      attempt: 1,
      attempts: [],
      blockedBy: [],
    });
    const { vm } = await server().data(VM_MIGRATION, { id: 'vm-3' });
    expect(vm).toEqual({ status: 'UP', host: { id: 'host-a' }, migration: { id: migrateVm.migration?.id, state: 'PENDING', waitingReason: 'host-a has 2 of 2 outgoing migrations' } });
    const { migrations } = await server().data(PENDING, {});
    expect(migrations.edges.map((e) => e.node.vm.id)).toEqual(['vm-3']);
    const { events } = await server().data(EVENTS, { type: 'MIGRATION_QUEUED' });
    expect(events.edges.map((e) => [e.node.severity, e.node.migrationId])).toEqual([['INFO', migrateVm.migration?.id]]);
    const again = await server().data(MIGRATE_VM, { input: { vmId: 'vm-3' } });
    expect(again.migrateVm.errors.map((e) => e.code)).toEqual(['VM_ALREADY_MIGRATING']);
  });

  it.each(['vmId', 'migrationId'] as const)('should cancel a pending migration by %s at once: CANCELLED', async (by) => {
    const { migration } = await fillHostA();
    const id = migration?.id as string;
    const { cancelMigration } = await server().data(CANCEL, { input: by === 'vmId' ? { vmId: 'vm-3' } : { migrationId: id } });
    expect(cancelMigration).toMatchObject({ migration: { id, state: 'CANCELLED', cancelRequested: true }, errors: [] });
    expect(cancelMigration.migration?.endedAt).not.toBeNull();
    const { vm } = await server().data(VM_MIGRATION, { id: 'vm-3' });
    expect(vm?.migration).toBeNull();
  });
});

describe('deadlines, blockedBy and actor over GraphQL (docs/contract.md §8, §10)', () => {
  const server = serverPerTest({ migrationProgressTimeoutMs: 1_000, migrationCompletionTimeoutPerGibMs: 1_000 });

  it('should abort a migration past its completion deadline sized by memoryMiB, say why, and keep it in flight until the reports decide', async () => {
    await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'UP', memoryMiB: 8_192 }], { full: true });
    await arrange(server(), { 'host-b': [] });
    const id = await migrate(server(), 'vm-1', 'host-b');
    let { migration } = await server().data(MIGRATION, { id });
    expect(migration?.blockedBy.map((b) => b.code)).toEqual(['SOURCE_NOT_HEARD', 'DESTINATION_NOT_HEARD', 'SOURCE_NOT_CONFIRMED']);
    for (let second = 1; second <= 8; second++) {
      server().clock.advance(1_000);
      await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'MIGRATING_FROM', progress: second * 10 }]);
      await report(server(), 'host-b', [{ vmId: 'vm-1', status: 'MIGRATING_TO' }]);
      server().app.table.tick();
    }
    ({ migration } = await server().data(MIGRATION, { id }));
    expect(migration).toMatchObject({ state: 'IN_PROGRESS', stalled: false, abortReason: 'not completed within 8 s (completion timeout 1 s per GiB × 8 GiB)' });
    expect(migration?.blockedBy).toEqual([{ code: 'ABORT_ORDERED', hostId: 'host-a', message: expect.stringContaining('still reports MIGRATING_FROM') }]);
    const { events } = await server().data(EVENTS, { type: 'MIGRATION_ABORTING' });
    expect(events.edges.map((e) => [e.node.severity, e.node.migrationId, e.node.actor])).toEqual([['WARNING', id, 'engine']]);

    await report(server(), 'host-a', [{ vmId: 'vm-1', status: 'UP' }]);
    await report(server(), 'host-b', [{ vmId: 'vm-1', status: 'DOWN', exitReason: 'MIGRATION_FAILED' }]);
    ({ migration } = await server().data(MIGRATION, { id }));
    expect(migration).toMatchObject({ state: 'FAILED', reason: migration?.abortReason, blockedBy: [] });
  });

  it('should refuse a memoryMiB that is not a positive number of MiB', async () => {
    const { reportVmStatuses } = await server().data(
      graphql(`
        mutation QueueBadMemory($input: ReportVmStatusesInput!) {
          reportVmStatuses(input: $input) { errors { code field } }
        }
      `),
      { input: { hostId: 'host-a', vms: [{ vmId: 'vm-1', status: 'UP', memoryMiB: 0 }] } },
    );
    expect(reportVmStatuses.errors).toEqual([{ code: 'INVALID_INPUT', field: 'vms.0.memoryMiB' }]);
  });

  it('should say `open` as the actor of every command in open mode, and `engine` for the clock', async () => {
    await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
    await migrate(server(), 'vm-1', 'host-b');
    server().clock.advance(31_000); // the start timeout (30 s) ends it, by the engine, before any deadline can
    server().app.table.tick();
    const ws = wsClient(server().wsUrl);
    try {
      const stream = subscribeWs(ws, TRANSITIONS, { after: `${server().app.table.epoch}:0` });
      await stream.until((s) => s.data.some((d) => d.transitions.cause === 'START_TIMEOUT'));
      const actors = stream.data.map((d) => [d.transitions.cause, d.transitions.actor]);
      expect(actors.filter(([cause]) => cause !== 'START_TIMEOUT').every(([, actor]) => actor === 'open')).toBe(true);
      expect(actors.filter(([cause]) => cause === 'START_TIMEOUT')).toEqual([['START_TIMEOUT', 'engine']]);
    } finally {
      await ws.dispose();
    }
    const { events } = await server().data(EVENTS, { type: 'MIGRATION_STARTED' });
    expect(events.edges.map((e) => e.node.actor)).toEqual(['open']);
  });
});
