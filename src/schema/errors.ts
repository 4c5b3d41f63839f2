/**
 * Refusals of a request itself, as GraphQL errors with a stable `extensions.code` (docs/contract.md §6).
 * Mutation refusals are not here: they are data (`UserError`), returned in the payload.
 */
import { GraphQLError } from 'graphql';

export const RequestErrorCode = {
  /** The cursor is from another engine run, or older than the kept history: re-query, then subscribe afresh. */
  RESYNC_REQUIRED: 'RESYNC_REQUIRED',
  /** The subscriber fell too far behind; resume with the cursor of the last item received. */
  SUBSCRIBER_TOO_SLOW: 'SUBSCRIBER_TOO_SLOW',
  /** The text given as a cursor is not one this engine hands out. */
  INVALID_CURSOR: 'INVALID_CURSOR',
  /** An argument is out of its range (`first` above the page limit, ...). */
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /** No credential, or one Transit does not know (HTTP 401). */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The credential's role may not do this, or a host credential spoke for another host (HTTP 403). */
  FORBIDDEN: 'FORBIDDEN',
  /** The credential ran more mutations than its rate allows; retry after `extensions.retryAfterMs` (HTTP 429). */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The graphql-ws connection already has as many operations open as it may. */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
  /** The operation nests deeper than the depth limit. */
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  /** The operation's estimated cost is above the cost limit. */
  QUERY_TOO_COSTLY: 'QUERY_TOO_COSTLY',
  /** The operation has more aliases than the alias limit. */
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  /** The operation has more directives than the directive limit. */
  TOO_MANY_DIRECTIVES: 'TOO_MANY_DIRECTIVES',
  /** The document has more tokens than the token limit (pass big inputs as variables). */
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  /** A browser-like request (GET, or a form or text/plain POST) without the CSRF header (HTTP 403). */
  CSRF_HEADER_REQUIRED: 'CSRF_HEADER_REQUIRED',
  /** A POST whose content type is not JSON (or another GraphQL-over-HTTP type) (HTTP 415). */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** A browser request from a page of an origin Transit does not serve (TRANSIT_CORS_ORIGINS) (HTTP 403). */
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  /** Every connection Transit accepts at once is taken, by clients that have authenticated (HTTP 503, `Retry-After`). */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** The credential already holds as many subscriptions as it may, SSE and graphql-ws together. */
  TOO_MANY_SUBSCRIPTIONS_FOR_CREDENTIAL: 'TOO_MANY_SUBSCRIPTIONS_FOR_CREDENTIAL',
  /** The server already serves as many subscriptions as it may, all clients together. */
  TOO_MANY_SUBSCRIPTIONS_ON_SERVER: 'TOO_MANY_SUBSCRIPTIONS_ON_SERVER',
  /** A body that is no GraphQL request: invalid JSON, no query, a batch (HTTP 400; yoga's code). */
  BAD_REQUEST: 'BAD_REQUEST',
  /**
   * Clustered mode: no engine can apply or answer this now (a takeover is under way, or Redis
   * cannot be reached, so no process can prove it holds the lease). Nothing was applied; retry
   * (HTTP 503, `Retry-After`). A subscription ended with it resumes from its last cursor.
   */
  ENGINE_UNAVAILABLE: 'ENGINE_UNAVAILABLE',
} as const;
export type RequestErrorCode = (typeof RequestErrorCode)[keyof typeof RequestErrorCode];

export const requestError = (code: RequestErrorCode, message: string): GraphQLError =>
  new GraphQLError(message, { extensions: { code } });

/**
 * What a subscription stream yields: an item, or the error that ends it. The error travels as an
 * item, not as a throw, because a resolver error becomes a GraphQL error result (`next` with
 * `errors`, then `complete`) identically over graphql-ws and SSE, whereas an error thrown by the
 * source stream reaches a graphql-ws client as a protocol `error` message and an SSE client as an
 * error result: one behaviour for both transports.
 */
export type Delivery<T> = T | GraphQLError;

/** The subscription resolver's one line: pass an item on, or end the stream with its error. */
export function deliver<T>(item: Delivery<T>): T {
  if (item instanceof GraphQLError) throw item;
  return item;
}
