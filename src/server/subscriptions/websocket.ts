/**
 * GraphQL over WebSocket (the `graphql-transport-ws` protocol of graphql-ws) on the HTTP server's
 * port and the GraphQL path, wired through yoga's envelop pipeline (`yoga.getEnveloped`): parsing,
 * validation, the query limits, context, authorization, error masking apply to WebSocket
 * operations exactly as to HTTP and SSE ones.
 *
 * This is Transit's own server side of the protocol, not graphql-ws's `useServer`: graphql-ws's
 * server serializes every `next` message of every subscriber itself (`stringifyMessage`, the whole
 * result again per socket), awaits each message's write callback before pulling the subscriber's
 * next item (one write, one system call and a chain of promises per message per socket), and takes
 * only a string per message, so it cannot write one serialized result to a thousand sockets. Here
 * a subscription whose source is a subscriber stream is written by the broadcast path
 * (delivery.ts): the result serialized once per operation, the frames of one socket written
 * together. The protocol is graphql-ws's, message for message and close code for close code; its
 * own `parseMessage` reads every incoming message, and graphql-ws's client (GraphiQL's too) is
 * what the tests speak.
 *
 * What only a socket needs is here:
 * - the credential comes once, in `connection_init` (`connectionParams.authorization`:
 *   `Bearer <token>`); a missing or unknown one closes the socket with 4403 Forbidden, and a
 *   connection that sends no `connection_init` within `initTimeoutMs` is closed with 4408;
 * - a message above `maxPayloadBytes` closes the socket with 1009 (Message Too Big);
 * - at most `maxOperations` operations are open at once on one connection (TOO_MANY_SUBSCRIPTIONS),
 *   and one credential holds at most `maxConnectionsPerCredential` connections (close 4029);
 * - a browser page of an origin the policy refuses may not open a socket (browsers do not apply
 *   CORS to WebSockets; without this check any web page could drive a Transit running open on
 *   loopback): cors.ts.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { getOperationAST, GraphQLError, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, handleProtocols, MessageType, parseMessage, type SubscribePayload } from 'graphql-ws';
import { isAsyncIterable, type YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { Interned } from '../../domain/interned.js';
import { RequestErrorCode, requestError } from '../../schema/errors.js';
import { bearerToken, type Authenticator } from '../security/authentication.js';
import type { Principal } from '../security/credentials.js';
import { withoutHttp } from '../security/refusal.js';
import { upgradeAllowed, type OriginPolicy } from '../http/cors.js';
import { Delivery, type FrameSink } from './delivery.js';
import { serializeResult, wsNextHead, type EncodedResult } from './encoded-result.js';
import type { SharedSubscriptions } from './shared-subscription-results.js';
import type { SubscriptionCounter } from '../security/subscription-caps.js';

/** One error object per refusal text: a GraphQLError captures a stack, costly in a flood of refused subscribes. */
const refusals = new Interned<GraphQLError>(10_000);
const refusalError = (code: RequestErrorCode, message: string): GraphQLError => refusals.of(message, () => requestError(code, message));

/** Close code of a connection beyond `maxConnectionsPerCredential` (private range; graphql-ws clients retry with backoff). */
export const TOO_MANY_CONNECTIONS_FOR_CREDENTIAL = 4029;

export interface WebSocketOptions {
  /** The principal of a `connection_init`'s bearer token; null refuses the connection. */
  readonly authenticate: Authenticator;
  /** Which browser pages may open a socket (the same policy as CORS for HTTP). */
  readonly origins: OriginPolicy;
  /** Connections one credential may hold open (not applied in open mode); one more is closed with 4029. */
  readonly maxConnectionsPerCredential: number;
  /** Told when a connection's `connection_init` is accepted (the connection policy stops treating it as pending). */
  readonly onAuthenticated?: (socket: Socket) => void;
  /**
   * The subscription caps, asked right after a subscription is parsed, before its context,
   * validation and execution: a flood of subscribe messages over its credential's cap costs a
   * parse each. The envelop plugin (subscription-caps.ts) still counts and enforces them.
   */
  readonly subscriptionCaps?: Pick<SubscriptionCounter, 'check'>;
  /** Largest message, in bytes. */
  readonly maxPayloadBytes: number;
  /** Time a new connection has to send `connection_init`, in ms. */
  readonly initTimeoutMs: number;
  /** Operations one connection may have open at once. */
  readonly maxOperations: number;
  /** Ping interval, in ms; a socket that does not answer within one more is dropped. */
  readonly keepAliveMs?: number;
}

