/**
 * The limits on an operation's shape: generous enough for every document Transit's own clients
 * send (GraphiQL's default query, the simulator, introspection), enforced over graphql-ws as over
 * HTTP, and introspection can be switched off for both.
 */
import { getIntrospectionQuery, parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { PAGE_SIZE } from '../../src/schema/cursors.js';
import { GRAPHIQL_QUERY } from '../../src/server/http/app.js';
import { DEFAULT_ASSUMED_LIST_SIZE, estimateOperationCost } from '../../src/server/security/cost-limit.js';
import { VMS_PAGE } from '../../src/sim/operations.js';
import { setupFleet } from '../utils/domain.js';
import { codesOf, fragmentChain, pagedCostBomb, post, wsClientAs } from '../utils/security.js';
import { serverPerTest } from '../utils/server.js';

/** The first result (or error list) of one operation over graphql-ws. */
function overWs(url: string, query: string): Promise<{ codes: unknown[]; data: unknown }> {
  const ws = wsClientAs(url, null);
  return new Promise<{ codes: unknown[]; data: unknown }>((resolve) => {
    ws.client.subscribe(
      { query },
      {
        next: (result) => resolve({ codes: (result.errors ?? []).map((e) => e.extensions?.code), data: result.data }),
        error: (errors) => resolve({ codes: (errors as { extensions?: { code?: unknown } }[]).map((e) => e.extensions?.code), data: undefined }),
        complete: () => undefined,
      },
    );
  }).finally(() => ws.dispose());
}

const estimate = (query: string) =>
  estimateOperationCost({ schema, document: parse(query) }, { maxCost: 0, pageSize: PAGE_SIZE, assumedListSize: DEFAULT_ASSUMED_LIST_SIZE })?.cost;

describe('query limits', () => {
  it.each([
    ['{ engine { cursor } }', 2],
    ['{ hosts { id } }', 200],
    ['{ hosts { vms { host { vms { id } } } } }', 2_020_100],
    ['{ vms(first: 10) { edges { node { id } } } }', 31],
    ['query ($n: Int) { vms(first: $n) { edges { node { id } } } }', 3_001],
    ['{ vms { edges { node { id } } } }', 151],
  ])('should estimate %s at %d values', (query, cost) => {
    expect(estimate(query)).toBe(cost);
  });

  it('should price a page asked for by a variable at the page its value asks for, and at the largest page when it has no integer value', () => {
    const query = 'query ($n: Int) { vms(first: $n) { edges { node { id } } } }';
    const withVariables = (variableValues: Record<string, unknown>) =>
      estimateOperationCost({ schema, document: parse(query), variableValues }, { maxCost: 0, pageSize: PAGE_SIZE, assumedListSize: DEFAULT_ASSUMED_LIST_SIZE })?.cost;
    expect(withVariables({ n: 10 })).toBe(31); // as `first: 10`
    expect(withVariables({ n: 5_000 })).toBe(3_001); // never more than a page may hold (the resolver refuses it)
    expect(withVariables({ n: 'ten' })).toBe(3_001);
    expect(withVariables({})).toBe(3_001);
  });

  it.each([
    ['{ engine { cursor } }', {}, true],
    ['{ hosts { id } }', {}, true], // the list's assumed size
    ['{ hosts { id } }', { 'Query.hosts': () => 3 }, false], // the list's size as it is now
    ['query ($n: Int) { vms(first: $n) { edges { node { id } } } }', {}, false],
  ])('should say whether the estimate of %s (list sizes read: %o) holds for every request of the document', (query, listSizes, same) => {
    const estimated = estimateOperationCost({ schema, document: parse(query), variableValues: { n: 10 } }, { maxCost: 0, pageSize: PAGE_SIZE, assumedListSize: DEFAULT_ASSUMED_LIST_SIZE, listSizes });
    expect(estimated?.sameForEveryRequest).toBe(same);
  });

  it('should count a fragment spread twice in one selection once, as execution does (issue 12, item 1)', () => {
    // Each fragment spreads the next twice: expanded at every spread, 2^15 copies of `cursor`.
    expect(estimate(fragmentChain(16))).toBe(2);
    expect(estimate('{ hosts { ...A ...A } } fragment A on Host { id ...B } fragment B on Host { id }')).toBe(200);
  });

  it('should still count a fragment spread under two different fields once for each', () => {
    expect(estimate('{ a: engine { ...E } b: engine { ...E } } fragment E on Engine { cursor epoch }')).toBe(6);
  });

  describe('with the default limits', () => {
    const server = serverPerTest();

    it.each([
      ["GraphiQL's default query", GRAPHIQL_QUERY],
      ["the simulator's page of VMs", VMS_PAGE],
      ['the introspection query', getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, inputValueDeprecation: true })],
    ])('should run %s', async (_what, query) => {
      const answer = await post(server().url, { body: JSON.stringify({ query }) });
      expect(codesOf(answer)).toEqual([]);
      expect(answer.status).toBe(200);
    });

    it.each([
      ['an alias bomb', `{ ${Array.from({ length: 100 }, (_, i) => `a${i}: engine { cursor }`).join(' ')} }`, 'TOO_MANY_ALIASES'],
      ['a token flood', `{ engine { ${'cursor '.repeat(3_000)} } }`, 'TOO_MANY_TOKENS'],
      ['a cost bomb', pagedCostBomb, 'QUERY_TOO_COSTLY'],
      ['a syntax error', '{ engine { cursor ', 'GRAPHQL_PARSE_FAILED'],
    ])('should refuse %s over graphql-ws as over HTTP, and keep the connection', async (_what, query, code) => {
      const http = await post(server().url, { body: JSON.stringify({ query }) });
      expect(codesOf(http)).toEqual([code]);
      expect((await overWs(server().wsUrl, query)).codes).toEqual([code]);
      expect((await overWs(server().wsUrl, '{ engine { cursor } }')).codes).toEqual([]);
    });
  });

  describe('unpaged lists priced at their real size (issue 12, item 6)', () => {
    const server = serverPerTest({ maxCost: 1_000 });
    const VMS_OF_HOST = '{ host(id: "host-big") { id vms { id status } } }';

    it('should refuse listing a host whose VMs are more than the limit allows, and list it when they are fewer', async () => {
      // 2 + 400 × 3 = 1,202 values: above 1,000 (an unpaged list assumed 100 long would count 302).
      setupFleet(server().app.table, { hosts: { 'host-big': Array.from({ length: 400 }, (_, i) => `vm-${i}`), 'host-small': ['vm-s'] } });
      const refused = await post(server().url, { body: JSON.stringify({ query: VMS_OF_HOST }) });
      expect(codesOf(refused)).toEqual(['QUERY_TOO_COSTLY']);
      expect(refused.status).toBe(400);
      expect(refused.result?.errors?.[0]?.extensions?.cost).toBe(1_202);
      // Priced by the lists as they are when asked, not when the document was first seen.
      const full = server().app.table.reportVmStatuses({ hostId: 'host-big', full: true, vms: Array.from({ length: 10 }, (_, i) => ({ vmId: `vm-${i}`, status: 'UP' as const })) });
      expect(full.ok).toBe(true);
      const answered = await post(server().url, { body: JSON.stringify({ query: VMS_OF_HOST }) });
      expect(codesOf(answered)).toEqual([]);
      expect((answered.result?.data?.host as { vms: unknown[] }).vms).toHaveLength(10);
    });

    it('should price the hosts list at the number of hosts, over graphql-ws as over HTTP', async () => {
      const query = '{ hosts { id cluster status } }';
      setupFleet(server().app.table, { hosts: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`h-${i}`, []])) });
      expect(codesOf(await post(server().url, { body: JSON.stringify({ query }) }))).toEqual(['QUERY_TOO_COSTLY']);
      expect((await overWs(server().wsUrl, query)).codes).toEqual(['QUERY_TOO_COSTLY']);
    });
  });

  describe('pages asked for by a variable, priced by its value (the dashboard asks `first: $rows`)', () => {
    const server = serverPerTest({ maxCost: 1_000 });
    const PAGE = 'query ($n: Int!) { vms(first: $n) { edges { node { id status } } } }';

    it('should answer a small page and refuse a large one, over HTTP', async () => {
      // 1 + n × (1 + 1 + 2) values: 41 for 10 VMs, 2,001 for 500 (a variable used to be priced as the largest page: 4,001).
      const small = await post(server().url, { body: JSON.stringify({ query: PAGE, variables: { n: 10 } }) });
      expect([codesOf(small), small.status]).toEqual([[], 200]);
      const large = await post(server().url, { body: JSON.stringify({ query: PAGE, variables: { n: 500 } }) });
      expect(codesOf(large)).toEqual(['QUERY_TOO_COSTLY']);
      expect(large.result?.errors?.[0]?.extensions?.cost).toBe(2_001);
    });
  });

  describe('introspection switched off', () => {
    const server = serverPerTest({ introspection: false });
    const INTROSPECT = '{ __schema { queryType { name } } }';

    it('should refuse introspection over HTTP and graphql-ws', async () => {
      // One error per introspection field (`__schema`, then `queryType` of type `__Type`).
      expect(new Set(codesOf(await post(server().url, { body: JSON.stringify({ query: INTROSPECT }) })))).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
      expect(new Set((await overWs(server().wsUrl, INTROSPECT)).codes)).toEqual(new Set(['GRAPHQL_VALIDATION_FAILED']));
      expect(codesOf(await post(server().url, { body: JSON.stringify({ query: '{ __typename engine { cursor } }' }) }))).toEqual([]);
    });

    it('should not suggest field names', async () => {
      const answer = await post(server().url, { body: JSON.stringify({ query: '{ engin { cursor } }' }) });
      expect(codesOf(answer)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
      expect(answer.text).not.toContain('Did you mean');
    });
  });
});
