/**
 * `GET /health`: 200 with the process's role (engine or replica), the engine's epoch, the latest
 * cursor and open subscriptions while serving, 503 once shutting down (or once the table failed
 * stop), so a load balancer stops sending new clients first. A replica answers 200: it serves every
 * client (docs/contract.md §13).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const HEALTH_PATH = '/health';

export interface HealthReport {
  readonly status: 'ok' | 'stopping' | 'failed';
  /**
   * `engine`: this process owns the table and applies every command (always, in one process).
   * `replica` (clustered mode): it serves subscriptions and passes the rest to the engine.
   */
  readonly role: 'engine' | 'replica';
  /** The engine's epoch as this process knows it (null: a replica that knows of no engine yet). */
  readonly epoch: string | null;
  readonly cursor: string;
  readonly subscriptions: number;
  /** Clustered mode: whether this process reached Redis at its latest attempt (`connecting` before its first answered). */
  readonly redis?: 'connecting' | 'reachable' | 'unreachable';
  /** Clustered mode, on a replica: the engine's `/graphql` it forwards to; null while it knows of none. */
  readonly engine?: string | null;
}

/** Answers the request when it is a health check; false when it is not one (yoga serves it). */
export function serveHealth(req: IncomingMessage, res: ServerResponse, report: () => HealthReport): boolean {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== HEALTH_PATH) return false;
  const body = report();
  res.writeHead(body.status === 'ok' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body));
  return true;
}
