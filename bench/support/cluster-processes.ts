/**
 * The processes of the clustered-mode benchmark (docs/contract.md §13): a real `redis-server` on a
 * free port of 127.0.0.1 (nothing kept on disk), and Transit processes as `npm start` runs them,
 * each told its settings through the environment. Every child is killed when the benchmark ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGKILL');
  await once(child, 'exit');
}

export interface RedisProcess {
  readonly url: string;
  stop(): Promise<void>;
}

export async function startRedis(): Promise<RedisProcess> {
  const port = await freePort();
  const child = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' }));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error('redis-server did not start (is it installed? apt-get install redis-server)');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, stop: () => kill(child) };
}

export interface TransitProcess {
  readonly url: string;
  readonly child: ChildProcess;
  kill(): Promise<void>;
}

/** A Transit process; resolves once it answers `/health`. */
export async function startTransit(env: Record<string, string>, port?: number, startTimeoutMs = 120_000): Promise<TransitProcess> {
  port ??= await freePort();
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const url = `http://127.0.0.1:${port}/graphql`;
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Transit exited with ${child.exitCode}`);
    const healthy = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) throw new Error(`Transit did not answer on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, child, kill: () => kill(child) };
}

export interface Health {
  readonly role: 'engine' | 'replica';
  readonly epoch: string | null;
}

export async function health(url: string): Promise<Health> {
  return (await (await fetch(new URL('/health', url), { signal: AbortSignal.timeout(5_000) })).json()) as Health;
}

/** Polls until `condition` holds on the processes' health; fails after `timeoutMs`. */
export async function untilHealth(processes: readonly TransitProcess[], condition: (all: Health[]) => boolean, timeoutMs = 60_000): Promise<Health[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await Promise.all(processes.map((p) => health(p.url).catch(() => ({ role: 'replica' as const, epoch: null }))));
    if (condition(all)) return all;
    if (Date.now() > deadline) throw new Error(`cluster not as expected: ${JSON.stringify(all)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
