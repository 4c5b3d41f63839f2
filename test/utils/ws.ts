/**
 * The real graphql-ws client over `ws`, with a handle on the sockets it opens so that a test can
 * make the client stop reading (`pause`) or lose its connection (`drop`).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type FormattedExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { ResultStream } from './result-stream.js';

export interface WsClient {
  readonly client: Client;
  /** The client's current socket. */
  socket(): WebSocket;
  /** Closes the client (and its socket) normally. */
  dispose(): Promise<void>;
}

export function wsClient(url: string): WsClient {
  const sockets: WebSocket[] = [];
  class TrackedSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  const client = createClient({ url, webSocketImpl: TrackedSocket, retryAttempts: 0, lazy: true });
  return {
    client,
    socket() {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error('no socket opened yet');
      return socket;
    },
    dispose: async () => client.dispose(),
  };
}

export interface WsSubscription<R> extends ResultStream<R> {
  unsubscribe(): void;
}

export function subscribeWs<R, V>(ws: WsClient, document: TypedDocumentNode<R, V>, variables?: V): WsSubscription<R> {
  const stream = new ResultStream<R>() as WsSubscription<R>;
  const unsubscribe = ws.client.subscribe<R>(
    { query: print(document), variables: variables as Record<string, unknown> | undefined },
    {
      next: (result) => stream.push(result as FormattedExecutionResult<R>),
      error: (error) => stream.end({ kind: 'error', error }),
      complete: () => stream.end({ kind: 'complete' }),
    },
  );
  stream.unsubscribe = unsubscribe;
  return stream;
}

/** Resolves when the socket is open. */
export function opened(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.OPEN) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
}

/** Resolves with the close code once the socket is closed. */
export function closed(socket: WebSocket): Promise<number> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}
