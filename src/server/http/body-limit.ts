/**
 * `useBodyLimit`: refuses a request body above `limitBytes` with 413 REQUEST_ENTITY_TOO_LARGE (and
 * an invalid `Content-Length` with 400 BAD_REQUEST), as yoga's `maxRequestBodySize` does, but
 * without its cost on every request: yoga re-creates each request with its body piped through a
 * web `TransformStream` that counts the bytes, even when `Content-Length` already says how many
 * there are, which made a host's report read its 7 KB body through a chain of web streams
 * (docs/BENCHMARKS.md, HTTP ingestion). Node's HTTP parser delivers exactly `Content-Length`
 * bytes, so a request that declares a length within the limit needs nothing more; only a request
 * without one (chunked) has its body counted as it is read.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const CONTENT_LENGTH = /^\d+$/;

const tooLarge = () => new GraphQLError('Request body too large', { extensions: { http: { status: 413 }, code: 'REQUEST_ENTITY_TOO_LARGE' } });
const invalidLength = () => new GraphQLError('Content-Length header is invalid.', { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });

export function useBodyLimit(limitBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length !== null) {
        if (!CONTENT_LENGTH.test(length)) throw invalidLength();
        if (Number(length) > limitBytes) throw tooLarge();
        return; // the parser reads exactly that many bytes
      }
      const body = request.body;
      if (requestParser === undefined || body === null) return;
      const parse = requestParser;
      setRequestParser((req) => {
        let read = 0;
        // A native web stream takes the native TransformStream (yoga does the same: the ponyfill's does not mix with it).
        const Transform = body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const counted = body.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limitBytes) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, signal: req.signal, body: counted, duplex: 'half' } as RequestInit));
      });
    },
  };
}
