import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { closed, opened, subscribeWs, wsClient } from '../utils/ws.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** WebSocket close code of a server going away (RFC 6455). */
const GOING_AWAY = 1001;

const TRANSITIONS = graphql(`
  subscription MainProcessTransitions {
    transitions { cursor }
  }
`);

describe('npm start (src/main.ts)', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('should serve until %s, then close WebSockets with 1001 and exit 0', async (signal) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
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

describe('npm start on a busy port', () => {
  it('should say once, without a stack trace, that the port is in use and which setting to change, and exit 1', async () => {
    const busy = createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const { port } = busy.address() as AddressInfo;
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk) => (stderr += String(chunk)));
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(1);
      const lines = stderr.split('\n').filter((line) => line.trim() !== '' && !line.includes('OPEN MODE'));
      expect(lines).toEqual([`Transit cannot start: port ${port} on 127.0.0.1 is already in use (another Transit?): stop it, or set PORT to a free port (e.g. PORT=${port + 1} npm start)`]);
    } finally {
      busy.close();
    }
  });
});
