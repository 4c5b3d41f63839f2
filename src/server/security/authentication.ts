/**
 * Authentication: which credential an operation carries. HTTP and SSE requests carry
 * `Authorization: Bearer <token>`, checked here before the request is even parsed; graphql-ws
 * connections carry it once, in `connection_init` (`connectionParams.authorization`), checked by
 * websocket.ts when the connection opens. Either way the principal ends up in the operation's
 * context, where `useAuthorization` decides what it may do: one place for both transports.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { RequestErrorCode } from '../../schema/errors.js';
import { OPEN_ACCESS, type CredentialStore, type Principal } from './credentials.js';
import { refusal } from './refusal.js';

/** The principal of a token (null: no token); null when the token is missing or unknown. */
export type Authenticator = (token: string | null) => Principal | null;

/** Open mode (no credentials) lets everyone in; otherwise a known token is required. */
export const authenticator = (credentials: CredentialStore | null): Authenticator =>
  credentials === null ? () => OPEN_ACCESS : (token) => (token === null ? null : credentials.authenticate(token));

/** The token of an `Authorization` value `Bearer <token>`; null for anything else. */
export function bearerToken(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = /^Bearer +([^\s]+) *$/i.exec(value);
  return match === null ? null : (match[1] as string);
}

/** The principal an operation's context carries; null when none was established. */
export function principalOf(context: unknown): Principal | null {
  const principal = (context as { principal?: Principal | null } | null | undefined)?.principal;
  return principal ?? null;
}

export const unauthenticated = (message: string) =>
  refusal(RequestErrorCode.UNAUTHENTICATED, message, { status: 401, headers: { 'www-authenticate': 'Bearer realm="transit"' } });

/** HTTP and SSE: the bearer token of each request. */
export function useAuthentication(authenticate: Authenticator): Plugin {
  const principals = new WeakMap<Request, Principal>();
  return {
    onParams({ request, setResult }) {
      const header = request.headers.get('authorization');
      const principal = authenticate(bearerToken(header));
      if (principal === null) {
        setResult({ errors: [unauthenticated(header === null ? 'a bearer token is required (Authorization: Bearer <token>)' : 'the bearer token is not valid')] });
        return;
      }
      principals.set(request, principal);
    },
    onContextBuilding({ context, extendContext }) {
      // yoga's HTTP context has the fetch `request`; a graphql-ws operation brings its connection's principal instead.
      const { request } = context as { request?: Request };
      if (request !== undefined) extendContext({ principal: principals.get(request) ?? null } as never);
    },
  };
}

/**
 * HTTP requests to the GraphQL endpoint are authenticated at their headers, before their body is
 * read (docs/contract.md §11): without a valid token the request is answered 401 at once and its
 * connection closed, so a client without credentials cannot hold a connection by sending its body
 * slowly. Not concerned: other paths (`/health`, `/metrics`), CORS preflights (browsers send no
 * credentials there), and a browser's GET of GraphiQL's page. `useAuthentication` checks again
 * after parsing (graphql-ws connections are checked at `connection_init`).
 */
export function authenticateAtHeaders(
  req: IncomingMessage,
  res: ServerResponse,
  authenticate: Authenticator,
  graphqlPath: string,
): 'not-concerned' | 'authenticated' | 'refused' {
  const path = (req.url ?? '/').split('?')[0];
  const method = (req.method ?? 'GET').toUpperCase();
  if (path !== graphqlPath || method === 'OPTIONS') return 'not-concerned';
  if ((method === 'GET' || method === 'HEAD') && (req.headers.accept ?? '').includes('text/html')) return 'not-concerned';
  const header = req.headers.authorization;
  if (authenticate(bearerToken(header ?? null)) !== null) return 'authenticated';
  const error = unauthenticated(header === undefined ? 'a bearer token is required (Authorization: Bearer <token>)' : 'the bearer token is not valid');
  const body = JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.extensions.code } }] });
  res.writeHead(401, {
    'content-type': 'application/json; charset=utf-8',
    'www-authenticate': 'Bearer realm="transit"',
    'content-length': Buffer.byteLength(body),
    // The body is not read: the connection cannot carry another request.
    connection: 'close',
  });
  res.end(body);
  return 'refused';
}
