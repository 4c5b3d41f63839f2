/**
 * Refusals of an HTTP request before it is parsed, each with its code:
 * - CSRF prevention (yoga's plugin): a request a browser would send cross-site without a CORS
 *   preflight (a GET, or a POST as a form or `text/plain`) must carry the `x-graphql-yoga-csrf`
 *   header, which a cross-site page cannot add without the preflight. JSON POSTs are preflighted.
 * - A POST in a content type no GraphQL-over-HTTP parser reads (yoga answers an empty 415).
 */
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
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
