/**
 * Host evacuation end to end (docs/contract.md §9): a simulated fleet whose operator evacuates
 * several hosts through the public API, one while a destination of its migrations hangs and is
 * fenced, with the engine restarted once during an evacuation, against a real server with the
 * default limits of §8. The checker verifies against the simulated truth that each completed
 * evacuation left its host with no VM, that no migration was started towards a host Transit showed
 * being evacuated or in maintenance, that no more migrations really ran at once than the limits
 * allow, and that no verdict contradicts what really happened. The run's figures are printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/server/http/app.js';
import type { Fleet, FleetVerdict } from '../../src/sim/fleet.js';
import { fastFleet, startEngine, until } from '../utils/fleet.js';

/** Lets the simulated fleet run on for a while (pacing the scenario in real time; nothing is awaited by luck: every check after it waits on a condition). */
const runOn = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const CONVERGENCE_MS = 30_000;
const HOSTS = 8;
/** Long enough for a drain on a busy two-core machine. */
const STEP_MS = 90_000;

describe('a fleet whose hosts are evacuated for maintenance', () => {
  let app: App;
  let fleet: Fleet;
  let verdict: FleetVerdict;
  let hungDestination: string | null = null;
  const evacuated: string[] = [];

  beforeAll(async () => {
    const engine = await startEngine();
    app = engine.app;
    fleet = fastFleet(engine.url, {
      hosts: HOSTS,
      vms: 64,
      seed: 11,
      migrationsPerSecond: 3,
      maintenanceMs: 1_500,
      faults: {
        migrationFailure: 0.1,
        cancel: 0,
        vmCrashesPerMinute: 0,
        hostHangsPerMinute: 0,
        fenceFailure: 0,
        duplicateReport: 0.05,
        reorderReport: 0.05,
        nonConverging: 0,
      },
    });
    await fleet.start();
    await runOn(1_000);
    const completed = () => fleet.maintenance.completed;
    // The operator evacuates the host; on a loaded machine it may briefly be NON_RESPONSIVE (refused): try again.
    const evacuate = async (i: number) => {
      const deadline = Date.now() + STEP_MS;
      for (;;) {
        const host = await fleet.maintenance.evacuate(fleet.hostId(i));
        if (host !== null) return evacuated.push(host);
        if (Date.now() > deadline) throw new Error(`host ${fleet.hostId(i)} could not be evacuated`);
        await runOn(250);
      }
    };
    try {

    // 1. An evacuation during which one of its destinations hangs and is fenced.
    await evacuate(0);
    await until(() => (hungDestination = fleet.injectHangOfEvacuationDestination('succeed')) !== null, 'a migration of the evacuation under way', STEP_MS);
    await until(() => completed() >= 1, 'the first evacuation to complete', STEP_MS);

    // 2. An evacuation during which the engine restarts: the operator evacuates the host again.
    await evacuate(1);
    await until(() => fleet.world.destinationOfMigrationFrom(fleet.maintenance.drainingHosts()) !== null, 'a migration of the second evacuation under way', STEP_MS);
    await app.stop();
    app = (await startEngine(engine.port)).app;
    await until(() => completed() >= 2, 'the second evacuation to complete after the restart', STEP_MS);

    // 3. Two more, one in each cluster, at once.
    await until(() => fleet.maintenance.running === 0, 'no drain under way', STEP_MS);
    await runOn(2_000); // the first hosts are back in service
    for (const i of [2, 3]) await evacuate(i);
    await until(() => completed() + fleet.maintenance.failed >= 4, 'the last evacuations to end', STEP_MS);

    } catch (error) {
      // What held the run back, for whoever reads the failure.
      console.log('[evacuation e2e] stuck:', JSON.stringify({ summary: fleet.summary, finished: fleet.maintenance.finished, verdict: await fleet.verdict().catch(String) }, null, 1));
      throw error;
    }
    fleet.quiesce();
    verdict = await fleet.converge(CONVERGENCE_MS);

    const done = fleet.maintenance.finished;
    const drains = done.filter((f) => f.state === 'COMPLETED').map((f) => f.drainMs).sort((a, b) => a - b);
    console.log(
      `[evacuation e2e] hosts evacuated ${done.filter((f) => f.state === 'COMPLETED').length} of ${done.length} ` +
        `(${done.map((f) => `${f.hostId} ${f.state} ${f.moved}/${f.total} moved, ${f.failed} failed, ${f.blockers.length} blockers, drained in ${f.drainMs} ms${f.reissued > 0 ? `, evacuated again ${f.reissued}× after the restart` : ''}`).join('; ')}); ` +
        `VMs moved ${done.reduce((n, f) => n + f.moved, 0)}; blockers ${done.reduce((n, f) => n + f.blockers.length, 0)}; ` +
        `time to drain min ${drains[0]} ms, median ${drains[Math.floor(drains.length / 2)]} ms, max ${drains[drains.length - 1]} ms; ` +
        `hung destination ${hungDestination}; completions checked against the truth ${fleet.checker.evacuationsChecked}; ` +
        `peaks of migrations really under way: ${JSON.stringify(fleet.world.peaks)}; verdicts ${fleet.checker.decided}; engine restarts ${fleet.summary.engineRestarts}`,
    );
  }, 600_000);

  afterAll(async () => {
    await fleet?.stop();
    await app?.stop();
  });

  it('should evacuate several hosts, one while a destination was fenced and one across an engine restart', () => {
    expect(new Set(evacuated).size).toBe(4);
    expect(hungDestination).not.toBeNull();
    expect(fleet.summary.fences).toBe(1);
    expect(fleet.summary.engineRestarts).toBeGreaterThanOrEqual(1);
    const finished = fleet.maintenance.finished;
    expect(finished.filter((f) => f.state === 'COMPLETED').length).toBeGreaterThanOrEqual(3);
    expect(finished.find((f) => f.hostId === evacuated[1])?.reissued).toBeGreaterThanOrEqual(1);
    expect(finished.reduce((n, f) => n + f.moved, 0)).toBeGreaterThan(0);
  });

  it('should leave each host whose evacuation completed with no VM in the simulated truth', () => {
    expect(fleet.checker.evacuationsChecked).toBeGreaterThanOrEqual(3);
    expect(fleet.checker.evacuationProblems).toEqual([]);
  });

  it('should keep within the limits: no more migrations really under way at once than they allow', () => {
    expect(fleet.checker.limitProblems()).toEqual([]);
    expect(verdict.limitViolations).toEqual([]); // nor started beyond them, as Transit's own transitions show
  });

  it('should give no verdict that contradicts the truth, and converge', () => {
    expect(verdict.contradictions).toEqual([]);
    expect(verdict.undecided).toEqual([]);
    expect(verdict.evacuating).toEqual([]);
    expect(verdict.divergence).toEqual([]);
    expect(verdict.splitBrain).toEqual([]);
  });
});