export interface WebSocketEndpoint {
  /** Closes every socket with 1001 (Going Away) and stops accepting upgrades. */
  close(): Promise<void>;
}

/** Open connections by credential name (docs/contract.md §11); open mode is not counted. */
class ConnectionsPerCredential {
  private readonly held = new Map<string, number>();

  constructor(private readonly max: number) {}

  /** Counts one more connection of the principal; false when it holds `max` already. */
  acquire(principal: Principal): boolean {
    if (principal.open) return true;
    const held = this.held.get(principal.name) ?? 0;
    if (held >= this.max) return false;
    this.held.set(principal.name, held + 1);
    return true;
  }

  release(principal: Principal): void {
    if (principal.open) return;
    const left = (this.held.get(principal.name) ?? 1) - 1;
    if (left === 0) this.held.delete(principal.name);
    else this.held.set(principal.name, left);
  }
}

/** Every message is JSON text: a text frame, even when written from a buffer. */
const TEXT = { binary: false } as const;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const errorsJson = (errors: readonly GraphQLError[]): string => JSON.stringify(errors.map((error) => withoutHttp(error).toJSON()));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any yoga instance: only its envelop pipeline is used
type AnyYoga = YogaServerInstance<any, any>;

/**
 * An operation open on a connection: how to stop it when the client completes it or leaves (null
 * while it is being set up). Each subscribe gets its own object, and an operation acts only while
 * the id maps to that very object: a client that completes an id and subscribes again with it at
 * once must not have the first operation, still being set up, take the second one's place (a
 * stream then referenced by nothing, fed forever: the leak graphql-ws's own server has).
 */
interface Operation {
  stop: (() => void) | null;
}

/** One socket speaking graphql-transport-ws. */
class Connection {
  private initReceived = false;
  private acknowledged = false;
  private principal: Principal | null = null;
  private connectionParams: Record<string, unknown> | undefined;
  /** Open operations by id. */
  private readonly operations = new Map<string, Operation>();
  private readonly deliveries = new Set<Delivery>();
  private corked = false;
  private readonly initTimer: NodeJS.Timeout | null;

  constructor(
    private readonly socket: WebSocket,
    private readonly request: IncomingMessage,
    private readonly yoga: AnyYoga,
    private readonly options: WebSocketOptions,
    private readonly subscriptions: SharedSubscriptions | null,
    private readonly perCredential: ConnectionsPerCredential,
  ) {
    const raw = request.socket as Socket;
    raw.on('drain', () => {
      for (const delivery of this.deliveries) delivery.resume();
    });
    this.initTimer =
      options.initTimeoutMs > 0 && Number.isFinite(options.initTimeoutMs)
        ? setTimeout(() => {
            if (!this.initReceived) this.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
          }, options.initTimeoutMs)
        : null;
    socket.on('message', (data: RawData) => {
      this.onMessage(String(data)).catch(() => this.close(CloseCode.InternalServerError, 'Internal server error'));
    });
  }

  /** Room in the socket's buffer: below its high-water mark. */
  get writable(): boolean {
    return this.socket.readyState === this.socket.OPEN && !(this.request.socket as Socket).writableNeedDrain;
  }

  /** Sends a message; the frames of one turn of the event loop leave in one write (cork). */
  send(data: string | Buffer): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (!this.corked) {
      const raw = this.request.socket as Socket;
      this.corked = true;
      raw.cork();
      process.nextTick(() => {
        this.corked = false;
        raw.uncork();
      });
    }
    this.socket.send(data, TEXT);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  /** The socket closed: every operation stops. */
  closed(): void {
    if (this.initTimer !== null) clearTimeout(this.initTimer);
    if (this.principal !== null) this.perCredential.release(this.principal);
    this.principal = null;
    const open = [...this.operations.values()];
    this.operations.clear();
    for (const operation of open) operation.stop?.();
  }

