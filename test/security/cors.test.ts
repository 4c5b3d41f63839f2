/**
 * Cross-origin HTTP (issue 12, item 3): a page of another origin may not drive Transit through a
 * browser. A preflight from it is refused, and so is the request itself, with ORIGIN_NOT_ALLOWED;
 * the same origin, clients that send no Origin (agents, scripts) and the origins an operator
 * allows (`TRANSIT_CORS_ORIGINS`) are served. WebSockets follow the same policy.
 */
import { describe, expect, it } from 'vitest';
import { readConfig } from '../../src/config.js';
import { observe, setupFleet } from '../utils/domain.js';
import { codesOf, post, rawSocket, socketEnd } from '../utils/security.js';
import { serverPerTest } from '../utils/server.js';

const EVIL = 'https://evil.example';
const DASHBOARD = 'https://dashboard.example:8443';
const MIGRATE = JSON.stringify({ query: 'mutation { migrateVm(input: { vmId: "vm-1" }) { migration { id } errors { code } } }' });

const preflight = (url: string, origin: string) =>
  fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' } });

describe('cross-origin requests, open mode with the default policy', () => {
  const server = serverPerTest();

  it('should refuse the preflight of a page of another origin, without CORS headers', async () => {
    const response = await preflight(server().url, EVIL);
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('should refuse the request of a page of another origin, changing nothing', async () => {
    setupFleet(server().app.table, { hosts: { 'host-a': ['vm-1'], 'host-b': [] } });
    const before = observe(server().app.table);
    const answer = await post(server().url, { body: MIGRATE, headers: { origin: EVIL } });
    expect(answer.status).toBe(403);
    expect(codesOf(answer)).toEqual(['ORIGIN_NOT_ALLOWED']);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    expect(observe(server().app.table)).toEqual(before);
  });

  it('should refuse an Origin that is no URL, and the opaque origin of a sandboxed page', async () => {
    for (const origin of ['null', 'not a url']) {
      const answer = await post(server().url, { body: JSON.stringify({ query: '{ engine { cursor } }' }), headers: { origin } });
      expect({ origin, codes: codesOf(answer) }).toEqual({ origin, codes: ['ORIGIN_NOT_ALLOWED'] });
    }
  });

  it('should serve its own origin (GraphiQL) and clients that send no Origin', async () => {
    const own = new URL(server().url).origin;
    const fromGraphiql = await post(server().url, { body: JSON.stringify({ query: '{ engine { cursor } }' }), headers: { origin: own } });
    expect(fromGraphiql.status).toBe(200);
    expect(codesOf(fromGraphiql)).toEqual([]);
    const fromScript = await post(server().url, { body: JSON.stringify({ query: '{ engine { cursor } }' }) });
    expect(fromScript.status).toBe(200);
  });
});

describe('cross-origin requests from an allowed origin', () => {
  const server = serverPerTest({ corsOrigins: [DASHBOARD] });

  it('should answer its preflight with that origin only, and no credentials', async () => {
    const response = await preflight(server().url, DASHBOARD);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    expect(response.headers.get('access-control-allow-headers')?.split(/, */)).toEqual(expect.arrayContaining(['content-type', 'authorization']));
    expect(response.headers.get('vary')).toMatch(/Origin/);
  });

  it('should serve its requests with the CORS header, and still refuse other origins', async () => {
    const allowed = await post(server().url, { body: JSON.stringify({ query: '{ engine { cursor } }' }), headers: { origin: DASHBOARD } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(DASHBOARD);
    expect((await preflight(server().url, EVIL)).status).toBe(403);
  });

  it('should let that origin open a WebSocket, and refuse another one', async () => {
    const allowed = rawSocket(server().wsUrl, { origin: DASHBOARD });
    await new Promise<void>((resolve, reject) => {
      allowed.once('open', () => resolve());
      allowed.once('unexpected-response', (_request, response) => reject(new Error(`refused: ${response.statusCode}`)));
    });
    allowed.close();
    expect(await socketEnd(rawSocket(server().wsUrl, { origin: EVIL }))).toBe(-403);
  });
});

describe('TRANSIT_CORS_ORIGINS', () => {
  it('should read a comma-separated list of origins, none by default', () => {
    expect(readConfig({}).corsOrigins).toEqual([]);
    expect(readConfig({ TRANSIT_CORS_ORIGINS: 'https://a.example, http://b.example:8080' }).corsOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
  });

  it.each(['*', 'https://a.example/path', 'a.example', 'ftp://a.example'])('should refuse %s, which is no origin', (value) => {
    expect(() => readConfig({ TRANSIT_CORS_ORIGINS: value })).toThrow(/TRANSIT_CORS_ORIGINS/);
  });
});
