/**
 * End-to-end helpers: a real Transit on the engine's real clock (timeouts fire as in production,
 * scaled down), and a simulated fleet driving it through the public API only.
 */
import { readConfig, type Config } from '../../src/config.js';
import { buildApp, type App } from '../../src/server/http/app.js';
import { DEFAULT_FLEET, Fleet, type FleetOptions } from '../../src/sim/fleet.js';

/**
 * Timeouts scaled down so a run of a few seconds sees every one fire; the migration limits are
 * the defaults of docs/contract.md §8 (2 outgoing, 2 incoming per host, 5 per cluster), named here
 * so the checker holds the engine to them.
 */
export const E2E_CONFIG = {
  hostTimeoutMs: 2_500,
  migrationStartTimeoutMs: 3_000,
  tickIntervalMs: 100,
  maxOutgoingMigrationsPerHost: 2,
  maxIncomingMigrationsPerHost: 2,
  maxMigrationsPerCluster: 5,
  migrationProgressTimeoutMs: 1_500,
  migrationCompletionTimeoutPerGibMs: 2_500,
} satisfies Partial<Config>;

export const E2E_LIMITS = {
  maxOutgoingPerHost: E2E_CONFIG.maxOutgoingMigrationsPerHost,
  maxIncomingPerHost: E2E_CONFIG.maxIncomingMigrationsPerHost,
  maxPerCluster: E2E_CONFIG.maxMigrationsPerCluster,
};

export function e2eConfig(port = 0): Config {
  return { ...readConfig({}), ...E2E_CONFIG, host: '127.0.0.1', port };
}

export async function startEngine(port = 0): Promise<{ app: App; port: number; url: string }> {
  const app = buildApp({ config: e2eConfig(port), logging: false, shutdownGraceMs: 200 });
  const started = await app.start();
  return { app, ...started };
}

/** A fleet with fast migrations and reports, for a run of seconds. */
export function fastFleet(url: string, overrides: Partial<Omit<FleetOptions, 'url'>> = {}): Fleet {
  return new Fleet({
    ...DEFAULT_FLEET,
    url,
    hosts: 8,
    clusters: 2,
    vms: 64,
    progressPerSecond: 100,
    fullReportIntervalMs: 500,
    fenceAfterMs: 800,
    rebootMs: 1_200,
    // Evacuations only where a test asks for them.
    evacuationsPerMinute: 0,
    maintenanceMs: 2_000,
    limits: E2E_LIMITS,
    ...overrides,
    faults: { ...DEFAULT_FLEET.faults, ...overrides.faults },
  });
}

const POLL_MS = 50;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `condition` holds, polling; fails with `what` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(POLL_MS);
  }
}

/**
 * Reads `read` until `accept` holds or `timeoutMs` passes, and returns the last value read: for a
 * setup that waits on a condition and lets the test assert on what it saw (a clear failure message
 * rather than a timeout in a hook).
 */
export async function eventually<T>(read: () => T | Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value) || Date.now() > deadline) return value;
    await pause(POLL_MS);
  }
}

/** The hosts Transit at `url` knows (through the public API). */
export async function hostCount(url: string): Promise<number> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ hosts { id } }' }) });
  const { data } = (await response.json()) as { data?: { hosts: unknown[] } };
  return data?.hosts.length ?? 0;
}
