/** Why Transit could not start, in one line for a person: the setting to change when it is one. */
import type { Config } from '../../config.js';

export function startFailure(error: unknown, config?: Pick<Config, 'host' | 'port'>): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (config !== undefined && code === 'EADDRINUSE') {
    return `port ${config.port} on ${config.host} is already in use (another Transit?): stop it, or set PORT to a free port (e.g. PORT=${config.port + 1} npm start)`;
  }
  if (config !== undefined && code === 'EADDRNOTAVAIL') {
    return `${config.host} is not an address of this machine: set HOST (default 127.0.0.1)`;
  }
  if (config !== undefined && code === 'EACCES') {
    return `not allowed to listen on port ${config.port}: set PORT to a port above 1023`;
  }
  return error instanceof Error ? error.message : String(error);
}
