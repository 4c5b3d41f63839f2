/**
 * Open mode (no credentials file): for local development only. Everyone may do everything and is
 * not rate limited, Transit says so loudly at start, and it refuses to listen on an address other
 * machines can reach.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, readConfig } from '../../src/config.js';
import { buildApp } from '../../src/server/http/app.js';
import { OPEN_MODE_WARNING } from '../../src/server/security/security.js';
import { codesOf, post } from '../utils/security.js';
import { serverPerTest } from '../utils/server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs `npm start`'s entry point until it prints its address or exits; stops it in the first case. */
async function startMain(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping = false;
  const onData = (chunk: Buffer) => {
    output += String(chunk);
    const url = /serving (http:\/\/\S+)/.exec(output)?.[1];
    if (url === undefined || stopping) return;
    stopping = true;
    // Stop it once it answers, as an operator would.
    void fetch(new URL('/health', url)).finally(() => child.kill('SIGTERM'));
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return { code: await exited, output };
}

describe('open mode', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.10.20.30', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.1.2.3', false],
    ['128.0.0.1', false],
    ['::ffff:10.1.2.3', false],
    ['transit.example.com', false],
  ])('should count %s as loopback: %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it.each(['0.0.0.0', '::', '192.168.1.10'])('should refuse to serve on %s without credentials', (host) => {
    expect(() => buildApp({ config: { ...readConfig({}), host, port: 0 }, logging: false })).toThrow(`refusing to listen on ${host} without credentials`);
  });

  it('should exit non-zero with a clear message when started on 0.0.0.0 without credentials', async () => {
    const { code, output } = await startMain({ HOST: '0.0.0.0' });
    expect(code).not.toBe(0);
    expect(output).toContain('Transit cannot start: refusing to listen on 0.0.0.0 without credentials');
    expect(output).not.toContain('serving http');
  });

  it('should say loudly at start that it runs open', async () => {
    const { code, output } = await startMain({ HOST: '127.0.0.1' });
    expect(code).toBe(0);
    expect(output).toContain(OPEN_MODE_WARNING);
  });

  describe('requests', () => {
    const server = serverPerTest({ mutationsPerSecond: 1, mutationBurst: 1 });

    it('should let a request without a token do everything, with no rate limit', async () => {
      for (let i = 0; i < 20; i++) {
        const answer = await post(server().url, {
          body: JSON.stringify({ query: `mutation { reportVmStatuses(input: { hostId: "host-${i}", vms: [] }) { errors { code } } reportFenceResult(input: { hostId: "host-${i}", succeeded: false, method: MANUAL }) { errors { code } } }` }),
        });
        expect(codesOf(answer)).toEqual([]);
      }
      expect(server().app.table.hosts()).toHaveLength(20);
    });

    it('should ignore a token it cannot know', async () => {
      const answer = await post(server().url, { token: 'not-a-token', body: JSON.stringify({ query: '{ engine { cursor } }' }) });
      expect(answer.status).toBe(200);
    });
  });
});
