/**
 * The processes of a networked benchmark: the server under test in one, the load generator in
 * another, both children of the benchmark, which only orchestrates and prints. Every child is
 * bounded: it is killed when the benchmark ends, however it ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ServerKind, ServerStats } from './servers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Which CPU a child runs on, when the benchmark pins it (`BENCH_PIN=0` turns pinning off). On a
 * 2-core machine the server under test and its load generator otherwise take turns on both cores
 * and disturb each other's caches: CPU per request then varied by ±30 % between identical runs.
 */
export type Cpu = number | null;
const pinning = process.env.BENCH_PIN !== '0' && os.availableParallelism() >= 2;

function start(script: string, args: readonly string[], env: Record<string, string>, nodeFlags: readonly string[] = [], cpu: Cpu = null): ChildProcess {
  const command = [process.execPath, ...nodeFlags, '--import', 'tsx', `${here}${script}`, ...args];
  const pinned = pinning && cpu !== null ? ['taskset', '-c', String(cpu), ...command] : command;
  const child = spawn(pinned[0] as string, pinned.slice(1), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

/** The next IPC message the child sends that has `key`, or the child's death as an error. */
function nextMessage<T>(child: ChildProcess, key: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no "${key}" from the child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown) => {
      if (typeof message === 'object' && message !== null && key in message) finish(null, message as T);
    };
    const onExit = (code: number | null) => finish(new Error(`the child exited (${code}) before sending "${key}"`));
    const finish = (error: Error | null, value?: T) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

export interface ServerProcess {
  readonly kind: ServerKind;
  readonly port: number;
  /** CPU and event-loop use since the previous call (or the start). */
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}

/**
 * Starts a server of `bench/support/servers.ts` in its own process; resolves once it listens.
 * `BENCH_SERVER_FLAGS` adds Node flags to it, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile.
 */
export async function startServer(kind: ServerKind, env: Record<string, string> = {}, startTimeoutMs = 120_000, cpu: Cpu = null): Promise<ServerProcess> {
  const flags = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const child = start('servers.ts', [kind], env, flags, cpu);
  const { port } = await nextMessage<{ port: number }>(child, 'ready', startTimeoutMs);
  return {
    kind,
    port,
    async stats() {
      const reply = nextMessage<{ stats: ServerStats }>(child, 'stats', 10_000);
      child.send('stats');
      return (await reply).stats;
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send('stop');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * Runs a worker script of this folder, hands it `job` (over IPC: a job may be larger than a
 * command line allows), and resolves with the `{ result }` it sends, after which it exits.
 * `onPhase` hears each phase the worker announces (`announcePhase`).
 */
export async function runWorker<Job, Result>(
  script: string,
  job: Job,
  timeoutMs: number,
  { nodeFlags = [], onPhase = () => undefined, cpu = null }: { nodeFlags?: readonly string[]; onPhase?: (phase: string) => void; cpu?: Cpu } = {},
): Promise<Result> {
  const child = start(script, [], {}, nodeFlags, cpu);
  child.on('message', (message: { phase?: string }) => {
    if (typeof message.phase === 'string') onPhase(message.phase);
  });
  try {
    // The job goes once the worker listens for it.
    await nextMessage<{ waiting: true }>(child, 'waiting', 120_000);
    const result = nextMessage<{ result: Result }>(child, 'result', timeoutMs);
    child.send({ job });
    return (await result).result;
  } finally {
    child.kill();
  }
}

/** In a worker: tells the benchmark a phase begins (it may read the server's CPU then). */
export const announcePhase = (phase: string): void => void process.send?.({ phase });

/** In a worker: waits for its job, runs it, sends the result, exits. */
export async function workerMain<Job, Result>(run: (job: Job) => Promise<Result>): Promise<void> {
  const job = new Promise<Job>((resolve) => process.once('message', (message: { job: Job }) => resolve(message.job)));
  process.send?.({ waiting: true });
  const result = await run(await job);
  process.send?.({ result }, () => process.exit(0));
}
