/**
 * `npm run simulate` as a person runs it in a terminal: Ctrl-C (a real SIGINT to the whole process
 * group, npm included) prints the verdict; a second run against the same Transit does not mistake the
 * first run's VMs for its own; a Transit with a credentials file refuses it with a clear message,
 * and accepts it with the credentials `--make-credentials` writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/http/app.js';
import { e2eConfig, startEngine } from '../utils/fleet.js';
import { startSecureServer } from '../utils/security.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A small, quick, faultless fleet. */
const FLEET = ['--hosts', '3', '--vms', '6', '--rate', '2', '--no-faults', '--full-report-ms', '300', '--progress', '100'];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function run(command: string, args: string[]): Run {
  // Its own process group, as a terminal's foreground job: a SIGINT to the group reaches every process in it.
  const child = spawn(command, args, { cwd: ROOT, detached: true, env: { ...process.env, FORCE_COLOR: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += String(chunk)));
  child.stderr?.on('data', (chunk) => (output += String(chunk)));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, output: () => output, exited };
}

async function untilOutput(r: Run, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(r.output())) {
    if (r.child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in:\n${r.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Ctrl-C in a terminal: SIGINT to the whole foreground process group. */
const ctrlC = (r: Run) => process.kill(-(r.child.pid as number), 'SIGINT');

const VERDICT = /(\d+) verdicts checked: 0 contradict the truth; 0 VMs differ; 0 migrations undecided; 0 split-brain events; (\d+) starts checked against the limits, 0 beyond them; 0 aborts, 0 without a CANCEL order\./;

describe('npm run simulate', { timeout: 120_000 }, () => {
  it('should print the verdict on Ctrl-C through npm, and a second run against the same Transit should not take the first run for its own', async () => {
    const { app, url } = await startEngine();
    try {
      for (const round of [1, 2]) {
        const r = run('npm', ['run', '--silent', 'simulate', '--', '--url', url, ...FLEET]);
        await untilOutput(r, /Ctrl-C to stop/);
        // Let it start and decide a few migrations first.
        const before = app.table.migrations({ state: 'SUCCEEDED' }, 0, 1_000).items.length;
        const deadline = Date.now() + 30_000;
        while (app.table.migrations({ state: 'SUCCEEDED' }, 0, 1_000).items.length < before + 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
        ctrlC(r);
        expect(await r.exited, `round ${round}: ${r.output()}`).toBe(0);
        const verdict = VERDICT.exec(r.output());
        expect(verdict, r.output()).not.toBeNull();
        expect(Number(verdict?.[1])).toBeGreaterThan(0);
      }
    } finally {
      await app.stop();
    }
  });

  it('should exit 2 saying it was refused and what to pass, against a Transit with a credentials file', async () => {
    const server = await startSecureServer();
    try {
      const r = run(process.execPath, ['--import', 'tsx', 'src/sim/simulate.ts', '--url', server.url, ...FLEET]);
      expect(await r.exited).toBe(2);
      expect(r.output()).toMatch(/^The simulator was refused: Transit refused to register r[0-9a-f]{6}-host-001 \(HTTP 401\)/m);
      expect(r.output()).toContain('pass --token');
      expect(r.output()).not.toMatch(/^\s+at /m);
    } finally {
      await server.stop();
    }
  });

  it('should run against a Transit with a credentials file with the tokens --make-credentials wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'transit-sim-credentials-'));
    dirs.push(dir);
    const make = run(process.execPath, ['--import', 'tsx', 'src/sim/simulate.ts', '--make-credentials', dir, '--run-prefix', 'lab-', ...FLEET]);
    expect(await make.exited).toBe(0);
    const app = buildApp({ config: { ...e2eConfig(), credentialsFile: join(dir, 'credentials') }, logging: false, shutdownGraceMs: 200 });
    const { url } = await app.start();
    try {
      const r = run(process.execPath, ['--import', 'tsx', 'src/sim/simulate.ts', '--url', url, '--tokens', join(dir, 'tokens.json'), ...FLEET]);
      await untilOutput(r, /Ctrl-C to stop/);
      expect(r.output()).toContain('ids lab-');
      const deadline = Date.now() + 30_000;
      while (app.table.migrations({ state: 'SUCCEEDED' }, 0, 1_000).items.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(app.table.host('lab-host-001')?.status).toBe('UP');
      ctrlC(r);
      expect(await r.exited).toBe(0);
      expect(r.output()).toMatch(VERDICT);
    } finally {
      await app.stop();
    }
  });
});

describe('npm run demo', { timeout: 120_000 }, () => {
  it("should print the dashboard's address first, serve it there, and stop on Ctrl-C through npm with exit code 0", async () => {
    const child = spawn('npm', ['run', '--silent', 'demo', '--', '--hosts', '2', '--vms', '4', '--rate', '0', '--no-faults'], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, PORT: '0', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    const exited = once(child, 'exit').then(([code]) => code as number | null);
    const r: Run = { child, output: () => stdout, exited };
    await untilOutput(r, /Ctrl-C|Open the dashboard/);
    const first = stdout.split('\n')[0] as string;
    expect(first).toMatch(/^Dashboard: http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(first.slice('Dashboard: '.length));
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    ctrlC(r);
    expect(await exited).toBe(0);
  });
});

