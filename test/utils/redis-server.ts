/**
 * A real `redis-server` (Debian's package; `.ci/run` installs it) as a child process on an
 * ephemeral port of 127.0.0.1, for the clustered-mode tests and benchmarks. No mock of Redis.
 * By default it keeps nothing on disk (`--save '' --appendonly no`): a restart loses every key,
 * the worst case Transit must survive.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './engine-process.js';

/** Whether `redis-server` can be run here. */
export function haveRedis(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether to skip the clustered-mode tests: only outside CI, and only without `redis-server`
 * (`apt-get install redis-server`); CI installs it (.ci/run), so there they always run.
 */
export function skipWithoutRedis(): boolean {
  if (haveRedis() || process.env.CI) return false;
  console.warn('redis-server is not installed: the clustered-mode tests are skipped (apt-get install redis-server to run them)');
  return true;
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops it hard (SIGKILL): with the default options every key is lost. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.write('PING\r\n');
    });
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function startRedis({ persistence = false }: { persistence?: boolean } = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'transit-redis-'));
  let child: ChildProcess | null = null;
  let output = '';
  const launch = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', persistence ? 'yes' : 'no', '--protected-mode', 'yes'];
    if (persistence) args.push('--appendfsync', 'always');
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
    const deadline = Date.now() + 10_000;
    while (!(await answers(port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const kill = async () => {
    const running = child;
    if (running === null || running.exitCode !== null || running.signalCode !== null) return;
    running.kill('SIGKILL');
    await once(running, 'exit');
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
