/**
 * Cursors as clients see them. Transitions and events carry the domain's log cursor
 * (`formatCursor(epoch, seq)`), the same text in a query page and in a subscription's `after`.
 * Pages of VMs and migrations carry an opaque cursor over the domain's `ordinal`, tied to the
 * engine epoch so that a cursor from before a restart is refused instead of paging a new list.
 */
import { GraphQLError } from 'graphql';
import { formatCursor } from '../domain/table/cursor.js';
import type { CursorProblem } from '../domain/table/read-side.js';
import type { MigrationTable } from '../domain/table/table.js';

/** What reading a cursor needs: the engine run it belongs to, and where that run's log stands. */
/** What reading a log cursor (transitions, events) needs. */
export type LogCursorReader = Pick<MigrationTable, 'epoch' | 'cursor' | 'resolveCursor'>;
/** What reading any cursor, page cursors of `vms` and `migrations` included, needs. */
export type CursorReader = LogCursorReader & Pick<MigrationTable, 'resolvePageCursor'>;
import { RequestErrorCode, requestError } from './errors.js';

/** Default and largest page of `vms`, `migrations` and `events`. */
export const PAGE_SIZE = Object.freeze({ default: 50, max: 1_000 });

export const logCursor = (table: LogCursorReader, seq: number): string => formatCursor(table.epoch, seq);

/**
 * The sequence number a log cursor stands for, or the error the client receives: RESYNC_REQUIRED
 * for another engine run, INVALID_CURSOR for text this engine did not hand out.
 */
export function logPosition(table: LogCursorReader, cursor: string): number | GraphQLError {
  const resolved = table.resolveCursor(cursor);
  return resolved.ok ? resolved.seq : cursorError(table, cursor, resolved.reason);
}

/** The request error for a cursor the table could not resolve, the same for log and page cursors. */
function cursorError(table: LogCursorReader, cursor: string, reason: CursorProblem): GraphQLError {
  switch (reason) {
    case 'OTHER_EPOCH':
      return requestError(
        RequestErrorCode.RESYNC_REQUIRED,
        `cursor ${cursor} is from another engine run (now ${table.epoch}): query the current state again (from the first page), then subscribe without a cursor`,
      );
    case 'FUTURE':
      return requestError(RequestErrorCode.INVALID_CURSOR, `cursor ${cursor} is ahead of this engine: it was not handed out by it`);
    case 'MALFORMED':
      return requestError(RequestErrorCode.INVALID_CURSOR, `"${cursor}" is not a cursor: pass one handed out in a \`cursor\`, \`endCursor\` or edge \`cursor\` field`);
  }
}

/** The sequence number a log cursor stands for (0 without a cursor); throws the request error when it cannot be read. */
export function readLogCursor(table: LogCursorReader, cursor: string | null | undefined): number {
  if (cursor == null) return 0;
  const position = logPosition(table, cursor);
  if (position instanceof GraphQLError) throw position;
  return position;
}

export const pageCursor = (table: CursorReader, ordinal: number): string =>
  Buffer.from(formatCursor(table.epoch, ordinal), 'utf8').toString('base64url');

/** The ordinal a page cursor of `list` stands for (0 without a cursor); throws the request error when it cannot be read. */
export function readPageCursor(table: CursorReader, list: 'vms' | 'migrations' | 'evacuations', cursor: string | null | undefined): number {
  if (cursor == null) return 0;
  const resolved = table.resolvePageCursor(list, Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!resolved.ok) throw cursorError(table, cursor, resolved.reason);
  return resolved.ordinal;
}

/** The page size asked for, checked against `PAGE_SIZE.max`. */
export function pageSize(first: number | null | undefined): number {
  if (first == null) return PAGE_SIZE.default;
  if (first < 0 || first > PAGE_SIZE.max) {
    throw requestError(RequestErrorCode.BAD_USER_INPUT, `first must be between 0 and ${PAGE_SIZE.max}, got ${first}`);
  }
  return first;
}

export interface PageShape<T> {
  readonly edges: readonly { readonly cursor: string; readonly node: T }[];
  readonly pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** A Relay connection over a page the table returned. */
export function connection<T>(page: { readonly items: readonly T[]; readonly hasNextPage: boolean }, cursorOf: (item: T) => string): PageShape<T> {
  const edges = page.items.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges[edges.length - 1]?.cursor ?? null,
    },
  };
}
