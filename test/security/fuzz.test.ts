/**
 * Fuzzing `reportVmStatuses` and `migrateVm` through the API with fast-check: inputs of the right
 * shape and of any shape, with ids that are empty, huge, white space or any Unicode, numbers that
 * are NaN, negative or past 2^53, interleaved with the passing of time. Whatever arrives, the
 * service answers with a coded refusal or a result (never a masked internal error), no promise is
 * left rejected, and the table's indexes stay consistent. graphql-ws gets random frames too, and
 * closes a connection only for a violation the frames really contain.
 *
 * Each run has its own state, so that a failure shrinks and replays (`seed`, `path`) as it ran: a
 * fresh server per run of commands; the frame runs only read, on their own connection, and each
 * is checked to leave the server as it found it.
 */
import fc from 'fast-check';
import { CloseCode, MessageType, parseMessage } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setupFleet } from '../utils/domain.js';
import { post, rawSocket, socketEnd } from '../utils/security.js';
import { startServer, type TestServer } from '../utils/server.js';
import { opened, subscribeWs, wsClient } from '../utils/ws.js';
import type WebSocket from 'ws';
import { graphql } from '../gql/index.js';

const HOSTS = ['host-a', 'host-b', 'host-c', 'host-d'];
const VMS = ['vm-1', 'vm-2', 'vm-3', 'vm-4', 'vm-5'];
const RUNS = 30;
const MAX_STEPS = 20;
const FRAME_RUNS = 40;
const FLEET = { hosts: { 'host-a': ['vm-1', 'vm-2'], 'host-b': ['vm-3'], 'host-c': ['vm-4', 'vm-5'], 'host-d': [] } };

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

/** Operation ids few enough that frames reuse them (a subscribe on an open id is a violation). */
const operationId = fc.constantFrom('1', '2', '3');
/** Read-only documents (the frame runs must leave the table as they found it), valid or not. */
const document = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '{ engine { cursor } }',
      'query { hosts { id status } }',
      'subscription { transitions { cursor } }',
      'subscription { events(after: "nope") { cursor } }',
      'subscription { hostCommands(hostId: "host-a") { kind } }',
      'query { nope }',
      'subscription {',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
);
/** Messages a graphql-ws client may send. */
const clientMessage = fc.oneof(
  fc.record({ type: fc.constant('subscribe'), id: operationId, payload: fc.record({ query: document, variables: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue()) }, { requiredKeys: ['query'] }) }),
  fc.record({ type: fc.constant('complete'), id: operationId }),
  fc.record({ type: fc.constantFrom('ping', 'pong'), payload: fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: ['type'] }),
);
/** Mostly well-formed client messages, so that frames reach the operations; then anything. */
const frame: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: clientMessage.map((m) => JSON.stringify(m)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.json() },
  {
    weight: 2,
    arbitrary: fc
      .record({ type: fc.constantFrom('subscribe', 'complete', 'ping', 'pong', 'next', 'error', 'connection_init', 'connection_ack', 'bogus'), id: fc.oneof(operationId, fc.string(), fc.integer()), payload: fc.anything() })
      .map((m) => JSON.stringify(m)),
  },
);

/**
 * The close codes the server may answer `frames` with, sent after its `connection_ack` and followed
 * (once they are acted on) by the client's own close, 1000, which it echoes when nothing was wrong.
 * By graphql-ws's rules (its own `parseMessage` classifies each frame): 4400 for a frame that is not
 * a client message and 4429 for a second `connection_init`, both at once, before a later frame is
 * read; 4500 for a message only a server sends (graphql-ws throws "Unexpected message" on it and
 * closes a microtask later, so a later frame may close first); 4409 for a subscribe on an id still
 * open (open until its operation ends: possible, not certain). Never 1006, 1011, nor 4500 for a
 * client message.
 */
function allowedCloseCodes(frames: readonly string[]): Set<number> {
  const codes = new Set<number>([1000]);
  const open = new Set<string>();
  for (const text of frames) {
    let message: ReturnType<typeof parseMessage>;
    try {
      message = parseMessage(text);
    } catch {
      codes.delete(1000);
      return codes.add(CloseCode.BadRequest);
    }
    if (message.type === MessageType.ConnectionInit) {
      codes.delete(1000);
      return codes.add(CloseCode.TooManyInitialisationRequests);
    }
    if (message.type === MessageType.Subscribe) {
      if (open.has(message.id)) codes.add(CloseCode.SubscriberAlreadyExists);
      open.add(message.id);
    } else if (message.type === MessageType.Complete) {
      open.delete(message.id);
    } else if (message.type !== MessageType.Ping && message.type !== MessageType.Pong) {
      codes.delete(1000);
      codes.add(CloseCode.InternalServerError);
    }
  }
  return codes;
}

