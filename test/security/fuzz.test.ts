/**
 * Fuzzing `reportVmStatuses` and `migrateVm` through the API with fast-check: inputs of the right
 * shape and of any shape, with ids that are empty, huge, white space or any Unicode, numbers that
 * are NaN, negative or past 2^53, interleaved with the passing of time. Whatever arrives, the
 * service answers with a coded refusal or a result (never a masked internal error), no promise is
 * left rejected, and the table's indexes stay consistent. graphql-ws gets random frames too.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupFleet } from '../utils/domain.js';
import { post, rawSocket, socketEnd } from '../utils/security.js';
import { startServer, type TestServer } from '../utils/server.js';
import { opened, subscribeWs, wsClient } from '../utils/ws.js';
import { graphql } from '../gql/index.js';

const HOSTS = ['host-a', 'host-b', 'host-c', 'host-d'];
const VMS = ['vm-1', 'vm-2', 'vm-3', 'vm-4', 'vm-5'];
const RUNS = 120;

const REPORT = 'mutation ($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { host { id status } errors { code field } } }';
const MIGRATE = 'mutation ($input: MigrateVmInput!) { migrateVm(input: $input) { migration { id state } errors { code field } } }';
const ENGINE = graphql(`
  query FuzzEngine {
    engine { cursor }
  }
`);

/** Mostly ids the table knows, so that the fuzz reaches the decision table, sometimes anything. */
const id = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...HOSTS, ...VMS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u0000', 'host-a ', 'x'.repeat(300), '💥'.repeat(200)) },
);
const status = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('UP', 'DOWN', 'MIGRATING_FROM', 'MIGRATING_TO') }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) });
const number = fc.oneof(fc.integer({ min: -10, max: 110 }), fc.double(), fc.constant(2 ** 60), fc.constant(null), fc.string({ maxLength: 4 }));
const knownVm = fc.constantFrom(...VMS);
const knownHost = fc.constantFrom(...HOSTS);
/** A report a host agent could send: the fields that go with its status, and nothing else. */
const wellFormedReport = fc.oneof(
  fc.record({ vmId: knownVm, status: fc.constant('UP') }),
  fc.record({ vmId: knownVm, status: fc.constant('DOWN'), exitReason: fc.constantFrom('NORMAL', 'MIGRATION_SUCCEEDED', 'MIGRATION_FAILED', 'ERROR') }, { requiredKeys: ['vmId', 'status'] }),
  fc.record({ vmId: knownVm, status: fc.constant('MIGRATING_FROM'), progress: fc.integer({ min: 0, max: 100 }), peerHostId: knownHost }, { requiredKeys: ['vmId', 'status'] }),
  fc.record({ vmId: knownVm, status: fc.constant('MIGRATING_TO'), peerHostId: knownHost }, { requiredKeys: ['vmId', 'status'] }),
);
/** Any field with any value. */
const hostileReport = fc.record(
  {
    vmId: id,
    status,
    progress: number,
    exitReason: fc.oneof(fc.constantFrom('NORMAL', 'MIGRATION_SUCCEEDED', 'MIGRATION_FAILED', 'ERROR'), fc.string({ maxLength: 1_100 }), fc.constant(null)),
    peerHostId: fc.oneof(id, fc.constant(null)),
  },
  { requiredKeys: ['vmId', 'status'] },
);
const reportInput = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ hostId: knownHost, vms: fc.uniqueArray(wellFormedReport, { maxLength: 3, selector: (r) => r.vmId }), full: fc.boolean() }, { requiredKeys: ['hostId', 'vms'] }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        hostId: id,
        vms: fc.array(fc.oneof(wellFormedReport, hostileReport), { maxLength: 8 }),
        full: fc.boolean(),
        sequence: number,
        bootId: fc.oneof(fc.constantFrom('boot-1', 'boot-2'), id),
        cluster: fc.oneof(fc.constantFrom('default', 'cluster-2'), id, fc.constant(null)),
      },
      { requiredKeys: ['hostId', 'vms'] },
    ),
  },
);
const migrateInput = fc.oneof(
  { weight: 3, arbitrary: fc.record({ vmId: knownVm, destinationHostId: knownHost }, { requiredKeys: ['vmId'] }) },
  { weight: 1, arbitrary: fc.record({ vmId: id, destinationHostId: fc.oneof(id, fc.constant(null)) }, { requiredKeys: ['vmId'] }) },
);