  private async onMessage(data: string): Promise<void> {
    let message: ReturnType<typeof parseMessage>;
    try {
      message = parseMessage(data);
    } catch {
      return this.close(CloseCode.BadRequest, 'Invalid message received');
    }
    switch (message.type) {
      case MessageType.ConnectionInit: {
        if (this.initReceived) return this.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
        this.initReceived = true;
        if (isObject(message.payload)) this.connectionParams = message.payload;
        const params = this.connectionParams ?? {};
        const principal = this.options.authenticate(bearerToken(params.authorization ?? params.Authorization));
        if (principal === null) return this.close(CloseCode.Forbidden, 'Forbidden');
        if (!this.perCredential.acquire(principal)) {
          const reason = `credential ${principal.name} holds ${this.options.maxConnectionsPerCredential} connections already`;
          return this.close(TOO_MANY_CONNECTIONS_FOR_CREDENTIAL, reason.slice(0, 120));
        }
        this.principal = principal;
        this.options.onAuthenticated?.(this.request.socket);
        this.acknowledged = true;
        return this.send(JSON.stringify({ type: MessageType.ConnectionAck }));
      }
      case MessageType.Ping:
        return this.send(JSON.stringify(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe: {
        if (!this.acknowledged) return this.close(CloseCode.Unauthorized, 'Unauthorized');
        const { id, payload } = message;
        if (this.operations.has(id)) return this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
        const operation: Operation = { stop: null };
        this.operations.set(id, operation);
        try {
          await this.run(id, operation, payload);
        } catch (error) {
          if (this.operations.get(id) === operation) this.operations.delete(id);
          throw error;
        }
        return;
      }
      case MessageType.Complete: {
        const operation = this.operations.get(message.id);
        this.operations.delete(message.id);
        operation?.stop?.();
        return;
      }
      default:
        // A server-to-client message (next, error, connection_ack) sent by the client.
        return this.close(CloseCode.InternalServerError, `Unexpected message of type ${message.type} received`);
    }
  }

  /** Whether the client still has this operation open under its id. */
  private isOpen(id: string, operation: Operation): boolean {
    return this.operations.get(id) === operation;
  }

  /** Ends the operation: false when it was no longer open (completed, or its id taken by another). */
  private end(id: string, operation: Operation): boolean {
    if (!this.isOpen(id, operation)) return false;
    this.operations.delete(id);
    return true;
  }

  private sendError(id: string, operation: Operation, errors: readonly GraphQLError[]): void {
    if (!this.end(id, operation)) return;
    this.send(`{"id":${JSON.stringify(id)},"type":"error","payload":${errorsJson(errors)}}`);
  }

  private sendNext(id: string, result: ExecutionResult): void {
    this.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${serializeResult(result)}}`);
  }

  private complete(id: string, operation: Operation): void {
    if (!this.end(id, operation)) return;
    this.send(`{"id":${JSON.stringify(id)},"type":"complete"}`);
  }

  private async run(id: string, operation: Operation, payload: SubscribePayload): Promise<void> {
    // This operation is already counted.
    if (this.operations.size > this.options.maxOperations) {
      return this.sendError(id, operation, [requestError(RequestErrorCode.TOO_MANY_SUBSCRIPTIONS, `this connection already has ${this.options.maxOperations} operations open: complete one first`)]);
    }
    const { schema, execute, subscribe, contextFactory, parse, validate } = this.yoga.getEnveloped({
      connectionParams: this.connectionParams,
      extra: { socket: this.socket, request: this.request },
      req: this.request,
      socket: this.socket,
      params: payload,
      principal: this.principal,
    });
    let document: ExecutionArgs['document'];
    try {
      document = parse(payload.query);
    } catch (error) {
      // A syntax error or a refused token count is the operation's error, not the connection's.
      if (!(error instanceof GraphQLError)) throw error;
      const coded = error.extensions.code === undefined ? new GraphQLError(error.message, { source: error.source, positions: error.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }) : error;
      return this.sendError(id, operation, [coded]);
    }
    const ast = getOperationAST(document, payload.operationName);
    const caps = this.options.subscriptionCaps;
    if (caps !== undefined && this.principal !== null && ast?.operation === 'subscription') {
      const refused = caps.check(this.principal.open ? null : this.principal.name);
      if (refused !== null) return this.sendError(id, operation, [refusalError(refused.code, refused.message)]);
    }
    const validationErrors = validate(schema, document);
    if (validationErrors.length > 0) return this.sendError(id, operation, validationErrors);
    if (ast === null || ast === undefined) return this.sendError(id, operation, [new GraphQLError('Unable to identify operation')]);
    const args: ExecutionArgs = { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue: await contextFactory() };
    const result = (await (ast.operation === 'subscription' ? subscribe(args) : execute(args))) as ExecutionResult | AsyncIterable<ExecutionResult>;
    if (!isAsyncIterable(result)) {
      if (!this.isOpen(id, operation)) return;
      this.sendNext(id, result);
      return this.complete(id, operation);
    }
    const iterator = result[Symbol.asyncIterator]();
    const release = () => void iterator.return?.()?.catch(() => undefined);
    if (!this.isOpen(id, operation)) return release(); // completed by the client meanwhile
    const handle = this.subscriptions?.take(args.contextValue as object) ?? null;
    if (handle !== null && this.subscriptions !== null) return this.broadcast(id, operation, handle, release);
    operation.stop = release;
    try {
      for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) {
        if (!this.isOpen(id, operation)) break;
        this.sendNext(id, step.value);
      }
    } catch (error) {
      const original = error instanceof Error ? error : new Error(String(error));
      return this.sendError(id, operation, [new GraphQLError(original.message, { originalError: original })]);
    }
    this.complete(id, operation);
  }

  /** The broadcast path: the subscriber's stream written by a Delivery, shared bytes per result. */
  private broadcast(id: string, operation: Operation, handle: NonNullable<ReturnType<SharedSubscriptions['take']>>, release: () => void): void {
    const head = wsNextHead(id);
    const writable = () => this.writable;
    const sink: FrameSink = {
      get writable() {
        return writable();
      },
      write: (result: EncodedResult) => this.send(result.wsNext(id, head)),
      complete: () => this.complete(id, operation),
      fail: (error) => {
        const original = error instanceof Error ? error : new Error(String(error));
        this.sendError(id, operation, [new GraphQLError('Unexpected error.', { originalError: original })]);
      },
    };
    const delivery: Delivery = new Delivery(handle.stream, handle.encode, sink, (this.subscriptions as SharedSubscriptions).scheduler, () => {
      this.deliveries.delete(delivery);
      release();
    });
    this.deliveries.add(delivery);
    operation.stop = () => delivery.stop();
  }
}

export function attachWebSocket(
  yoga: AnyYoga,
  server: Server,
  options: WebSocketOptions,
  /** The broadcast path; without it every subscription is pulled and written message by message. */
  subscriptions: SharedSubscriptions | null = null,
): WebSocketEndpoint {
  const { maxPayloadBytes, keepAliveMs = 12_000 } = options;
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: maxPayloadBytes,
    handleProtocols: (protocols: Set<string>) => handleProtocols(protocols),
    verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, status?: number, message?: string) => void) =>
      upgradeAllowed(options.origins, req) ? done(true) : done(false, 403, 'Forbidden: a page of this origin may not open a WebSocket'),
  });
  const perCredential = new ConnectionsPerCredential(options.maxConnectionsPerCredential);

  wss.on('connection', (socket: WebSocket, request: IncomingMessage) => {
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) {
      socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
      return;
    }
    socket.once('error', () => socket.close(CloseCode.InternalServerError, 'Internal server error'));
    const connection = new Connection(socket, request, yoga, options, subscriptions, perCredential);
    // Keep-alive: a ping every `keepAliveMs`; a socket that does not answer within one more is dropped.
    let pongWait: NodeJS.Timeout | null = null;
    const pinger =
      keepAliveMs > 0 && Number.isFinite(keepAliveMs)
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => {
              if (pongWait !== null) clearTimeout(pongWait);
              pongWait = null;
            });
            socket.ping();
          }, keepAliveMs)
        : null;
    socket.once('close', () => {
      if (pongWait !== null) clearTimeout(pongWait);
      if (pinger !== null) clearInterval(pinger);
      connection.closed();
    });
  });

  return {
    close: async () => {
      // What is due (the `complete` of every ended subscription) leaves before the sockets close.
      subscriptions?.scheduler.flushNow();
      for (const client of wss.clients) client.close(1001, 'Going away');
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
