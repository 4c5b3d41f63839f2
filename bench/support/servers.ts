/**
 * The servers the networked benchmarks measure, each started alone in its own process:
 *
 *   node --import tsx bench/support/servers.ts transit|yoga|yoga-jit|echo|broadcast|yoga-pubsub|mercurius
 *
 * - `transit`: Transit itself (`buildApp`), settings from the environment (open mode: no
 *   credentials), optionally preloaded in process with `BENCH_PRELOAD_HOSTS` × `BENCH_PRELOAD_VMS`
 *   VMs of which `BENCH_PRELOAD_MIGRATING` per host migrate, so a query benchmark need not send a
 *   million VMs over HTTP first.
 * - `yoga`: the baseline a user could run instead of Transit: graphql-yoga with the same
 *   `reportVmStatuses` input types and a resolver that does nothing, and `vms`/`migrations`
 *   queries answering a fixed page of the same shape.
 * - `yoga-jit`: the same, executing with graphql-jit (`@envelop/graphql-jit`), as Transit does.
 * - `echo`: the floor: bare `node:http` that parses the same JSON body and answers the same JSON.
 * - `broadcast`: bare `ws` (and SSE) broadcast: a POST's body (a result, as a subscriber receives
 *   it) is framed once as a graphql-ws `next` message and once as an SSE event, and the same string
 *   is sent to every WebSocket (`/ws`) and SSE (`GET /sse`) client; then the POST is answered.
 * - `yoga-pubsub` and `mercurius`: the subscription servers a user could run instead, each with
 *   the same `transitions` subscription (the same selection, over a schema of the same shape) fed
 *   by its own in-memory pub/sub: graphql-yoga's `createPubSub`, served over graphql-ws
 *   (`useServer`, as yoga's documentation wires it) and yoga's SSE; mercurius (fastify) with its
 *   own WebSocket subscriptions (graphql-transport-ws; it has no SSE). A POST to `/publish` with a
 *   result as a subscriber received it publishes its `transitions` object; every subscriber then
 *   executes the selection over it and is sent its own message, as those servers do.
 *
 * The process tells its parent (IPC) `{ ready: true, port }` once it listens, answers `stats` with
 * its CPU time and event-loop utilisation since the last `stats` (so the parent can say whether
 * the server was the bottleneck), and exits on `stop`.
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { useGraphQlJit } from '@envelop/graphql-jit';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { createPubSub, createSchema, createYoga } from 'graphql-yoga';
import { WebSocketServer, type WebSocket } from 'ws';
import { preload } from './preload.js';

export type ServerKind = 'transit' | 'yoga' | 'yoga-jit' | 'echo' | 'broadcast' | 'yoga-pubsub' | 'mercurius';

export interface ServerStats {
  /** CPU time used (user + system) over wall time, 1 = one core busy. */
  readonly cpu: number;
  /** CPU time used (user + system), in µs, and the wall time, in ms, since the previous reading. */
  readonly cpuMicros: number;
  readonly wallMs: number;
  /** Event-loop utilisation, 0–1: how busy the server's one JavaScript thread was. */
  readonly elu: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /** Subscriptions open (Transit) or clients connected (broadcast). */
  readonly subscribers: number;
  /** The longest the event loop was blocked since the previous call, in ms (10 ms resolution). */
  readonly maxLoopDelayMs: number;
  /** The highest RSS sampled (every 100 ms) since the previous call. */
  readonly peakRssBytes: number;
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

// ---- baselines ---------------------------------------------------------------------------------

const BASELINE_TYPE_DEFS = /* GraphQL */ `
  scalar SafeInt
  enum ReportedVmStatus { UP DOWN MIGRATING_FROM MIGRATING_TO }
  enum HostStatus { UP NON_RESPONSIVE REBOOTING MAINTENANCE }
  enum VmStatus { UP DOWN MIGRATING_FROM UNKNOWN }
  input VmReportInput { vmId: ID! status: ReportedVmStatus! progress: Float exitReason: String peerHostId: ID }
  input ReportVmStatusesInput { hostId: ID! vms: [VmReportInput!]! full: Boolean sequence: SafeInt bootId: ID cluster: String }
  type Host { id: ID! status: HostStatus! }
  type UserError { code: String! message: String! field: String }
  type ReportVmStatusesPayload { host: Host errors: [UserError!]! }
  type Vm { id: ID! status: VmStatus! hostId: ID host: Host }
  type Migration { id: ID! vmId: ID! sourceHostId: ID destinationHostId: ID state: String! progress: Float stalled: Boolean! startedAt: String! }
  type PageInfo { hasNextPage: Boolean! endCursor: String }
  type VmEdge { cursor: String! node: Vm! }
  type VmConnection { edges: [VmEdge!]! pageInfo: PageInfo! }
  type MigrationEdge { cursor: String! node: Migration! }
  type MigrationConnection { edges: [MigrationEdge!]! pageInfo: PageInfo! }
  type Query {
    vms(status: VmStatus, hostId: ID, first: Int, after: String): VmConnection!
    migrations(hostId: ID, first: Int, after: String): MigrationConnection!
  }
  type Mutation { reportVmStatuses(input: ReportVmStatusesInput!): ReportVmStatusesPayload! }
`;

