/**
 * The connection policy (docs/contract.md §11, issue 12 item 4): no client, with or without a
 * token, can take every connection and leave `/health` and the host agents without one.
 *
 * - A request's headers must arrive within `headersTimeoutMs`, the whole request within
 *   `requestTimeoutMs` (Node's `headersTimeout` and `requestTimeout`, checked every
 *   `CHECK_INTERVAL_MS` instead of Node's 30 s): a client sending slowly is answered 408 and closed.
 * - A request to the GraphQL endpoint without a valid token is refused at its headers, before its
 *   body is read (authentication.ts, `refuseAtHeaders`), and its connection closed.
 * - At most `maxConnections` TCP connections are open at once. A connection is *pending* until it
 *   has authenticated: an HTTP request on it passed the header check, or its WebSocket's
 *   `connection_init` was accepted. At the cap, the oldest pending connection is closed for the
 *   newcomer (a flood of slow or silent connections only ever displaces itself); when none is
 *   pending, the newcomer is answered 503 TOO_MANY_CONNECTIONS and closed.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { RequestErrorCode } from '../../schema/errors.js';

/** How often Node looks for requests past their headers or request timeout. */
export const CHECK_INTERVAL_MS = 250;

export interface ConnectionOptions {
  readonly maxConnections: number;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** The answer to a connection beyond the cap: written raw, before its request is read. */
function tooManyConnections(max: number): string {
  const body = JSON.stringify({
    errors: [{ message: `Transit holds its ${max} connections (TRANSIT_MAX_CONNECTIONS), all authenticated: retry shortly`, extensions: { code: RequestErrorCode.TOO_MANY_CONNECTIONS } }],
  });
  return [
    'HTTP/1.1 503 Service Unavailable',
    'content-type: application/json; charset=utf-8',
    'retry-after: 1',
    'connection: close',
    `content-length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

export class ConnectionGuard {
  private open = 0;
  /** Connections that have not authenticated yet, oldest first (a Map keeps insertion order). */
  private readonly pending = new Map<Socket, true>();
  /** Connections counted in `open` (an evicted one is released before its `close` event). */
  private readonly counted = new WeakSet<Socket>();
  private refusedCount = 0;
  private evictedCount = 0;

  constructor(
    server: Server,
    private readonly options: ConnectionOptions,
  ) {
    server.headersTimeout = options.headersTimeoutMs;
    server.requestTimeout = options.requestTimeoutMs;
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** Connections open now. */
  get count(): number {
    return this.open;
  }

  /** Connections open now that have not authenticated yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Connections refused at the cap, and pending ones closed for a newcomer, since the start. */
  get totals(): { refused: number; evicted: number } {
    return { refused: this.refusedCount, evicted: this.evictedCount };
  }

  /** The connection's client has authenticated: it is no longer closed for a newcomer. */
  authenticated(socket: Socket): void {
    this.pending.delete(socket);
  }

  private admit(socket: Socket): void {
    if (this.open >= this.options.maxConnections) {
      const oldest = this.pending.keys().next();
      if (oldest.done === true) {
        this.refusedCount++;
        socket.on('error', () => undefined);
        socket.end(tooManyConnections(this.options.maxConnections));
        socket.destroySoon();
        return;
      }
      this.evictedCount++;
      this.release(oldest.value); // its `close` event comes later: the newcomer takes its place now
      oldest.value.destroy();
    }
    this.open++;
    this.counted.add(socket);
    this.pending.set(socket, true);
    socket.once('close', () => this.release(socket));
  }

  private release(socket: Socket): void {
    this.pending.delete(socket);
    if (this.counted.delete(socket)) this.open--;
  }
}
