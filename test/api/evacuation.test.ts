/**
 * Evacuation over the API (docs/contract.md §9), as a client uses it: the plan, `evacuateHost`,
 * the migrations it gives, its end, `evacuations` pages newest first, `cancelEvacuation`, the
 * refusals as payload errors and the events, against a real server.
 */
import { describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { arrange, completeMigration, report } from '../utils/api.js';
import { serverPerTest } from '../utils/server.js';

const PLAN = graphql(`
  query ApiEvacuationPlan($hostId: ID!) {
    evacuationPlan(hostId: $hostId) {
      host { id status }
      moves { vm { id status } destination { id } }
      blocked { vm { id } reason }
    }
  }
`);

const EVACUATE = graphql(`
  mutation ApiEvacuateHost($input: EvacuateHostInput!) {
    evacuateHost(input: $input) {
      evacuation {
        id state total moved remaining failed startedAt endedAt
        host { id status }
        migrations { id state vm { id } source { id } destination { id } }
        blockers { vm { id } reason }
      }
      errors { code message field }
    }
  }
`);

const CANCEL = graphql(`
  mutation ApiCancelEvacuation($input: CancelEvacuationInput!) {
    cancelEvacuation(input: $input) {
      evacuation { id state host { id status } }
      errors { code message field }
    }
  }
`);

const EVACUATION = graphql(`
  query ApiEvacuation($id: ID!) {
    evacuation(id: $id) { id state total moved remaining failed endedAt host { id status } blockers { vm { id } reason } }
  }
`);

const EVACUATIONS = graphql(`
  query ApiEvacuations($hostId: ID, $state: EvacuationState, $first: Int, $after: String) {
    evacuations(hostId: $hostId, state: $state, first: $first, after: $after) {
      edges { cursor node { id state host { id } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const EVACUATION_EVENTS = graphql(`
  query ApiEvacuationEvents($hostId: ID) {
    events(hostId: $hostId, first: 100) { edges { node { type severity hostId message } } }
  }
`);

describe('evacuation over the API', () => {
  const server = serverPerTest();

  it('should show the plan, evacuate as planned, and end COMPLETED with the host in MAINTENANCE', async () => {
    await arrange(server(), { 'host-a': ['vm-1', 'vm-2'], 'host-b': ['vm-3'], 'host-c': [] });
    const { evacuationPlan } = await server().data(PLAN, { hostId: 'host-a' });
    expect(evacuationPlan).toEqual({
      host: { id: 'host-a', status: 'UP' },
      moves: [
        { vm: { id: 'vm-1', status: 'UP' }, destination: { id: 'host-c' } },
        { vm: { id: 'vm-2', status: 'UP' }, destination: { id: 'host-b' } },
      ],
      blocked: [],
    });

    const { evacuateHost } = await server().data(EVACUATE, { input: { hostId: 'host-a' } });
    expect(evacuateHost.errors).toEqual([]);
    const evacuation = evacuateHost.evacuation;
    expect(evacuation).toMatchObject({ state: 'IN_PROGRESS', total: 2, moved: 0, remaining: 2, failed: 0, endedAt: null, host: { id: 'host-a', status: 'PREPARING_FOR_MAINTENANCE' }, blockers: [] });
    expect(evacuation?.migrations.map((m) => [m.vm.id, m.state, m.source?.id, m.destination?.id])).toEqual([
      ['vm-1', 'IN_PROGRESS', 'host-a', 'host-c'],
      ['vm-2', 'IN_PROGRESS', 'host-a', 'host-b'],
    ]);

    await completeMigration(server(), 'vm-1', 'host-a', 'host-c');
    await completeMigration(server(), 'vm-2', 'host-a', 'host-b');
    const { evacuation: done } = await server().data(EVACUATION, { id: evacuation?.id as string });
    expect(done).toMatchObject({ state: 'COMPLETED', total: 2, moved: 2, remaining: 0, failed: 0, host: { id: 'host-a', status: 'MAINTENANCE' }, blockers: [] });
    expect(done?.endedAt).not.toBeNull();

    const { events } = await server().data(EVACUATION_EVENTS, { hostId: 'host-a' });
    const types = events.edges.map((e) => e.node.type).filter((t) => t.startsWith('EVACUATION_'));
    expect(types).toEqual(['EVACUATION_STARTED', 'EVACUATION_COMPLETED']);
  });

  it('should fail with blockers when no host can take a VM, and let the host go on cancel', async () => {
    await arrange(server(), { 'host-a': ['vm-1'] });
    const { evacuationPlan } = await server().data(PLAN, { hostId: 'host-a' });
    expect(evacuationPlan?.blocked).toEqual([{ vm: { id: 'vm-1' }, reason: 'no host can take it: none is UP in cluster default besides host-a' }]);
    const { evacuateHost } = await server().data(EVACUATE, { input: { hostId: 'host-a' } });
    expect(evacuateHost.evacuation).toMatchObject({ state: 'FAILED', total: 1, failed: 1, remaining: 1, migrations: [], blockers: [{ vm: { id: 'vm-1' } }] });
    expect(evacuateHost.evacuation?.host.status).toBe('PREPARING_FOR_MAINTENANCE');

    const { cancelEvacuation } = await server().data(CANCEL, { input: { hostId: 'host-a' } });
    expect(cancelEvacuation).toEqual({ evacuation: { id: evacuateHost.evacuation?.id, state: 'FAILED', host: { id: 'host-a', status: 'UP' } }, errors: [] });
    const again = await server().data(CANCEL, { input: { hostId: 'host-a' } });
    expect(again.cancelEvacuation).toEqual({ evacuation: null, errors: [{ code: 'NOT_EVACUATING', message: expect.any(String), field: 'hostId' }] });
  });

  it('should cancel a running evacuation, the host back UP', async () => {
    await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
    const { evacuateHost } = await server().data(EVACUATE, { input: { hostId: 'host-a' } });
    const { cancelEvacuation } = await server().data(CANCEL, { input: { hostId: 'host-a' } });
    expect(cancelEvacuation).toEqual({ evacuation: { id: evacuateHost.evacuation?.id, state: 'CANCELLED', host: { id: 'host-a', status: 'UP' } }, errors: [] });
  });

  it.each([
    ['HOST_NOT_FOUND', 'host-x'],
    ['INVALID_INPUT', ''],
  ])('should refuse with %s, changing nothing', async (code, hostId) => {
    await arrange(server(), { 'host-a': ['vm-1'] });
    const cursor = server().app.table.cursor;
    const { evacuateHost } = await server().data(EVACUATE, { input: { hostId } });
    expect(evacuateHost).toEqual({ evacuation: null, errors: [{ code, message: expect.any(String), field: 'hostId' }] });
    expect(server().app.table.cursor).toBe(cursor);
  });

  it('should refuse a host that does not answer with HOST_NOT_UP', async () => {
    await arrange(server(), { 'host-a': ['vm-1'] });
    server().app.table.reportHostStatus({ hostId: 'host-a', status: 'NON_RESPONSIVE' });
    const { evacuateHost } = await server().data(EVACUATE, { input: { hostId: 'host-a' } });
    expect(evacuateHost.errors.map((e) => e.code)).toEqual(['HOST_NOT_UP']);
  });

  it('should page evacuations newest first, and refuse a cursor of another engine run', async () => {
    await arrange(server(), { 'host-a': [], 'host-b': [], 'host-c': ['vm-1'], 'host-d': [] });
    for (const hostId of ['host-a', 'host-b', 'host-c']) await server().data(EVACUATE, { input: { hostId } });
    const first = await server().data(EVACUATIONS, { first: 2 });
    expect(first.evacuations.edges.map((e) => e.node.host.id)).toEqual(['host-c', 'host-b']);
    expect(first.evacuations.pageInfo.hasNextPage).toBe(true);
    const second = await server().data(EVACUATIONS, { first: 2, after: first.evacuations.pageInfo.endCursor });
    expect(second.evacuations.edges.map((e) => e.node.host.id)).toEqual(['host-a']);
    expect(second.evacuations.pageInfo.hasNextPage).toBe(false);
    const running = await server().data(EVACUATIONS, { state: 'IN_PROGRESS' });
    expect(running.evacuations.edges.map((e) => [e.node.host.id, e.node.state])).toEqual([['host-c', 'IN_PROGRESS']]);
    const byHost = await server().data(EVACUATIONS, { hostId: 'host-a' });
    expect(byHost.evacuations.edges.map((e) => e.node.state)).toEqual(['COMPLETED']);

    const foreign = Buffer.from('another-epoch:1', 'utf8').toString('base64url');
    const { result } = await server().request(EVACUATIONS, { after: foreign });
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(['RESYNC_REQUIRED']);
  });

  it('should take in a VM a host reports while it is evacuated', async () => {
    await arrange(server(), { 'host-a': ['vm-1'], 'host-b': [] });
    const { evacuateHost } = await server().data(EVACUATE, { input: { hostId: 'host-a' } });
    await report(server(), 'host-a', [{ vmId: 'vm-2', status: 'UP' }]);
    const { evacuation } = await server().data(EVACUATION, { id: evacuateHost.evacuation?.id as string });
    expect(evacuation).toMatchObject({ total: 2, remaining: 2 });
  });
});
