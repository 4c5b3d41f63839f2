/**
 * `useSseBroadcast`: GraphQL over SSE (yoga's "distinct connections" mode: one request, one
 * subscription) through the broadcast path. yoga reads the request as for any other (CSRF,
 * authentication, limits, parse, validate, authorization); when the subscription's source is a
 * subscriber stream, this plugin answers with an event stream that a `Delivery` writes: each
 * result's `event: next` serialized once and the same buffer written to every SSE subscriber of
 * the operation, instead of yoga's per-subscriber web stream (a promise chain and a serialization
 * per message per subscriber).
 *
 * The bytes are yoga's: the same headers, a first `:` comment (some browsers wait for a first chunk),
 * `event: next` / `data: <result>` per result, `event: complete` at the end, a `:` keep-alive
 * comment every 12 s. Any other result (a refusal, a multipart request) is left to yoga.
 */
import { Readable } from 'node:stream';
import { GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { Delivery, type FrameSink } from './delivery.js';
import { EncodedResult } from './encoded-result.js';
import type { BroadcastHandle, SharedSubscriptions } from './shared-subscription-results.js';

const KEEP_ALIVE_MS = 12_000;
const COMMENT = Buffer.from(':\n\n');
const COMPLETE = Buffer.from('event: complete\ndata:\n\n');
const HEADERS = { 'Content-Type': 'text/event-stream', Connection: 'keep-alive', 'Cache-Control': 'no-cache', 'Content-Encoding': 'none' };

/** The open event streams, kept alive by one timer for all. */
const open = new Set<Readable>();
let keepAlive: NodeJS.Timeout | null = null;

function track(body: Readable): void {
  open.add(body);
  keepAlive ??= setInterval(() => {
    for (const stream of open) if (stream.readableLength === 0) stream.push(COMMENT);
  }, KEEP_ALIVE_MS).unref();
}

function untrack(body: Readable): void {
  open.delete(body);
  if (open.size === 0 && keepAlive !== null) {
    clearInterval(keepAlive);
    keepAlive = null;
  }
}

/** The event stream of one subscriber: a byte stream the server adapter pipes to the response. */
function eventStream(handle: BroadcastHandle, subscriptions: SharedSubscriptions, release: () => void): Readable {
  let wantsMore = true;
  let delivery: Delivery | null = null;
  const body = new Readable({
    read() {
      wantsMore = true;
      delivery?.resume();
    },
    destroy(error, callback) {
      // The client went away (the adapter destroys the body when the response closes).
      untrack(body);
      delivery?.stop();
      callback(error);
    },
  });
  const sink: FrameSink = {
    get writable() {
      return wantsMore && !body.destroyed;
    },
    write(result: EncodedResult) {
      wantsMore = body.push(result.sseNext());
    },
    complete() {
      untrack(body);
      body.push(COMPLETE);
      body.push(null);
    },
    fail(error) {
      const original = error instanceof Error ? error : new Error(String(error));
      sink.write(EncodedResult.of({ errors: [new GraphQLError('Unexpected error.', { originalError: original })] }));
      sink.complete();
    },
  };
  body.push(COMMENT);
  track(body);
  delivery = new Delivery(handle.stream, handle.encode, sink, subscriptions.scheduler, release);
  return body;
}

export function useSseBroadcast(subscriptions: SharedSubscriptions): Plugin {
  return {
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      // For a subscription, yoga only chooses a processor for an async result when the client
      // accepts text/event-stream: with none chosen, yoga answers 406 itself.
      if (resultProcessor === undefined || !isAsyncIterable(result)) return;
      const handle = subscriptions.take(request);
      if (handle === null) return;
      const iterator = result[Symbol.asyncIterator]();
      const release = () => void iterator.return?.()?.catch(() => undefined);
      setResultProcessor((_result, fetchAPI) => new fetchAPI.Response(eventStream(handle, subscriptions, release) as unknown as BodyInit, { status: 200, headers: HEADERS }), 'text/event-stream');
    },
  };
}
