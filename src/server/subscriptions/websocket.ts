/**
 * graphql-ws over `ws` on the HTTP server's port and the GraphQL path, wired through yoga's envelop
 * pipeline (`yoga.getEnveloped`, as yoga's graphql-ws example does): parsing, validation, the query
 * limits, context, authorization, error masking apply to WebSocket operations exactly as to HTTP
 * and SSE ones.
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
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';
import { RequestErrorCode, requestError } from '../../schema/errors.js';
import { upgradeAllowed, type OriginPolicy } from '../http/cors.js';
import { bearerToken, type Authenticator } from '../security/authentication.js';
import type { Principal } from '../security/credentials.js';
import { withoutHttp } from '../security/refusal.js';
import type { SubscriptionCounter } from '../security/subscription-caps.js';

/** Close code of a connection beyond `maxConnectionsPerCredential` (private range; graphql-ws clients retry with backoff). */
export const TOO_MANY_CONNECTIONS_FOR_CREDENTIAL = 4029;

/** Execution arguments carrying the enveloped `execute`/`subscribe` of this very operation. */
interface EnvelopedExecutionArgs extends ExecutionArgs {
  readonly rootValue: {
    readonly execute: (args: ExecutionArgs) => unknown;
    readonly subscribe: (args: ExecutionArgs) => unknown;
  };
}

export interface WebSocketOptions {
  /** The principal of a `connection_init`'s bearer token; null refuses the connection. */
  readonly authenticate: Authenticator;
  /** Which browser pages may open a socket (the same policy as CORS for HTTP). */
  readonly origins: OriginPolicy;
  /** Largest message, in bytes. */
  readonly maxPayloadBytes: number;
  /** Time a new connection has to send `connection_init`, in ms. */
  readonly initTimeoutMs: number;
  /** Operations one connection may have open at once. */
  readonly maxOperations: number;
  /** Connections one credential may hold open (not applied in open mode); one more is closed with 4029. */
  readonly maxConnectionsPerCredential: number;
  /** Told when a connection's `connection_init` is accepted (the connection policy stops treating it as pending). */
  readonly onAuthenticated?: (socket: Socket) => void;
  /**
   * The subscription caps, asked before a subscription runs through the rest of the pipeline: a
   * flood of subscribe messages over its credential's cap is refused at the cost of a parse.
   * The envelop plugin (subscription-caps.ts) still counts and enforces them.
   */
  readonly subscriptions?: Pick<SubscriptionCounter, 'check'>;
  /** Ping interval, in ms; a socket that does not answer within one more is dropped. */
  readonly keepAliveMs?: number;
}

export interface WebSocketEndpoint {
  /** Closes every socket with 1001 (Going Away) and stops accepting upgrades. */
  close(): Promise<void>;
}


const stripHttp = (result: ExecutionResult): ExecutionResult =>
  result.errors === undefined ? result : { ...result, errors: result.errors.map(withoutHttp) };

export function attachWebSocket(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any yoga instance: only its envelop pipeline is used
  yoga: YogaServerInstance<any, any>,
  server: Server,
  {
    authenticate,
    origins,
    maxPayloadBytes,
    initTimeoutMs,
    maxOperations,
    maxConnectionsPerCredential,
    onAuthenticated = () => undefined,
    subscriptions,
    keepAliveMs = 12_000,
  }: WebSocketOptions,
): WebSocketEndpoint {
  const wss = new WebSocketServer({
    server,
    path: yoga.graphqlEndpoint,
    maxPayload: maxPayloadBytes,
    verifyClient: ({ req }: { req: IncomingMessage }, done: (ok: boolean, status?: number, message?: string) => void) =>
      upgradeAllowed(origins, req) ? done(true) : done(false, 403, 'Forbidden: a page of this origin may not open a WebSocket'),
  });
  // Keyed by graphql-ws's per-connection context object, which lives as long as the socket.
  const principals = new WeakMap<object, Principal>();
  /** Open connections by credential name (docs/contract.md §11). */
  const connectionsOf = new Map<string, number>();
  // One error object per refusal text (a GraphQLError captures a stack: costly in a flood); at most two per credential.
  const refusals = new Map<string, GraphQLError>();
  const refusalError = (code: RequestErrorCode, message: string): GraphQLError => {
    let error = refusals.get(message);
    if (error === undefined) {
      if (refusals.size >= 10_000) refusals.clear();
      refusals.set(message, (error = requestError(code, message)));
    }
    return error;
  };
  const disposable = useServer(
    {
      connectionInitWaitTimeout: initTimeoutMs,
      onConnect: (ctx) => {
        const params = ctx.connectionParams ?? {};
        const principal = authenticate(bearerToken(params.authorization ?? params.Authorization));
        if (principal === null) return false; // 4403 Forbidden
        if (!principal.open) {
          const held = connectionsOf.get(principal.name) ?? 0;
          if (held >= maxConnectionsPerCredential) {
            ctx.extra.socket.close(TOO_MANY_CONNECTIONS_FOR_CREDENTIAL, `credential ${principal.name} holds ${maxConnectionsPerCredential} connections already`.slice(0, 120));
            return false;
          }
          connectionsOf.set(principal.name, held + 1);
        }
        principals.set(ctx, principal);
        onAuthenticated(ctx.extra.request.socket);
        return true;
      },
      onClose: (ctx) => {
        const principal = principals.get(ctx);
        if (principal === undefined || principal.open) return;
        principals.delete(ctx);
        const left = (connectionsOf.get(principal.name) ?? 1) - 1;
        if (left === 0) connectionsOf.delete(principal.name);
        else connectionsOf.set(principal.name, left);
      },
      execute: (args) => (args as EnvelopedExecutionArgs).rootValue.execute(args) as never,
      subscribe: (args) => (args as EnvelopedExecutionArgs).rootValue.subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        // graphql-ws has already registered this operation.
        if (Object.keys(ctx.subscriptions).length > maxOperations) {
          return [requestError(RequestErrorCode.TOO_MANY_SUBSCRIPTIONS, `this connection already has ${maxOperations} operations open: complete one first`)];
        }
        const principal = principals.get(ctx) ?? null;
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          principal,
        });
        let document: ExecutionArgs['document'];
        try {
          document = parse(params.query);
        } catch (error) {
          // A syntax error or a refused token count is the operation's error, not the connection's.
          if (!(error instanceof GraphQLError)) throw error;
          return [error.extensions.code === undefined ? new GraphQLError(error.message, { source: error.source, positions: error.positions, extensions: { code: 'GRAPHQL_PARSE_FAILED' } }) : withoutHttp(error)];
        }
        if (subscriptions !== undefined && principal !== null && getOperationAST(document, params.operationName)?.operation === 'subscription') {
          const refused = subscriptions.check(principal.open ? null : principal.name);
          if (refused !== null) return [refusalError(refused.code, refused.message)];
        }
        const args: EnvelopedExecutionArgs = {
          schema,
          operationName: params.operationName,
          document,
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length > 0) return errors.map(withoutHttp);
        return args;
      },
      onNext: (_ctx, _id, _payload, _args, result) => stripHttp(result as ExecutionResult),
      onError: (_ctx, _id, _payload, errors) => errors.map((error) => withoutHttp(error as GraphQLError).toJSON()),
    },
    wss,
    keepAliveMs,
  );
  return { close: async () => disposable.dispose() };
}
