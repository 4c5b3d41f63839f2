/**
 * Transit's settings, read once from the environment into a typed, frozen object.
 * This is the only module that reads `process.env`; everything else receives a `Config`.
 * Every default serves one machine (DESIGN.md §7) and carries its unit in its name.
 */
import { z } from 'zod';
import { DEFAULT_TABLE_SETTINGS } from './domain/table.js';

export interface Config {
  /** Interface to listen on (`HOST`). Default `127.0.0.1`: reachable from this machine only. */
  readonly host: string;
  /** TCP port (`PORT`); 0 picks a free one. Default 4000. */
  readonly port: number;
  /** A host that has not reported for this long becomes NON_RESPONSIVE (`TRANSIT_HOST_TIMEOUT_MS`). Default 60 000. */
  readonly hostTimeoutMs: number;
  /** An attempt its source has not confirmed within this long ends FAILED (`TRANSIT_MIGRATION_START_TIMEOUT_MS`). Default 30 000. */
  readonly migrationStartTimeoutMs: number;
  /** At most this many hosts are tried for one migration (`TRANSIT_MAX_ATTEMPTS`). Default 3. */
  readonly maxAttempts: number;
  /** Transitions, events and decided migrations kept, each, for queries and resume (`TRANSIT_HISTORY_LIMIT`). Default 100 000. */
  readonly historyLimit: number;
  /**
   * How often the engine's clock is read to fire host and start timeouts (`TRANSIT_TICK_INTERVAL_MS`).
   * A timeout fires at most this late. Default 1 000.
   */
  readonly tickIntervalMs: number;
  /**
   * Live items one subscriber may have waiting (not yet written to its connection) before it is
   * ended with SUBSCRIBER_TOO_SLOW (`TRANSIT_SUBSCRIBER_BUFFER_ITEMS`). Counted in items, so a
   * client that stops reading costs at most this many references. It must hold the largest burst
   * one command makes (a full report of a big host) and stay below the history limit, so that the
   * ended subscriber can still resume from its cursor. Default 10 000.
   */
  readonly subscriberBufferItems: number;
}

export const DEFAULT_CONFIG: Config = Object.freeze({
  host: '127.0.0.1',
  port: 4000,
  hostTimeoutMs: DEFAULT_TABLE_SETTINGS.hostTimeoutMs,
  migrationStartTimeoutMs: DEFAULT_TABLE_SETTINGS.migrationStartTimeoutMs,
  maxAttempts: DEFAULT_TABLE_SETTINGS.maxAttempts,
  historyLimit: DEFAULT_TABLE_SETTINGS.historyLimit,
  tickIntervalMs: 1_000,
  subscriberBufferItems: 10_000,
});

const integer = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

const ENVIRONMENT = z
  .object({
    HOST: z.string().min(1).default(DEFAULT_CONFIG.host),
    PORT: integer(0, 65_535).default(DEFAULT_CONFIG.port),
    TRANSIT_HOST_TIMEOUT_MS: integer(1).default(DEFAULT_CONFIG.hostTimeoutMs),
    TRANSIT_MIGRATION_START_TIMEOUT_MS: integer(1).default(DEFAULT_CONFIG.migrationStartTimeoutMs),
    TRANSIT_MAX_ATTEMPTS: integer(1).default(DEFAULT_CONFIG.maxAttempts),
    TRANSIT_HISTORY_LIMIT: integer(1).default(DEFAULT_CONFIG.historyLimit),
    TRANSIT_TICK_INTERVAL_MS: integer(1).default(DEFAULT_CONFIG.tickIntervalMs),
    TRANSIT_SUBSCRIBER_BUFFER_ITEMS: integer(1).default(DEFAULT_CONFIG.subscriberBufferItems),
  })
  .refine((env) => env.TRANSIT_SUBSCRIBER_BUFFER_ITEMS < env.TRANSIT_HISTORY_LIMIT, {
    message: 'must be below TRANSIT_HISTORY_LIMIT, or a subscriber ended as too slow could not resume from its cursor',
    path: ['TRANSIT_SUBSCRIBER_BUFFER_ITEMS'],
  });

/** Reads the settings from `env` (the process environment by default); throws naming each bad variable. */
export function readConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  // An empty variable means "not set", as in most shells' `VAR= command`.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = ENVIRONMENT.safeParse(given);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    host: e.HOST,
    port: e.PORT,
    hostTimeoutMs: e.TRANSIT_HOST_TIMEOUT_MS,
    migrationStartTimeoutMs: e.TRANSIT_MIGRATION_START_TIMEOUT_MS,
    maxAttempts: e.TRANSIT_MAX_ATTEMPTS,
    historyLimit: e.TRANSIT_HISTORY_LIMIT,
    tickIntervalMs: e.TRANSIT_TICK_INTERVAL_MS,
    subscriberBufferItems: e.TRANSIT_SUBSCRIBER_BUFFER_ITEMS,
  });
}
