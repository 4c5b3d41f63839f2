/**
 * A refusal of the request itself by the security layer: a GraphQL error with a stable
 * `extensions.code` and the HTTP status (and headers) yoga answers with. graphql-ws clients get the
 * same error without the `http` part (websocket.ts strips it).
 */
import { GraphQLError } from 'graphql';
import type { RequestErrorCode } from '../../schema/errors.js';

export interface HttpAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export const refusal = (code: RequestErrorCode, message: string, http: HttpAnswer, extensions: Readonly<Record<string, unknown>> = {}): GraphQLError =>
  new GraphQLError(message, { extensions: { ...extensions, code, http } });

/** The error as a graphql-ws client should see it: no HTTP status, which means nothing on a socket. */
export function withoutHttp(error: GraphQLError): GraphQLError {
  if (error.extensions.http === undefined) return error;
  const { http: _http, ...extensions } = error.extensions;
  return new GraphQLError(error.message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions });
}