/** A fixed page of `n` items, built once: the baseline does no work to find them. */
function fixedPage<T>(n: number, node: (i: number) => T) {
  const edges = Array.from({ length: n }, (_, i) => ({ cursor: Buffer.from(`bench:${i + 1}`).toString('base64url'), node: node(i) }));
  return { edges, pageInfo: { hasNextPage: true, endCursor: edges[edges.length - 1]?.cursor ?? null } };
}

function startYogaBaseline(jit: boolean): Server {
  const vmPage = fixedPage(100, (i) => ({ id: `vm-${i}`, status: 'UP', hostId: `host-${i % 7}`, host: { id: `host-${i % 7}`, status: 'UP' } }));
  const migrationPage = fixedPage(100, (i) => ({
    id: `bench-m${i}`,
    vmId: `vm-${i}`,
    sourceHostId: 'host-1',
    destinationHostId: `host-${i + 2}`,
    state: 'IN_PROGRESS',
    progress: 5,
    stalled: false,
    startedAt: new Date(0).toISOString(),
  }));
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: BASELINE_TYPE_DEFS,
      resolvers: {
        Query: { vms: () => vmPage, migrations: () => migrationPage },
        Mutation: {
          reportVmStatuses: (_root: unknown, { input }: { input: { hostId: string } }) => ({ host: { id: input.hostId, status: 'UP' }, errors: [] }),
        },
      },
    }),
    logging: 'error',
    landingPage: false,
    graphiql: false,
    plugins: jit ? [useGraphQlJit()] : [],
  });
  return createServer(yoga);
}

