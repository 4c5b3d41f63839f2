import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { closed, opened, subscribeWs, wsClient } from '../utils/ws.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  scripts: Record<string, string | undefined>;
};
/** WebSocket close code of a server going away (RFC 6455). */
const GOING_AWAY = 1001;
/** Compiling src/ takes 10–20 s on a busy two-core machine. */
const BUILD_TIMEOUT_MS = 180_000;

const TRANSITIONS = graphql(`
  subscription MainProcessTransitions {
    transitions { cursor }
  }
`);

const ENGINE_VERSION = graphql(`
  query MainProcessVersion {
    engine { version }
  }
`);

/** The compiled entry point `npm start` runs (`node <file>`), after `prestart` has built it. */
function startEntry(): string {
  const match = /^node (\S+\.js)$/.exec(PACKAGE.scripts.start ?? '');
  if (!match) throw new Error(`npm start should run compiled JavaScript with node, not: ${PACKAGE.scripts.start}`);
  return match[1] as string;
}

describe('npm start (the compiled dist/main.js)', () => {
  beforeAll(() => {
    // What `npm start` does first (prestart): a failing build (tsconfig.build.json, a src/ file
    // importing from outside src/) fails here.
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } });
    expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
  }, BUILD_TIMEOUT_MS);

  it('should build before it starts, and start the JavaScript tsc wrote to dist/', () => {
    expect(PACKAGE.scripts.prestart).toBe('npm run build');
    expect(PACKAGE.scripts.build).toContain('tsc -p tsconfig.build.json');
    expect(startEntry()).toBe('dist/main.js');
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('should serve until %s, then close WebSockets with 1001 and exit 0', async (signal) => {
    const child = spawn(process.execPath, [startEntry()], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', TRANSIT_HOST_TIMEOUT_MS: '5000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let output = '';
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk) => {
        output += String(chunk);
        const match = /serving (http:\/\/\S+)/.exec(output);
        if (match) resolve(match[1] as string);
      });
      void exited.then(() => reject(new Error(`exited before serving:\n${output}`)));
    });

    expect((await fetch(new URL('/health', url))).status).toBe(200);
    // The version is read from package.json relative to the compiled module: it resolves from dist/ too.
    const answer = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: print(ENGINE_VERSION) }),
    });
    expect(await answer.json()).toEqual({ data: { engine: { version: PACKAGE.version } } });
    const ws = wsClient(url.replace(/^http/, 'ws'));
    subscribeWs(ws, TRANSITIONS, {});
    await opened(ws.socket());
    const socketClosed = closed(ws.socket());

    child.kill(signal);
    expect(await exited).toBe(0);
    expect(await socketClosed).toBe(GOING_AWAY);
    await ws.dispose();
  });
});
