/**
 * The credentials file (docs/security.md): one credential per line, `<name> <roles> sha256:<digest>`,
 * tokens stored only as digests; a file Transit does not fully understand stops it from starting;
 * `npm run token` prints a token once and its line.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { buildApp } from '../../src/server/http/app.js';
import { CredentialStore, credentialLine, newToken, Role, tokenDigest } from '../../src/server/security/credentials.js';
import { writeCredentials } from '../utils/security.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SOURCE = 'credentials';
/** A token is 32 random bytes in base64url. */
const TOKEN_LENGTH = 43;
const DIGEST = tokenDigest('a-token');

describe('the credentials file', () => {
  it('should make tokens of 256 random bits, each different', () => {
    const tokens = new Set(Array.from({ length: 100 }, newToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(new RegExp(`^[A-Za-z0-9_-]{${TOKEN_LENGTH}}$`));
  });

  it('should store only the digest of a token', () => {
    const token = newToken();
    const line = credentialLine({ name: 'agent-a', roles: [Role.HOST], hostId: 'host-a' }, token);
    expect(line).toBe(`agent-a host:host-a ${tokenDigest(token)}`);
    expect(line).not.toContain(token);
    expect(tokenDigest(token)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('should read comments, blank lines and several roles, and know each token by its digest', () => {
    const [viewer, fence, agent] = [newToken(), newToken(), newToken()];
    const store = CredentialStore.parse(
      [
        '# name  roles  digest',
        '',
        credentialLine({ name: 'grafana', roles: [Role.VIEWER] }, viewer),
        `   ${credentialLine({ name: 'fence-agent', roles: [Role.FENCER, Role.VIEWER] }, fence)}   `,
        credentialLine({ name: 'agent-a', roles: [Role.HOST], hostId: 'host-a' }, agent),
      ].join('\r\n'),
      SOURCE,
    );
    expect(store.size).toBe(3);
    expect(store.authenticate(viewer)).toEqual({ name: 'grafana', roles: ['viewer'], hostId: null, open: false });
    expect(store.authenticate(fence)).toEqual({ name: 'fence-agent', roles: ['fencer', 'viewer'], hostId: null, open: false });
    expect(store.authenticate(agent)).toEqual({ name: 'agent-a', roles: ['host'], hostId: 'host-a', open: false });
  });

  it.each([
    ['an unknown token', () => newToken()],
    ['a known token with one character changed', (t: string) => `${t.slice(0, -1)}${t.endsWith('A') ? 'B' : 'A'}`],
    ['the digest instead of the token', (t: string) => tokenDigest(t)],
    ['an empty token', () => ''],
    ['a token of a megabyte', () => 'x'.repeat(1_048_576)],
  ])('should not know %s', (_what, make) => {
    const token = newToken();
    const store = CredentialStore.parse(credentialLine({ name: 'ops', roles: [Role.OPERATOR] }, token), SOURCE);
    expect(store.authenticate(make(token))).toBeNull();
    expect(store.authenticate(token)).not.toBeNull();
  });

  it.each([
    ['a line of two fields', `ops operator`, 'found 2 field(s)'],
    ['a line of four fields', `ops operator ${DIGEST} extra`, 'found 4 field(s)'],
    ['an unknown role', `ops admin ${DIGEST}`, 'unknown role "admin"'],
    ['a role given twice', `ops viewer,viewer ${DIGEST}`, 'given twice'],
    ['a host role without its host', `agent host ${DIGEST}`, 'host:<host id>'],
    ['a host on another role', `ops operator:host-a ${DIGEST}`, 'only the host role takes a host'],
    ['a digest without its algorithm', `ops operator ${DIGEST.slice('sha256:'.length)}`, 'sha256:'],
    ['a digest of the wrong length', `ops operator ${DIGEST.slice(0, -2)}`, 'sha256:'],
    ['a digest in upper case', `ops operator sha256:${DIGEST.slice('sha256:'.length).toUpperCase()}`, 'sha256:'],
    ['a plain token where the digest goes', `ops operator ${newToken()}`, 'sha256:'],
    ['a name given twice', `ops operator ${DIGEST}\nops viewer ${tokenDigest('other')}`, 'the name "ops" is given twice'],
    ['a token given twice', `ops operator ${DIGEST}\ngrafana viewer ${DIGEST}`, 'the same token is given twice'],
    ['no credential at all', `# nobody\n\n`, 'no credential'],
  ])('should refuse %s, naming the line', (_what, text, reason) => {
    expect(() => CredentialStore.parse(text, SOURCE)).toThrow(reason);
    if (text.includes('\n') === false) expect(() => CredentialStore.parse(text, SOURCE)).toThrow(`${SOURCE}:1:`);
  });

  it('should refuse to start on a credentials file it cannot read', () => {
    const config = { ...readConfig({}), port: 0, credentialsFile: '/nonexistent/transit-credentials' };
    expect(() => buildApp({ config, logging: false })).toThrow('cannot read the credentials file /nonexistent/transit-credentials');
  });

  it('should start on a valid file, and listen beyond loopback with it', async () => {
    const { path } = writeCredentials();
    const app = buildApp({ config: { ...readConfig({}), host: '0.0.0.0', port: 0, credentialsFile: path }, logging: false });
    await app.stop();
  });
});

describe('npm run token', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH } });

  it('should print a token once and the line that lets it in', () => {
    const { status, stdout } = run('--role', 'host', '--host', 'host-a');
    expect(status).toBe(0);
    const token = /^ {2}([A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1] as string;
    const line = /^ {2}(host-a host:host-a sha256:[0-9a-f]{64})$/m.exec(stdout)?.[1] as string;
    expect(token).toBeDefined();
    expect(line).toBeDefined();
    expect(CredentialStore.parse(line, SOURCE).authenticate(token)).toEqual({ name: 'host-a', roles: ['host'], hostId: 'host-a', open: false });
  });

  it.each([
    ['no role', []],
    ['an unknown role', ['--role', 'admin']],
    ['a host role without its host', ['--role', 'host']],
    ['a host with another role', ['--role', 'viewer', '--host', 'host-a']],
  ])('should refuse %s with a usage message and exit 2', (_what, args) => {
    const { status, stderr, stdout } = run(...args);
    expect(status).toBe(2);
    expect(stderr).toContain('usage: npm run token');
    expect(stdout).toBe('');
  });
});