function startEcho(): Server {
  return createServer((req, res) => {
    void readBody(req).then((text) => {
      const body = JSON.parse(text) as { variables?: { input?: { hostId?: string } } };
      const hostId = body.variables?.input?.hostId ?? null;
      const answer = JSON.stringify({ data: { reportVmStatuses: { host: { id: hostId, status: 'UP' }, errors: [] } } });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
  });
}

interface Broadcast {
  readonly server: Server;
  clients(): number;
}

function startBroadcast(): Broadcast {
  const sockets = new Set<WebSocket>();
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.flushHeaders();
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    void readBody(req).then((payload) => {
      // The whole of a broadcast: the payload framed once per transport, the same string sent to every client.
      const message = `{"id":"1","type":"next","payload":${payload}}`;
      for (const socket of sockets) socket.send(message);
      const event = `event: next\ndata: ${payload}\n\n`;
      for (const stream of streams) stream.write(event);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return { server, clients: () => sockets.size + streams.size };
}


// ---- subscription peers ---------------------------------------------------------------------------

/** The shape of Transit's `Transition`, as far as the fan-out subscription selects it. */
const PEER_TYPE_DEFS = /* GraphQL */ `
  type VmPlace { status: String! hostId: ID location: String }
  type MigrationSnapshot { id: ID! state: String! sourceReport: String destinationReport: String progress: Float attempt: Int! }
  type Transition { cursor: String! at: String! cause: String! vmId: ID hostId: ID from: VmPlace to: VmPlace migration: MigrationSnapshot }
  type Query { ok: Boolean }
  type Subscription { transitions: Transition! }
`;

interface Peer {
  readonly server: Server;
  subscribers(): number;
}

/** The `transitions` object of a result as a subscriber received it (`{"data":{"transitions":...}}`). */
const transitionOf = (text: string): unknown => (JSON.parse(text) as { data: { transitions: unknown } }).data.transitions;

/** graphql-yoga with `createPubSub`: graphql-ws on `/graphql` (yoga's documented wiring) and yoga's SSE. */
function startYogaPubSub(): Peer {
  // One listener per subscriber on one event target: no leak, so no warning past 10.
  const eventTarget = new EventTarget();
  setMaxListeners(0, eventTarget);
  const pubsub = createPubSub<{ transitions: [unknown] }>({ eventTarget });
  let subscribers = 0;
  const yoga = createYoga({
    schema: createSchema({
      typeDefs: PEER_TYPE_DEFS,
      resolvers: {
        Subscription: {
          transitions: {
            // Counted as subscribed when asked (never uncounted): the client also waits for a probe to reach everyone.
            subscribe: () => {
              subscribers++;
              return pubsub.subscribe('transitions');
            },
            resolve: (transition: unknown) => transition,
          },
        },
      },
    }),
    logging: 'error',
    landingPage: false,
    graphiql: false,
  });
  const server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/publish') {
      void readBody(req).then((payload) => {
        pubsub.publish('transitions', transitionOf(payload));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
      return;
    }
    void yoga(req, res);
  });
  interface Enveloped extends ExecutionArgs {
    readonly rootValue: { execute: (args: ExecutionArgs) => unknown; subscribe: (args: ExecutionArgs) => unknown };
  }
  useServer(
    {
      execute: (args) => (args as Enveloped).rootValue.execute(args) as never,
      subscribe: (args) => (args as Enveloped).rootValue.subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({ ...ctx, req: ctx.extra.request, socket: ctx.extra.socket, params });
        const args: Enveloped = { schema, operationName: params.operationName, document: parse(params.query), variableValues: params.variables, contextValue: await contextFactory(), rootValue: { execute, subscribe } };
        const errors = validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
    },
    new WebSocketServer({ server, path: '/graphql' }),
  );
  return { server, subscribers: () => subscribers };
}

/** mercurius (fastify) with its own subscriptions over WebSocket (graphql-transport-ws). */
async function startMercurius(): Promise<{ port: number; subscribers: () => number }> {
  const [{ default: Fastify }, { default: mercurius }] = await Promise.all([import('fastify'), import('mercurius')]);
  const app = Fastify({ logger: false });
  let subscribers = 0;
  await app.register(mercurius, {
    schema: PEER_TYPE_DEFS,
    resolvers: {
      Subscription: {
        transitions: {
          subscribe: async (_root: unknown, _args: unknown, { pubsub }: { pubsub: { subscribe: (topic: string) => Promise<AsyncIterable<unknown>> } }) => {
            const source = await pubsub.subscribe('TRANSITIONS');
            subscribers++;
            return source;
          },
        },
      },
    },
    subscription: true,
    graphiql: false,
  });
  app.post('/publish', async (request) => {
    await app.graphql.pubsub.publish({ topic: 'TRANSITIONS', payload: { transitions: (request.body as { data: { transitions: unknown } }).data.transitions } });
    return { ok: true };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address() as AddressInfo;
  return { port: address.port, subscribers: () => subscribers };
}

// ---- Transit ------------------------------------------------------------------------------------

async function startTransit(): Promise<{ port: number; subscribers: () => number }> {
  const [{ readConfig }, { buildApp }] = await Promise.all([import('../../src/config.js'), import('../../src/server/http/app.js')]);
  const app = buildApp({ config: { ...readConfig(), host: '127.0.0.1', port: 0 }, logging: 'error' });
  const hosts = Number(process.env.BENCH_PRELOAD_HOSTS ?? 0);
  if (hosts > 0) preload(app.table, { hosts, vmsPerHost: Number(process.env.BENCH_PRELOAD_VMS ?? 200), migrating: Number(process.env.BENCH_PRELOAD_MIGRATING ?? 0) });
  const { port } = await app.start();
  return { port, subscribers: () => app.subscriberCount() };
}

// ---- process ------------------------------------------------------------------------------------

async function main(kind: ServerKind): Promise<void> {
  let port: number;
  let subscribers = () => 0;
  switch (kind) {
    case 'transit':
      ({ port, subscribers } = await startTransit());
      break;
    case 'yoga':
    case 'yoga-jit':
      port = await listen(startYogaBaseline(kind === 'yoga-jit'));
      break;
    case 'yoga-pubsub': {
      const peer = startYogaPubSub();
      port = await listen(peer.server);
      subscribers = peer.subscribers;
      break;
    }
    case 'mercurius':
      ({ port, subscribers } = await startMercurius());
      break;
    case 'echo':
      port = await listen(startEcho());
      break;
    case 'broadcast': {
      const broadcast = startBroadcast();
      port = await listen(broadcast.server);
      subscribers = broadcast.clients;
      break;
    }
    default:
      throw new Error(`unknown server kind ${String(kind)}: transit, yoga, yoga-jit, echo, broadcast, yoga-pubsub or mercurius`);
  }
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let peakRss = process.memoryUsage.rss();
  setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100).unref();
  let cpuFrom = process.cpuUsage();
  let wallFrom = performance.now();
  let eluFrom: EventLoopUtilization = performance.eventLoopUtilization();
  process.on('message', (message: unknown) => {
    if (message === 'stop') process.exit(0);
    if (message !== 'stats') return;
    const cpu = process.cpuUsage(cpuFrom);
    const elu = performance.eventLoopUtilization(eluFrom);
    const wallMs = performance.now() - wallFrom;
    const stats: ServerStats = {
      cpu: (cpu.user + cpu.system) / 1_000 / wallMs,
      cpuMicros: cpu.user + cpu.system,
      wallMs,
      elu: elu.utilization,
      heapUsedBytes: process.memoryUsage().heapUsed,
      rssBytes: process.memoryUsage().rss,
      subscribers: subscribers(),
      maxLoopDelayMs: loopDelay.max / 1e6,
      peakRssBytes: Math.max(peakRss, process.memoryUsage.rss()),
    };
    loopDelay.reset();
    peakRss = process.memoryUsage.rss();
    cpuFrom = process.cpuUsage();
    wallFrom = performance.now();
    eluFrom = performance.eventLoopUtilization();
    process.send?.({ stats });
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ ready: true, port });
}

await main(process.argv[2] as ServerKind);