/** A subscribe on an id the same frames subscribed and then completed (the known leak). */
function reusesCompletedId(frames: readonly string[]): boolean {
  const completed = new Set<string>();
  const subscribed = new Set<string>();
  for (const text of frames) {
    let message: ReturnType<typeof parseMessage>;
    try {
      message = parseMessage(text);
    } catch {
      return false;
    }
    if (message.type === MessageType.Subscribe) {
      if (completed.has(message.id)) return true;
      subscribed.add(message.id);
    } else if (message.type === MessageType.Complete && subscribed.has(message.id)) {
      completed.add(message.id);
    }
  }
  return false;
}

/** An operation id the frames never use (theirs are short). */
const BARRIER_ID = 'fuzz-barrier-after-the-frames';

/**
 * Sends a query after the frames and resolves once it is answered, or the socket closes. graphql-ws
 * reads a connection's messages in order and takes each operation through the same steps, so by
 * then every earlier frame has been acted on: a failure it causes closes the socket before the
 * client's own close is sent, and shows in the close code.
 */
function answered(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { type?: string; id?: string };
      if (message.id === BARRIER_ID && (message.type === MessageType.Complete || message.type === MessageType.Error)) resolve();
    });
    socket.once('close', () => resolve());
    socket.send(JSON.stringify({ type: MessageType.Subscribe, id: BARRIER_ID, payload: { query: '{ engine { cursor } }' } }));
  });
}

/** Resolves once the server has acknowledged `connection_init`. */
function acknowledged(socket: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString()) as { type?: string }).type === MessageType.ConnectionAck) resolve();
    });
    socket.once('close', (code) => reject(new Error(`closed with ${code} before connection_ack`)));
  });
}

describe('fuzzing the reports and migrate commands', () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
  });

  it('should answer every input with a result or a coded refusal, and keep the table consistent', async () => {
    let changes = 0;
    let migrations = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: MAX_STEPS }), async (steps) => {
        const server = await startServer();
        try {
          setupFleet(server.app.table, FLEET);
          const seq = server.app.table.latestSeq;
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
          changes += server.app.table.latestSeq - seq;
          migrations += server.app.table.migrations({}, 0, 10_000).items.length;
        } finally {
          await server.stop();
        }
        expect(rejections).toEqual([]);
      }),
      { numRuns: RUNS },
    );
    // The fuzz reached the rules, not only the refusals: the table changed, migrations were started.
    expect(changes).toBeGreaterThan(RUNS);
    expect(migrations).toBeGreaterThan(0);
  });

  describe('over graphql-ws', () => {
    let server: TestServer;
    let seq = 0;
    const fresh = async () => {
      server = await startServer();
      setupFleet(server.app.table, FLEET);
      seq = server.app.table.latestSeq;
    };
    beforeAll(fresh);
    afterAll(async () => {
      await server.stop();
    });

    it('should close a connection only for a violation its frames contain, and keep serving other connections', async () => {
      const closes = new Map<number, number>();
      const logged: string[] = [];
      // graphql-ws logs the message types only a server may send as internal errors; anything else logged fails.
      const consoleError = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 5 }), async (frames) => {
            const socket = rawSocket(server.wsUrl);
            const end = socketEnd(socket);
            await opened(socket);
            const ready = acknowledged(socket);
            socket.send(JSON.stringify({ type: 'connection_init' }));
            await ready;
            for (const f of frames) socket.send(f);
            await answered(socket);
            socket.close(1000);
            const code = await end;
            closes.set(code, (closes.get(code) ?? 0) + 1);
            expect([...allowedCloseCodes(frames)], `closed with ${code}`).toContain(code);
            for (const line of logged.splice(0)) expect(line).toMatch(/Unexpected message of type (next|error|connection_ack) received/);
            if (reusesCompletedId(frames)) {
              // Known leak (test/api/subscription-id-reuse.test.ts): the next run starts on a fresh server.
              await server.stop();
              await fresh();
              return;
            }
            // The run leaves the server as it found it: nothing subscribed, nothing changed.
            await server.untilSubscribers(0);
            expect(server.app.table.latestSeq).toBe(seq);
          }),
          { numRuns: FRAME_RUNS },
        );
      } finally {
        consoleError.mockRestore();
      }
      // The frames reached the operations and the violations, not only the first refusal.
      const seen = JSON.stringify([...closes]);
      expect(closes.get(1000) ?? 0, seen).toBeGreaterThan(0);
      expect(closes.get(CloseCode.BadRequest) ?? 0, seen).toBeGreaterThan(0);
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
});
