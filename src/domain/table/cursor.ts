/**
 * Cursors of the transition and event logs: the engine epoch and a sequence number that strictly
 * increases within it. A new epoch starts with every engine start, so a cursor from before a
 * restart is recognised and refused (RESYNC_REQUIRED) instead of being read against a new history.
 */
export interface LogPosition {
  readonly epoch: string;
  readonly seq: number;
}

const SEPARATOR = ':';

export const formatCursor = (epoch: string, seq: number): string => `${epoch}${SEPARATOR}${seq}`;

/** Null when the text is not a cursor at all. */
export function parseCursor(text: string): LogPosition | null {
  const at = text.lastIndexOf(SEPARATOR);
  if (at <= 0) return null;
  const epoch = text.slice(0, at);
  const digits = text.slice(at + 1);
  if (!/^(0|[1-9][0-9]{0,15})$/.test(digits)) return null;
  const seq = Number(digits);
  return Number.isSafeInteger(seq) ? { epoch, seq } : null;
}
