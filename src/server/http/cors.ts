/**
 * The origin policy (docs/contract.md §11, issue 12 item 3): which web pages may drive Transit
 * through a browser. A browser names the page's origin in `Origin`; clients outside browsers
 * (agents, scripts, curl) send none and are not concerned. Allowed: the server's own origin
 * (GraphiQL, served here) and the origins of `TRANSIT_CORS_ORIGINS`; any other, the opaque `null`
 * of a sandboxed page included, is refused, the preflight and the request itself alike, with
 * ORIGIN_NOT_ALLOWED (HTTP 403) and no CORS header. WebSocket upgrades follow the same policy
 * (websocket.ts): browsers apply no CORS to WebSockets at all.
 *
 * yoga's own CORS handling is off: it answers every preflight with the caller's origin and
 * `allow-credentials: true`, which is how any page could drive an open-mode Transit.
 */
import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { RequestErrorCode } from '../../schema/errors.js';
import { CSRF_HEADER } from './http-refusals.js';

/** Whether a browser page of `origin` may call this server, reached as `host` (the Host header). */
export type OriginPolicy = (origin: string, host: string | null) => 'same' | 'allowed' | 'refused';

/** Headers a page of an allowed origin may send (its preflight asks for them). */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'accept', CSRF_HEADER];
const PREFLIGHT_MAX_AGE_S = 600;

/** An origin as browsers send it: scheme, host and port only. Null for anything else. */
export function canonicalOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.origin !== value.replace(/\/$/, '').toLowerCase() && url.origin !== value) return null;
  return url.origin;
}

export function originPolicy(allowed: readonly string[]): OriginPolicy {
  const origins = new Set(allowed.map((o) => canonicalOrigin(o) ?? o));
  return (origin, host) => {
    const canonical = canonicalOrigin(origin);
    if (canonical === null) return 'refused';
    if (host !== null && new URL(canonical).host === host.toLowerCase()) return 'same';
    return origins.has(canonical) ? 'allowed' : 'refused';
  };
}

/** For a WebSocket upgrade: refused only when a browser names an origin the policy refuses. */
export const upgradeAllowed = (policy: OriginPolicy, request: IncomingMessage): boolean =>
  request.headers.origin === undefined || policy(request.headers.origin, request.headers.host ?? null) !== 'refused';

const refusedBody = (origin: string) =>
  JSON.stringify({
    errors: [
      {
        message: `a page of origin ${JSON.stringify(origin)} may not call Transit: only its own origin and those of TRANSIT_CORS_ORIGINS may`,
        extensions: { code: RequestErrorCode.ORIGIN_NOT_ALLOWED },
      },
    ],
  });

export function useCorsPolicy(policy: OriginPolicy): Plugin {
  const allowedOrigin = new WeakMap<Request, string>();
  return {
    onRequest({ request, fetchAPI, endResponse }) {
      const origin = request.headers.get('origin');
      if (origin === null) return;
      const verdict = policy(origin, request.headers.get('host'));
      if (verdict === 'refused') {
        endResponse(new fetchAPI.Response(refusedBody(origin), { status: 403, headers: { 'content-type': 'application/json; charset=utf-8', vary: 'Origin' } }));
        return;
      }
      if (verdict === 'same') return;
      allowedOrigin.set(request, origin);
      if (request.method.toUpperCase() !== 'OPTIONS') return;
      endResponse(
        new fetchAPI.Response(null, {
          status: 204,
          headers: {
            'content-length': '0',
            'access-control-allow-origin': origin,
            'access-control-allow-methods': 'GET, POST',
            'access-control-allow-headers': ALLOWED_HEADERS.join(', '),
            'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
            vary: 'Origin',
          },
        }),
      );
    },
    onResponse({ request, response }) {
      const origin = allowedOrigin.get(request);
      if (origin === undefined || request.method.toUpperCase() === 'OPTIONS') return;
      response.headers.set('access-control-allow-origin', origin);
      response.headers.append('vary', 'Origin');
    },
  };
}
