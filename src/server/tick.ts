/**
 * The engine's clock, driven from outside the domain: every `intervalMs` the table reads its clock
 * and fires what is due (host timeouts, start timeouts). A timeout fires at most `intervalMs` late.
 */
import type { MigrationTable } from '../domain/table/table.js';

/** Starts ticking; returns the function that stops it. */
export function startTicking(table: MigrationTable, intervalMs: number, onError: (error: unknown) => void): () => void {
  const timer = setInterval(() => {
    try {
      table.tick();
    } catch (error) {
      onError(error);
    }
  }, intervalMs);
  timer.unref(); // the servers keep the process alive, not the clock
  return () => clearInterval(timer);
}
