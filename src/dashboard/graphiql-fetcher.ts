/**
 * GraphiQL's fetcher on `/graphql` (bundled by src/server/http/dashboard.ts, loaded by the page that
 * src/server/http/graphiql.ts renders). Queries and mutations go over HTTP with the header editor's
 * headers; subscriptions go over graphql-ws with the `Authorization` header as `connectionParams`
 * (browsers cannot set headers on a WebSocket), and a socket the server closes (4403: no or wrong
 * token) ends the subscription with an error GraphiQL shows, instead of spinning forever.
 */
import { createClient } from 'graphql-ws';
import { operationKind } from './graphql/operation-kind.js';

interface GraphiQLParams {
  readonly query: string;
  readonly operationName?: string | null;
  readonly variables?: Record<string, unknown> | null;
}

type Result = { data?: unknown; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] };

const CLOSE_REASONS: Record<number, string> = {
  4403: 'Forbidden: the Authorization header (Bearer <token>) is missing or refused',
  4408: 'connection_init was not sent in time',
  4400: 'the server could not read a message',
  1001: 'the server is going away (restart or shutdown)',
  1006: 'the connection dropped',
  1009: 'a message was too big',
};

const wsUrl = (endpoint: string) => new URL(endpoint, location.href).href.replace(/^http/, 'ws');

function authorizationOf(headers: Record<string, unknown> | undefined): string | undefined {
  for (const [name, value] of Object.entries(headers ?? {})) if (name.toLowerCase() === 'authorization' && typeof value === 'string') return value;
  return undefined;
}

async function overHttp(endpoint: string, params: GraphiQLParams, headers: Record<string, unknown>): Promise<Result> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(headers as Record<string, string>) },
    body: JSON.stringify({ query: params.query, operationName: params.operationName ?? undefined, variables: params.variables ?? undefined }),
  });
  const text = await response.text();
  try {
    return JSON.parse(text) as Result;
  } catch {
    return { errors: [{ message: `HTTP ${response.status}: ${text.slice(0, 300)}` }] };
  }
}

async function* overWebSocket(endpoint: string, params: GraphiQLParams, headers: Record<string, unknown>): AsyncGenerator<Result> {
  const authorization = authorizationOf(headers);
  let closeCode: number | null = null;
  let closeReason = '';
  const client = createClient({
    url: wsUrl(endpoint),
    lazy: true,
    retryAttempts: 0,
    connectionParams: authorization === undefined ? {} : { authorization },
    on: {
      closed: (event) => {
        const { code, reason } = event as CloseEvent;
        closeCode = code;
        closeReason = reason;
      },
    },
  });
  try {
    for await (const result of client.iterate({ query: params.query, operationName: params.operationName ?? undefined, variables: params.variables ?? undefined })) {
      yield result as Result;
    }
  } catch (error) {
    const code = closeCode ?? (error as { code?: number }).code ?? null;
    if (Array.isArray(error)) {
      yield { errors: error as Result['errors'] };
    } else {
      const why = code === null ? String((error as Error).message ?? error) : `${code} ${closeReason || CLOSE_REASONS[code] || ''}`.trim();
      yield { errors: [{ message: `The WebSocket was closed by the server: ${why}`, extensions: { closeCode: code } }] };
    }
  } finally {
    await client.dispose();
  }
}

/** The fetcher GraphiQL calls: an async iterable for subscriptions, a promise otherwise. */
export function createFetcher(endpoint: string) {
  return (params: GraphiQLParams, options?: { headers?: Record<string, unknown> }) => {
    const headers = options?.headers ?? {};
    return operationKind(params.query, params.operationName) === 'subscription' ? overWebSocket(endpoint, params, headers) : overHttp(endpoint, params, headers);
  };
}

interface YogaGraphiQLGlobal {
  renderYogaGraphiQL(root: Element, options: Record<string, unknown>): void;
}

declare global {
  interface Window {
    TransitGraphiQL: { render(yoga: YogaGraphiQLGlobal, endpoint: string, root: Element, options: Record<string, unknown>): void; fetcher: ReturnType<typeof createFetcher> | null };
  }
}

window.TransitGraphiQL = {
  fetcher: null,
  render(yoga, endpoint, root, options) {
    const fetcher = createFetcher(endpoint);
    window.TransitGraphiQL.fetcher = fetcher;
    yoga.renderYogaGraphiQL(root, { ...options, fetcher });
  },
};
