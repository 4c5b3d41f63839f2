/**
 * Authentication: which credential an operation carries. HTTP and SSE requests carry
 * `Authorization: Bearer <token>`, checked here before the request is even parsed; graphql-ws
 * connections carry it once, in `connection_init` (`connectionParams.authorization`), checked by
 * websocket.ts when the connection opens. Either way the principal ends up in the operation's
 * context, where `useAuthorization` decides what it may do: one place for both transports.
 */
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
