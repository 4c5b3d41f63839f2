/**
 * The engine is killed (SIGKILL) in the middle of a run and started again: the table is empty,
 * the host agents reconnect, register themselves again with their reports, and the table
 * converges to the simulated truth, without a single false outcome (docs/contract.md §3 "engine restart").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fleet, FleetVerdict } from '../../src/sim/fleet.js';
import { spawnEngine, freePort, STARTUP_DEADLINE_MS, type EngineProcess } from '../utils/engine-process.js';
import { eventually, fastFleet, hostCount, until } from '../utils/fleet.js';

const ENV = { TRANSIT_HOST_TIMEOUT_MS: '2500', TRANSIT_MIGRATION_START_TIMEOUT_MS: '3000', TRANSIT_TICK_INTERVAL_MS: '100' };
const HOSTS = 8;
const CONVERGENCE_MS = 20_000;
/** Migrations the new engine must decide before the fleet is quiesced. */
const DECIDED_AFTER_RESTART = 10;

describe('an engine killed in the middle of a run', () => {
  let engine: EngineProcess;
  let fleet: Fleet;
  let verdict: FleetVerdict;
  let hostsAfterRestart: number;
  let decidedBeforeKill: number;

  beforeAll(async () => {
    const port = await freePort();
    engine = await spawnEngine(port, ENV);
    let clientErrors = 0;
    fleet = fastFleet(engine.url, {
      onError: () => clientErrors++,
      hosts: HOSTS,
      seed: 7,
      migrationsPerSecond: 8,
      faults: { migrationFailure: 0.15, cancel: 0, vmCrashesPerMinute: 0, hostHangsPerMinute: 0, fenceFailure: 0, duplicateReport: 0.05, reorderReport: 0.05 },
    });
    await fleet.start();
    // Kill it while migrations are in flight.
    await until(() => fleet.checker.decided >= 10 && fleet.summary.inFlight >= 3, 'decided and in-flight migrations');
    decidedBeforeKill = fleet.checker.decided;
    const errorsBeforeKill = clientErrors;
    await engine.kill();
    // The fleet runs into the dead engine (a report or a command fails) before it comes back.
    await until(() => clientErrors > errorsBeforeKill, 'the fleet to notice the engine is gone');
    engine = await spawnEngine(port, ENV);
    await until(() => fleet.summary.engineRestarts >= 1, 'the observer to notice the new engine');
    const url = engine.url;
    hostsAfterRestart = await eventually(() => hostCount(url), (n) => n === HOSTS);
    await until(() => fleet.checker.decided >= decidedBeforeKill + DECIDED_AFTER_RESTART, 'decisions of the new engine');
    fleet.quiesce();
    verdict = await fleet.converge(CONVERGENCE_MS);
  }, 2 * STARTUP_DEADLINE_MS + 60_000); // two starts, then the run and its convergence

  afterAll(async () => {
    await fleet?.stop();
    await engine?.kill();
  });

  it('should see every host register itself again through its reports', () => {
    expect(hostsAfterRestart).toBe(HOSTS);
  });

  it('should go on deciding migrations after the restart', () => {
    expect(fleet.checker.decided).toBeGreaterThan(decidedBeforeKill);
    expect(verdict.undecided).toEqual([]);
  });

  it('should give no false outcome, before or after the restart', () => {
    expect(verdict.contradictions).toEqual([]);
    expect(verdict.splitBrain).toEqual([]);
  });

  it("should converge to the simulator's truth", () => {
    expect(verdict.divergence).toEqual([]);
  });
});
