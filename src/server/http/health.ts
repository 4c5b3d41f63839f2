/**
 * `GET /health`: 200 with the engine's epoch, latest cursor and open subscriptions while serving,
 * 503 once shutting down (or once the table failed stop), so a load balancer stops sending new clients first.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const HEALTH_PATH = '/health';

export interface HealthReport {
  readonly status: 'ok' | 'stopping' | 'failed';
  readonly epoch: string;
  readonly cursor: string;
  readonly subscriptions: number;
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
