/**
 * A GraphQL-over-SSE client on `fetch` (yoga's "distinct connections" mode), parsing the event
 * stream by hand: `event: next` carries a result, `event: complete` ends it, lines starting with
 * `:` are keep-alive comments.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type FormattedExecutionResult } from 'graphql';
import { ResultStream } from './result-stream.js';

export interface SseSubscription<R> extends ResultStream<R> {
  /** Closes the connection. */
  cancel(): void;
  /** Stops reading the response body (the connection stays open); `resume` reads on. */
  pause(): void;
  resume(): void;
}

/** `headers`: more request headers (a bearer token). */
export function subscribeSse<R, V>(url: string, document: TypedDocumentNode<R, V>, variables?: V, headers: Record<string, string> = {}): SseSubscription<R> {
  const stream = new ResultStream<R>() as SseSubscription<R>;
  const abort = new AbortController();
  let paused: { resume: () => void; wait: Promise<void> } | null = null;
  stream.cancel = () => abort.abort();
  stream.pause = () => {
    if (paused !== null) return;
    let resume = () => undefined as void;
    const wait = new Promise<void>((resolve) => (resume = resolve));
    paused = { resume, wait };
  };
  stream.resume = () => {
    const p = paused;
    paused = null;
    p?.resume();
  };

  const dispatch = (block: string) => {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (event === 'next') stream.push(JSON.parse(data.join('\n')) as FormattedExecutionResult<R>);
    else if (event === 'complete') stream.end({ kind: 'complete' });
  };

  void (async () => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
        body: JSON.stringify({ query: print(document), variables }),
        signal: abort.signal,
      });
      if (response.body === null) throw new Error(`no body (HTTP ${response.status})`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        while (paused !== null) await (paused as { wait: Promise<void> }).wait;
        const { done, value } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
      stream.end({ kind: 'complete' });
    } catch (error) {
      stream.end({ kind: 'error', error });
    }
  })();
  return stream;
}