type Step = { kind: 'report' | 'migrate'; input: unknown } | { kind: 'time'; ms: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: reportInput.map((input) => ({ kind: 'report' as const, input })) },
  { weight: 3, arbitrary: migrateInput.map((input) => ({ kind: 'migrate' as const, input })) },
  { weight: 1, arbitrary: fc.anything().map((input) => ({ kind: 'report' as const, input })) },
  { weight: 1, arbitrary: fc.anything().map((input) => ({ kind: 'migrate' as const, input })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 90_000 }).map((ms) => ({ kind: 'time' as const, ms })) },
);

describe('fuzzing the reports and migrate commands', () => {
  let server: TestServer;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    server = await startServer();
    setupFleet(server.app.table, { hosts: { 'host-a': ['vm-1', 'vm-2'], 'host-b': ['vm-3'], 'host-c': ['vm-4', 'vm-5'], 'host-d': [] } });
  });
  afterAll(async () => {
    await server.stop();
    process.off('unhandledRejection', onRejection);
  });

  it('should answer every input with a result or a coded refusal, and keep the table consistent', async () => {
    const seq = server.app.table.latestSeq;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        for (const s of steps) {
          if (s.kind === 'time') {
            server.clock.advance(s.ms);
            server.app.table.tick();
            continue;
          }
          const answer = await post(server.url, { body: JSON.stringify({ query: s.kind === 'report' ? REPORT : MIGRATE, variables: { input: s.input } }) });
          expect([200, 400]).toContain(answer.status);
          expect(answer.result).not.toBeNull();
          for (const error of answer.result?.errors ?? []) {
            expect(error.extensions?.code, error.message).toBeDefined();
            expect(error.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
          }
          if (answer.result?.errors === undefined) expect(answer.result?.data).toBeDefined();
        }
        expect(server.app.table.checkConsistency()).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    expect(rejections).toEqual([]);
    expect(await server.data(ENGINE)).toBeDefined();
    // The fuzz reached the rules, not only the refusals: migrations were started and decided.
    const migrations = server.app.table.migrations({}, 0, 10_000).items;
    expect(server.app.table.latestSeq - seq).toBeGreaterThan(RUNS);
    expect(migrations.length).toBeGreaterThan(0);
  });

  it('should survive random graphql-ws frames, and keep serving other connections', async () => {
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json(),
      fc.record({ type: fc.constantFrom('subscribe', 'complete', 'ping', 'pong', 'next', 'connection_init', 'bogus'), id: fc.oneof(fc.string(), fc.integer()), payload: fc.anything() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), async (frames) => {
        const socket = rawSocket(server.wsUrl);
        const end = socketEnd(socket);
        await opened(socket);
        socket.send(JSON.stringify({ type: 'connection_init' }));
        for (const f of frames) socket.send(typeof f === 'string' ? f : JSON.stringify(f));
        socket.close(1000);
        expect(await end).toBeGreaterThanOrEqual(1000);
      }),
      { numRuns: 40 },
    );
    const ws = wsClient(server.wsUrl);
    try {
      const sub = subscribeWs(ws, ENGINE, {});
      await sub.ended();
      expect(sub.errors).toEqual([]);
      expect(sub.data).toHaveLength(1);
    } finally {
      await ws.dispose();
    }
    expect(rejections).toEqual([]);
    expect(server.app.table.checkConsistency()).toEqual([]);
  });
});
