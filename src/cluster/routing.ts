/**
 * `useClusterRouting`: where an operation runs in clustered mode (docs/contract.md §13).
 *
 * - A query or a mutation runs here when this process is the engine and holds its lease for
 *   certain; a mutation is answered once what it changed is in Redis, so a client is never told of
 *   a change that a takeover could lose without a trace.
 * - Otherwise it is forwarded, as it came (document, variables, the caller's `Authorization`), to
 *   the engine's `/graphql` over HTTP, and the engine's answer is returned: the engine
 *   authenticates, authorizes, rate-limits and executes it exactly as if the client had called it.
 *   With no engine to forward to (a takeover under way, Redis unreachable), or for a request that
 *   was already forwarded once, the answer is ENGINE_UNAVAILABLE (HTTP 503), with nothing applied.
 * - A subscription runs here, from the change stream, its items resolved against this process's
 *   view of the table (replica-view.ts), on the engine as on the replicas.
 *
 * It runs after the security plugins: a replica refuses what the engine would refuse, without
 * sending it on.
 */
import { getOperationAST, GraphQLError, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { RequestErrorCode } from '../schema/errors.js';
import { refusal } from '../server/security/refusal.js';
import type { ClusterNode } from './cluster-node.js';

/** Marks a request a process forwarded: the receiver runs it or refuses it, never forwards it again. */
export const FORWARDED_HEADER = 'x-transit-forwarded-by';

const unavailable = (reason: string): ExecutionResult => ({
  errors: [refusal(RequestErrorCode.ENGINE_UNAVAILABLE, `no engine can answer now: ${reason}; nothing was applied, retry in a moment`, { status: 503, headers: { 'retry-after': '1' } })],
});

interface RequestContext {
  readonly request?: Request;
  /** graphql-ws: the connection's `connection_init` payload. */
  readonly connectionParams?: Readonly<Record<string, unknown>>;
  readonly params?: { readonly query?: string };
}

function authorizationOf(context: RequestContext): string | null {
  const header = context.request?.headers.get('authorization');
  if (header != null) return header;
  const param = context.connectionParams?.authorization ?? context.connectionParams?.Authorization;
  return typeof param === 'string' ? param : null;
}

interface WireError {
  readonly message: string;
  readonly path?: readonly (string | number)[];
  readonly extensions?: Record<string, unknown>;
}

export interface RoutingOptions {
  /** A forwarded request the engine has not answered within this long ends ENGINE_UNAVAILABLE. */
  readonly forwardTimeoutMs: number;
  /** How long a request to a process that has just started waits for its first lease check. */
  readonly firstCheckWaitMs: number;
}

function noEngineReason(reachable: boolean | null): string {
  if (reachable === null) return 'this process has not yet heard from Redis which process is the engine';
  return reachable ? 'no process holds the engine lease (a takeover is under way)' : 'Redis cannot be reached';
}

export function useClusterRouting(node: ClusterNode, { forwardTimeoutMs, firstCheckWaitMs }: RoutingOptions): Plugin {
  async function forward(url: string, args: ExecutionArgs): Promise<ExecutionResult> {
    const context = (args.contextValue ?? {}) as RequestContext;
    const authorization = authorizationOf(context);
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          [FORWARDED_HEADER]: node.id,
          ...(authorization === null ? {} : { authorization }),
        },
        body: JSON.stringify({ query: context.params?.query ?? print(args.document), variables: args.variableValues ?? {}, operationName: args.operationName ?? undefined }),
        signal: AbortSignal.timeout(forwardTimeoutMs),
      });
    } catch (error) {
      return unavailable(`the engine at ${url} did not answer (${error instanceof Error ? error.message : String(error)})`);
    }
    let body: { data?: Record<string, unknown> | null; errors?: readonly WireError[] };
    try {
      body = (await response.json()) as typeof body;
    } catch {
      return unavailable(`the engine at ${url} answered ${response.status} without a GraphQL result`);
    }
    // The engine's HTTP status (401, 403, 429, 503...) goes back to the client with its refusal.
    const retryAfter = response.headers.get('retry-after');
    const http = response.status === 200 ? undefined : { status: response.status, ...(retryAfter === null ? {} : { headers: { 'retry-after': retryAfter } }) };
    const errors = body.errors?.map((e) => new GraphQLError(e.message, { path: e.path, extensions: { ...e.extensions, ...(http === undefined ? {} : { http }) } }));
    return { ...(body.data === undefined ? {} : { data: body.data }), ...(errors === undefined ? {} : { errors }) };
  }

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName)?.operation;
      if (operation === undefined || operation === 'subscription') return;
      const applyHere = async (execution: ExecutionArgs): Promise<ExecutionResult> => {
        // The table this process owns now (the context was built a moment ago, maybe before a takeover).
        Object.assign(execution.contextValue as object, { table: node.table });
        const result = (await executeFn(execution)) as ExecutionResult;
        if (operation === 'mutation') {
          try {
            await node.settled();
          } catch (error) {
            return unavailable(`the change could not be written to Redis (${error instanceof Error ? error.message : String(error)})`);
          }
        }
        return result;
      };
      setExecuteFn(async (execution) => {
        if (node.canApply()) return applyHere(execution);
        const context = (execution.contextValue ?? {}) as RequestContext;
        if (context.request?.headers.get(FORWARDED_HEADER) != null) return unavailable('the process it was forwarded to is not the engine (any more)');
        if (node.role === 'engine') return unavailable('the engine cannot reach Redis, where it must write what it applies');
        // A process that has just started does not know the engine yet: it finds out first.
        await node.firstLeaseCheck(firstCheckWaitMs);
        if (node.canApply()) return applyHere(execution);
        const url = node.engineUrl;
        if (url === null) return unavailable(noEngineReason(node.reachable));
        return forward(url, execution);
      });
    },
    onSubscribe({ extendContext }) {
      extendContext({ table: node.mirror.view } as never);
    },
  };
}
