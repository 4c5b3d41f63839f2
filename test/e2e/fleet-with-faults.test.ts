/**
 * The service doing its real job end to end: a simulated fleet of host agents over graphql-ws,
 * an automation loop, a fencing agent, and every fault kind of the issue — migration failures,
 * VM crashes, hosts that stop answering (fenced, successfully or not), duplicated and reordered
 * report deliveries, migrations that never converge, and an engine restart — against a real
 * server with the migration limits 2/2/5 and short deadlines (docs/contract.md §8). Every verdict
 * Transit gives must agree with what the simulator knows really happened; from the transitions,
 * no host or cluster ever had more attempts started into it than its limits, every aborted
 * attempt got a CANCEL order, and every migration ends.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/http/app.js';
import { formatSummary, type Fleet, type FleetVerdict } from '../../src/sim/fleet.js';
import { E2E_LIMITS, fastFleet, hostCount, startEngine, until } from '../utils/fleet.js';

const MIGRATIONS = 80;
const AT_LEAST_DECIDED = 50;
const CONVERGENCE_MS = 20_000;
const HOSTS = 8;
/** Decisions before the first faults are injected. */
const FIRST_DECISIONS = 5;

describe('a fleet with every fault kind', () => {
  let app: App;
  let fleet: Fleet;
  let verdict: FleetVerdict;

  beforeAll(async () => {
    const engine = await startEngine();
    app = engine.app;
    fleet = fastFleet(engine.url, {
      hosts: HOSTS,
      seed: 42,
      migrationsPerSecond: 8,
      maxMigrations: MIGRATIONS,
      faults: {
        migrationFailure: 0.2,
        cancel: 0.05,
        vmCrashesPerMinute: 0, // injected below, at known times
        hostHangsPerMinute: 0,
        fenceFailure: 0,
        duplicateReport: 0.1,
        reorderReport: 0.1,
        nonConverging: 0.12,
      },
    });
    await fleet.start();
    await until(() => fleet.checker.decided >= FIRST_DECISIONS, 'the first decisions');
    fleet.injectCrash();
    fleet.injectHang('succeed');
    await until(() => fleet.migrationsStarted >= MIGRATIONS / 3, 'a third of the migrations');
    // The engine restarts: an empty table, rebuilt from the hosts' reports on the same port.
    await app.stop();
    app = (await startEngine(engine.port)).app;
    fleet.injectCrash();
    await until(async () => (await hostCount(engine.url)) === HOSTS, 'every host to register with the new engine');
    fleet.injectHang('fail');
    await until(() => fleet.migrationsStarted >= MIGRATIONS, 'every migration started', 30_000);
    fleet.injectCrash();
    // Quiescing ends the hangs: first the fencing agent must have dealt with both.
    await until(() => fleet.summary.fences + fleet.summary.fenceFailures === 2, 'the fencing agent to act on both hangs');
    await until(() => fleet.summary.aborted >= 2, 'two deadlines to abort migrations that never converge', 30_000);
    // The migrations that never converge keep not converging: only Transit's deadlines end them.
    fleet.quiesce({ keepNonConverging: true });
    verdict = await fleet.converge(CONVERGENCE_MS);
    await fleet.flushAgents();
    if (process.env.PRINT_FLEET) console.log(formatSummary(fleet.summary), `· starts checked ${fleet.scheduling.starts} · peak in flight ${fleet.scheduling.peakInFlight}`);
  }, 120_000);

  afterAll(async () => {
    await fleet?.stop();
    await app?.stop();
  });

  it('should have exercised every fault kind', () => {
    const s = fleet.summary;
    expect(s.crashes).toBeGreaterThanOrEqual(3);
    expect(s.hangs).toBe(2);
    expect(s.fences).toBe(1);
    expect(s.fenceFailures).toBe(1);
    expect(s.delivery.duplicated).toBeGreaterThan(0);
    expect(s.delivery.reordered).toBeGreaterThan(0);
    expect(s.engineRestarts).toBeGreaterThanOrEqual(1);
    expect(fleet.checker.countBy('FAILED')).toBeGreaterThan(0);
    expect(s.reruns).toBeGreaterThan(0);
    expect(s.nonConverging).toBeGreaterThan(0);
    expect(s.aborted).toBeGreaterThanOrEqual(2);
    expect(s.queued).toBeGreaterThan(0);
  });

  it('should never start an attempt beyond 2 outgoing or 2 incoming per host or 5 per cluster, seen from the transitions', () => {
    expect(fleet.scheduling.starts).toBeGreaterThanOrEqual(AT_LEAST_DECIDED);
    expect(fleet.scheduling.peakInFlight).toBeGreaterThan(E2E_LIMITS.maxOutgoingPerHost);
    expect(verdict.limitViolations).toEqual([]);
  });

  it('should have sent a CANCEL order to the source of every attempt it aborted', async () => {
    // An order travels apart from the transition that announced it: give the last one time to land.
    await until(() => fleet.scheduling.abortsWithoutCancel(fleet.world).length === 0, 'every CANCEL order to arrive', 5_000).catch(() => undefined);
    expect(fleet.scheduling.abortsWithoutCancel(fleet.world)).toEqual([]);
  });

  it(`should decide at least ${AT_LEAST_DECIDED} migrations, and every one that can be decided`, () => {
    expect(fleet.checker.decided).toBeGreaterThanOrEqual(AT_LEAST_DECIDED);
    expect(verdict.undecided).toEqual([]);
  });

  it('should give no verdict that contradicts what really happened', () => {
    expect(verdict.contradictions).toEqual([]);
  });

  it('should end with every VM where it really runs, and none UP on two hosts', () => {
    expect(verdict.divergence).toEqual([]);
    expect(verdict.splitBrain).toEqual([]);
  });
});
