/**
 * `GET /` and the dashboard's assets over plain HTTP (the browser tests drive the page itself):
 * served by the same process, same-origin only (CSP), revalidated by ETag, nothing from a CDN.
 */
import { describe, expect, it } from 'vitest';
import { DOCUMENTS, ROWS } from '../../src/dashboard/graphql/documents.js';
import { PART_TWO_FIELDS } from '../../src/dashboard/graphql/part-two.js';
import { setupFleet } from '../utils/domain.js';
import { serverPerTest } from '../utils/server.js';

const server = serverPerTest();
const at = (path: string, init?: RequestInit) => fetch(new URL(path, server().url), { redirect: 'manual', ...init });

describe('the dashboard over HTTP', () => {
  it('should serve the page at / with a same-origin content security policy', async () => {
    const response = await at('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('content-security-policy')).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/dashboard/app.js">');
    // Nothing from elsewhere: every src and href is on this server (or a data: icon).
    for (const [, url] of html.matchAll(/(?:src|href)="([^"]*)"/g)) expect(url).toMatch(/^(\/|data:)/);
  });

  it('should serve the bundled app and its style, revalidated by ETag', async () => {
    const script = await at('/dashboard/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const body = await script.text();
    expect(body.includes('RESYNC_REQUIRED')).toBe(true);
    // Nothing fetched from a CDN at run time.
    expect(/unpkg\.com|jsdelivr|cdnjs|esm\.sh|skypack/.test(body)).toBe(false);
    const etag = script.headers.get('etag') as string;
    expect((await at('/dashboard/app.js', { headers: { 'if-none-match': etag } })).status).toBe(304);
    const style = await at('/dashboard/app.css');
    expect([style.status, style.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
    expect((await at('/dashboard/nothing.js')).status).toBe(404);
  });

  it('should send /dashboard and /ui to / and leave /graphql and /health as they were', async () => {
    for (const path of ['/dashboard', '/ui']) {
      const response = await at(path);
      expect([response.status, response.headers.get('location')]).toEqual([308, '/']);
    }
    expect((await at('/health')).status).toBe(200);
    const graphiql = await at('/graphql', { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toContain('<script src="/dashboard/graphiql-fetcher.js"></script>');
    expect((await at('/dashboard/graphiql-fetcher.js')).status).toBe(200);
  });

  it("should answer the dashboard's state query, part two included, on a fleet of 1,000 hosts with the default limits", async () => {
    // The query that loads the page: with `first: $rows` priced as the largest page (1,000) it was
    // refused QUERY_TOO_COSTLY (126,148 values > 100,000) and the page never loaded.
    expect(PART_TWO_FIELDS).toBe(true);
    setupFleet(server().app.table, { hosts: Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`host-${i}`, [`vm-${i}`]])) });
    const { status, result } = await server().requestText(DOCUMENTS.state, { rows: ROWS });
    expect(result.errors ?? []).toEqual([]);
    expect(status).toBe(200);
    expect(result.data?.hosts).toHaveLength(1_000);
    expect(result.data).toHaveProperty('queue');
    expect(result.data).toHaveProperty('evacuations');
  });
});
