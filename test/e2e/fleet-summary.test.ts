/**
 * The demo's summary line counts what it says: `failed` counts migrations that ended FAILED, and
 * `attempts failed` every failed attempt, those that were rerun on another host included.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/http/app.js';
import { formatSummary, type Fleet } from '../../src/sim/fleet.js';
import { fastFleet, startEngine, until } from '../utils/fleet.js';

describe("the demo's summary line", () => {
  let app: App | undefined;
  let fleet: Fleet | undefined;
  afterAll(async () => {
    await fleet?.stop();
    await app?.stop();
  });

  it('should count a migration that ended FAILED once, apart from its failed attempts (each rerun on another host)', async () => {
    const engine = await startEngine();
    app = engine.app;
    // Every hand-over fails: each migration is tried on 3 hosts (TRANSIT_MAX_ATTEMPTS), then ends FAILED.
    fleet = fastFleet(engine.url, {
      hosts: 6,
      clusters: 1,
      vms: 12,
      migrationsPerSecond: 4,
      maxMigrations: 2,
      faults: { migrationFailure: 1, cancel: 0, vmCrashesPerMinute: 0, hostHangsPerMinute: 0, fenceFailure: 0, duplicateReport: 0, reorderReport: 0, nonConverging: 0 },
    });
    await fleet.start();
    const summary = fleet.summary;
    await until(() => summary.failed === 2 && summary.inFlight === 0, 'both migrations to end FAILED', 30_000);
    expect(summary.failedAttempts).toBe(6);
    expect(summary.reruns).toBe(4);
    expect(formatSummary(summary)).toContain('failed 2 (attempts failed 6)');
  });
});
