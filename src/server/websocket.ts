/**
 * graphql-ws over `ws` on the HTTP server's port and the GraphQL path, wired through yoga's envelop
 * pipeline (`yoga.getEnveloped`, as yoga's graphql-ws example does): parsing, validation, context,
 * error masking and any plugin added later (limits, auth) apply to WebSocket operations exactly as
 * to HTTP and SSE ones.
 */
import type { Server } from 'node:http';
import type { ExecutionArgs } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import { WebSocketServer } from 'ws';

/** Execution arguments carrying the enveloped `execute`/`subscribe` of this very operation. */
interface EnvelopedExecutionArgs extends ExecutionArgs {
  readonly rootValue: {
    readonly execute: (args: ExecutionArgs) => unknown;
    readonly subscribe: (args: ExecutionArgs) => unknown;
  };
}

export interface WebSocketEndpoint {
  /** Closes every socket with 1001 (Going Away) and stops accepting upgrades. */
  close(): Promise<void>;
}

export function attachWebSocket(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any yoga instance: only its envelop pipeline is used
  yoga: YogaServerInstance<any, any>,
  server: Server,
  { keepAliveMs = 12_000 }: { keepAliveMs?: number } = {},
): WebSocketEndpoint {
  const wss = new WebSocketServer({ server, path: yoga.graphqlEndpoint });
  const disposable = useServer(
    {
      execute: (args) => (args as EnvelopedExecutionArgs).rootValue.execute(args) as never,
      subscribe: (args) => (args as EnvelopedExecutionArgs).rootValue.subscribe(args) as never,
      onSubscribe: async (ctx, _id, params) => {
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
        });
        const args: EnvelopedExecutionArgs = {
          schema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length > 0) return errors;
        return args;
      },
    },
    wss,
    keepAliveMs,
  );
  return { close: async () => disposable.dispose() };
}
