/**
 * GraphiQL on `/graphql` against a Transit with a credentials file, in a real headless Chromium:
 * its fetcher (src/dashboard/graphiql-fetcher.ts) sends the header editor's Authorization header as
 * graphql-ws `connectionParams`, so subscriptions work, and a refused socket ends the subscription
 * with an error GraphiQL shows instead of spinning forever.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { browserPerFile, errorsOf } from '../utils/browser.js';
import { startSecureServer, type SecureServer } from '../utils/security.js';

const browser = browserPerFile();

/** Runs the page's fetcher as GraphiQL does, and returns the first result it yields. */
const firstResult = (page: Page, query: string, headers: Record<string, string>) =>
  page.evaluate(
    async ({ query, headers }) => {
      const fetcher = (window as unknown as { TransitGraphiQL: { fetcher: (p: { query: string }, o: { headers: Record<string, string> }) => unknown } }).TransitGraphiQL.fetcher;
      const result = fetcher({ query }, { headers });
      if (typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
        for await (const item of result as AsyncIterable<unknown>) return item;
        return null;
      }
      return await result;
    },
    { query, headers },
  );

describe('GraphiQL with a credentials file', { timeout: 60_000 }, () => {
  // GraphiQL is a heavy page (its editor and workers): one server and one page for the file.
  let server: SecureServer;
  let graphiql: Page;
  beforeAll(async () => {
    server = await startSecureServer();
    graphiql = await browser.page();
    await graphiql.goto(server.url);
    await graphiql.locator('.graphiql-container').first().waitFor({ timeout: 60_000 });
    await graphiql.waitForFunction(() => (window as unknown as { TransitGraphiQL?: { fetcher: unknown } }).TransitGraphiQL?.fetcher != null);
  }, 90_000);
  afterAll(async () => {
    await server.stop();
  });
  const openGraphiQL = async (): Promise<Page> => graphiql;

  it('should run a subscription with the Authorization header of the header editor, sent as connectionParams', async () => {
    const page = await openGraphiQL();
    const subscription = 'subscription Watch { transitions { cause hostId } }';
    const first = firstResult(page, subscription, { Authorization: `Bearer ${server.tokens.viewer}` });
    await server.untilSubscribers(1);
    await server.as('operator', 'mutation { registerHost(input: { hostId: "host-z" }) { errors { code } } }');
    expect(await first).toEqual({ data: { transitions: { cause: 'HOST_REGISTERED', hostId: 'host-z' } } });
    // Queries go over HTTP with the same header.
    expect(await firstResult(page, '{ hosts { id } }', { authorization: `Bearer ${server.tokens.viewer}` })).toEqual({ data: { hosts: [{ id: 'host-z' }] } });
    expect(errorsOf(page)).toEqual([]);
  });

  it('should end a subscription the server refuses (4403) with an error to show, not wait forever', async () => {
    const page = await openGraphiQL();
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }] as Record<string, string>[]) {
      const result = (await firstResult(page, 'subscription { transitions { cursor } }', headers)) as { errors: { message: string }[] };
      expect(result.errors[0]?.message).toMatch(/^The WebSocket was closed by the server: 4403/);
    }
    expect(errorsOf(page)).toEqual([]);
  });
});
