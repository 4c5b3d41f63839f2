/**
 * The connection policy (docs/contract.md §11, issue 12 item 4): no client, with or without a
 * token, can take every connection and leave `/health` and the host agents without one.
 *
 * - A request's headers must arrive within `headersTimeoutMs`, the whole request within
 *   `requestTimeoutMs`, both checked every `CHECK_INTERVAL_MS` (Node checks every 30 s): a client
 *   sending slowly is answered 408 and closed. A connection's first head is timed here, oldest
 *   first and at most `SWEEP_BUDGET` a sweep; later ones, and bodies, by Node's `requestTimeout`.
 * - A request to the GraphQL endpoint without a valid token is refused at its headers, before its
 *   body is read (authentication.ts, `refuseAtHeaders`), and its connection closed.
 * - At most `maxConnections` TCP connections are open at once. A connection is *pending* until it
 *   has authenticated: an HTTP request on it passed the header check, or its WebSocket's
 *   `connection_init` was accepted. At the cap, the oldest pending connection is closed for the
 *   newcomer (a flood of slow or silent connections only ever displaces itself); when none is
 *   pending, the newcomer is answered 503 TOO_MANY_CONNECTIONS and closed.
 */
import type { IncomingMessage, Server } from 'node:http';
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

/** The answer to a connection whose request head did not arrive in time, written raw. */
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** Connections closed at most per sweep for a late request head: no sweep is a long step. */
export const SWEEP_BUDGET = 500;

export class ConnectionGuard {
  private open = 0;
  /** Connections that have not authenticated yet, oldest first (a Map keeps insertion order). */
  private readonly pending = new Map<Socket, true>();
  /** Of those, the ones whose first request head has not arrived yet, with when they connected, oldest first. */
  private readonly awaitingHead = new Map<Socket, number>();
  /** Connections counted in `open` (an evicted one is released before its `close` event). */
  private readonly counted = new WeakSet<Socket>();
  private refusedCount = 0;
  private evictedCount = 0;
  private timedOutCount = 0;

  constructor(
    server: Server,
    private readonly options: ConnectionOptions,
  ) {
    // The first head of a connection is timed by the sweep below (oldest first, a budget per
    // sweep: a flood connected at once does not expire in one long step); Node's own check, whose
    // expiry handles every late connection in one go, stays as the backstop for later requests.
    server.headersTimeout = options.requestTimeoutMs;
    server.requestTimeout = options.requestTimeoutMs;
    server.on('connection', (socket: Socket) => this.admit(socket));
    const headArrived = (req: IncomingMessage) => this.awaitingHead.delete(req.socket);
    server.prependListener('request', headArrived);
    server.prependListener('upgrade', headArrived);
    const sweep = setInterval(() => this.sweep(Date.now()), CHECK_INTERVAL_MS);
    sweep.unref();
    server.once('close', () => clearInterval(sweep));
  }

  /** Connections open now. */
  get count(): number {
    return this.open;
  }

  /** Connections open now that have not authenticated yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Connections refused at the cap, pending ones closed for a newcomer, and heads too late, since the start. */
  get totals(): { refused: number; evicted: number; timedOut: number } {
    return { refused: this.refusedCount, evicted: this.evictedCount, timedOut: this.timedOutCount };
  }

  /** The connection's client has authenticated: it is no longer closed for a newcomer. */
  authenticated(socket: Socket): void {
    this.pending.delete(socket);
  }

  private admit(socket: Socket): void {
    if (this.open >= this.options.maxConnections) {
      // The oldest still sending its head goes first, then the oldest unauthenticated.
      const oldest = this.awaitingHead.keys().next().value ?? this.pending.keys().next().value;
      if (oldest === undefined) {
        this.refusedCount++;
        socket.on('error', () => undefined);
        socket.end(tooManyConnections(this.options.maxConnections));
        socket.destroySoon();
        return;
      }
      this.evictedCount++;
      this.release(oldest); // its `close` event comes later: the newcomer takes its place now
      oldest.destroy();
    }
    this.open++;
    this.counted.add(socket);
    this.pending.set(socket, true);
    this.awaitingHead.set(socket, Date.now());
    socket.once('close', () => this.release(socket));
  }

  /** Answers 408 and closes connections whose first head is later than the headers timeout, oldest first. */
  private sweep(now: number): void {
    let budget = SWEEP_BUDGET;
    for (const [socket, since] of this.awaitingHead) {
      if (budget-- === 0 || now - since < this.options.headersTimeoutMs) break;
      this.timedOutCount++;
      this.release(socket);
      socket.on('error', () => undefined);
      socket.end(REQUEST_TIMEOUT);
      socket.destroySoon();
    }
  }

  private release(socket: Socket): void {
    this.pending.delete(socket);
    this.awaitingHead.delete(socket);
    if (this.counted.delete(socket)) this.open--;
  }
}
