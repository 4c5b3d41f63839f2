/**
 * A subscription result serialized once, in the bytes each transport sends: the JSON payload, a
 * graphql-transport-ws `next` message and an SSE `next` event. Subscribers of one operation share
 * one `EncodedResult` per item, so a result reaching a thousand sockets is serialized once, and
 * every SSE subscriber (and every WebSocket subscriber using the same operation id) is written the
 * very same buffer.
 *
 * The payload is what yoga and graphql-ws would send: the result as JSON, its errors as their
 * `toJSON()`, without the internal extensions (`http`, `unexpected`) that mean nothing to a client.
 */
import type { ExecutionResult, GraphQLError } from 'graphql';

/** An error as a client sees it: its JSON form without the server's internal extensions. */
function publicError(error: GraphQLError | Error): unknown {
  const json = typeof (error as GraphQLError).toJSON === 'function' ? (error as GraphQLError).toJSON() : { message: error.message };
  const extensions = (json as { extensions?: Record<string, unknown> }).extensions;
  if (extensions === undefined || (!('http' in extensions) && !('unexpected' in extensions))) return json;
  const { http: _http, unexpected: _unexpected, ...rest } = extensions;
  const { extensions: _extensions, ...withoutExtensions } = json as unknown as Record<string, unknown>;
  return Object.keys(rest).length > 0 ? { ...withoutExtensions, extensions: rest } : withoutExtensions;
}

/** The JSON text of a result as a client receives it (`{"data":...}` or with `errors`). */
export function serializeResult(result: ExecutionResult): string {
  if (result.errors === undefined && result.extensions === undefined) return JSON.stringify(result);
  const { errors, extensions, ...rest } = result;
  const publicExtensions = extensions === undefined ? undefined : Object.fromEntries(Object.entries(extensions).filter(([key]) => key !== 'http'));
  return JSON.stringify({
    ...rest,
    ...(errors === undefined ? {} : { errors: errors.map(publicError) }),
    ...(publicExtensions === undefined || Object.keys(publicExtensions).length === 0 ? {} : { extensions: publicExtensions }),
  });
}

const CLOSE = Buffer.from('}');
const SSE_OPEN = Buffer.from('event: next\ndata: ');
const SSE_CLOSE = Buffer.from('\n\n');

/** The head of a graphql-transport-ws `next` message up to its payload: `{"id":"<id>","type":"next","payload":`. */
export const wsNextHead = (id: string): Buffer => Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);

export class EncodedResult {
  private payloadBytes: Buffer | null = null;
  private sse: Buffer | null = null;
  /** The last `next` message built, and the operation id it was built for. */
  private wsId: string | null = null;
  private ws: Buffer | null = null;

  constructor(readonly json: string) {}

  static of(result: ExecutionResult): EncodedResult {
    return new EncodedResult(serializeResult(result));
  }

  private get payload(): Buffer {
    return (this.payloadBytes ??= Buffer.from(this.json));
  }

  /**
   * The graphql-transport-ws `next` message of operation `id` (`head` is `wsNextHead(id)`): the
   * bytes graphql-ws's `stringifyMessage` makes. Subscribers with the same id get the same buffer.
   */
  wsNext(id: string, head: Buffer): Buffer {
    if (this.wsId !== id || this.ws === null) {
      const payload = this.payload;
      this.ws = Buffer.concat([head, payload, CLOSE], head.length + payload.length + 1);
      this.wsId = id;
    }
    return this.ws;
  }

  /** The SSE event yoga writes for a result: `event: next`, then the payload as `data`. */
  sseNext(): Buffer {
    if (this.sse === null) {
      const payload = this.payload;
      this.sse = Buffer.concat([SSE_OPEN, payload, SSE_CLOSE], SSE_OPEN.length + payload.length + SSE_CLOSE.length);
    }
    return this.sse;
  }
}
