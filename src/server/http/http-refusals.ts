/**
 * Refusals of an HTTP request before it is parsed, each with its code:
 * - CSRF prevention (yoga's plugin): a request a browser would send cross-site without a CORS
 *   preflight (a GET, or a POST as a form or `text/plain`) must carry the `x-graphql-yoga-csrf`
 *   header, which a cross-site page cannot add without the preflight. JSON POSTs are preflighted.
 * - A POST in a content type no GraphQL-over-HTTP parser reads (yoga answers an empty 415).
 * - A body that is no GraphQL request (invalid JSON, no query: a persisted-query extension alone)
 *   is 400 BAD_REQUEST whichever JSON type the client accepts, and says nothing of the parser.
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { RequestErrorCode } from '../../schema/errors.js';
import { refusal } from '../security/refusal.js';

/** The header a browser-side client sends with a GET (or a form-like POST) to show it is not a cross-site request. */
export const CSRF_HEADER = 'x-graphql-yoga-csrf';

export function useCsrfPrevention(): Plugin {
  const { onRequestParse } = useCSRFPrevention({ requestHeaders: [CSRF_HEADER] });
  return {
    onRequestParse(payload) {
      try {
        return onRequestParse?.(payload);
      } catch {
        throw refusal(RequestErrorCode.CSRF_HEADER_REQUIRED, `a GET or a form-like POST must carry the ${CSRF_HEADER} header (or POST application/json)`, { status: 403 });
      }
    },
  };
}

/** Must come after yoga's request parsers (user plugins do): it sees whether one of them matched. */
export function useSupportedMediaTypes(): Plugin {
  return {
    onRequestParse({ request, requestParser }) {
      if (requestParser !== undefined && requestParser !== null) return;
      throw refusal(
        RequestErrorCode.UNSUPPORTED_MEDIA_TYPE,
        `content type ${JSON.stringify(request.headers.get('content-type'))} is not supported: POST application/json`,
        { status: 415 },
      );
    },
  };
}

/**
 * yoga answers a malformed request 200 when the client accepts only `application/json` (the
 * GraphQL-over-HTTP spec lets it), and puts the JSON parser's own error in
 * `extensions.originalError` despite masking. Every refusal of the request itself is a 400 here,
 * as the others are, and carries its code and message only (docs/contract.md §11, issue 12 item 10).
 */
export function useUniformBadRequests(): Plugin {
  const uniform = (error: GraphQLError): GraphQLError => {
    const http = error.extensions.http as { spec?: unknown; status?: unknown } | undefined;
    if (error.extensions.code !== RequestErrorCode.BAD_REQUEST || (http?.spec === undefined && error.extensions.originalError === undefined)) return error;
    const { originalError: _parserError, http: _http, ...extensions } = error.extensions;
    const { spec: _spec, ...status } = http ?? {};
    return new GraphQLError(error.message, { extensions: { ...extensions, http: { ...status, status: 400 } } });
  };
  return {
    onResultProcess({ result, setResult }) {
      if (isAsyncIterable(result)) return;
      const results = Array.isArray(result) ? result : [result];
      if (!results.some((r) => r.errors?.some((e) => e instanceof GraphQLError && uniform(e) !== e))) return;
      const fixed = results.map((r) => (r.errors === undefined ? r : { ...r, errors: r.errors.map((e) => (e instanceof GraphQLError ? uniform(e) : e)) }));
      setResult(Array.isArray(result) ? fixed : (fixed[0] as (typeof fixed)[number]));
    },
  };
}
