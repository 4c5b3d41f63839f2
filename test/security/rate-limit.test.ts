/**
 * The mutation rate limit, per credential (decisions.md): a token bucket of `mutationBurst` that
 * refills `mutationsPerSecond` a second by the engine's clock; each root mutation field takes one
 * token; an operation short of tokens is refused whole with RATE_LIMITED and runs nothing.
 */
import { describe, expect, it } from 'vitest';
import { graphql } from '../gql/index.js';
import { TokenBuckets } from '../../src/server/security/rate-limit.js';
import { ManualClock } from '../utils/clock.js';
import { codesOf, HOST_A, securePerTest, wsClientAs } from '../utils/security.js';
import { subscribeWs } from '../utils/ws.js';

const PER_SECOND = 2;
const BURST = 3;
/** How long one token takes to come back, in ms. */
const REFILL_MS = 1_000 / PER_SECOND;

const report = (vmId = 'vm-1') => `mutation { reportVmStatuses(input: { hostId: "${HOST_A}", vms: [{ vmId: "${vmId}", status: UP }] }) { errors { code } } }`;

const WS_REPORT = graphql(`
  mutation RateLimitReport($input: ReportVmStatusesInput!) {
    reportVmStatuses(input: $input) { errors { code } }
  }
`);

describe('token buckets', () => {
  it('should give a burst, then one token per refill interval, per key', () => {
    const clock = new ManualClock(0);
    const buckets = new TokenBuckets({ perSecond: PER_SECOND, burst: BURST, clock: clock.read });
    for (let i = 0; i < BURST; i++) expect(buckets.take('a', 1)).toBe(0);
    expect(buckets.take('a', 1)).toBe(REFILL_MS);
    expect(buckets.take('b', 1)).toBe(0); // another credential has its own bucket
    clock.advance(REFILL_MS);
    expect(buckets.take('a', 1)).toBe(0);
    expect(buckets.take('a', 1)).toBe(REFILL_MS);
    clock.advance(60_000); // a long pause refills up to the burst, not beyond
    expect(buckets.take('a', BURST)).toBe(0);
    expect(buckets.take('a', 1)).toBeGreaterThan(0);
  });

  it('should refuse for ever an operation above the burst, taking nothing', () => {
    const buckets = new TokenBuckets({ perSecond: PER_SECOND, burst: BURST, clock: () => 0 });
    expect(buckets.take('a', BURST + 1)).toBe(Number.POSITIVE_INFINITY);
    expect(buckets.take('a', BURST)).toBe(0);
  });
});

describe('the mutation rate limit', () => {
  const server = securePerTest({ mutationsPerSecond: PER_SECOND, mutationBurst: BURST });

  it('should refuse the mutation past the burst with 429, Retry-After and retryAfterMs, then let one through per interval', async () => {
    for (let i = 0; i < BURST; i++) expect(codesOf(await server().as('hostA', report()))).toEqual([]);
    const seq = server().app.table.latestSeq;
    const refused = await server().as('hostA', report('vm-new'));
    expect(refused.status).toBe(429);
    expect(codesOf(refused)).toEqual(['RATE_LIMITED']);
    expect(refused.result?.errors?.[0]?.extensions?.retryAfterMs).toBe(REFILL_MS);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(server().app.table.vm('vm-new')).toBeUndefined();
    expect(server().app.table.latestSeq).toBe(seq);

    server().clock.advance(REFILL_MS);
    expect(codesOf(await server().as('hostA', report('vm-new')))).toEqual([]);
    expect(codesOf(await server().as('hostA', report()))).toEqual(['RATE_LIMITED']);
  });

  it('should count per credential, and not count queries', async () => {
    for (let i = 0; i < BURST; i++) await server().as('hostA', report());
    expect(codesOf(await server().as('hostA', report()))).toEqual(['RATE_LIMITED']);
    expect(codesOf(await server().as('operator', 'mutation { registerHost(input: { hostId: "host-z" }) { errors { code } } }'))).toEqual([]);
    for (let i = 0; i < 10 * BURST; i++) expect(codesOf(await server().as('viewer', '{ engine { cursor } }'))).toEqual([]);
  });

  it('should count each mutation of an operation, and refuse one above the burst whole', async () => {
    const many = (n: number) => `mutation { ${Array.from({ length: n }, (_, i) => `r${i}: registerHost(input: { hostId: "host-${i}" }) { errors { code } }`).join(' ')} }`;
    const above = await server().as('operator', many(BURST + 1));
    expect(codesOf(above)).toEqual(['RATE_LIMITED']);
    expect(above.result?.errors?.[0]?.message).toContain(`above the burst of ${BURST}`);
    expect(server().app.table.hosts()).toEqual([]);
    expect(codesOf(await server().as('operator', many(BURST)))).toEqual([]);
    expect(server().app.table.hosts()).toHaveLength(BURST);
  });

  it('should count mutations over graphql-ws in the same bucket', async () => {
    for (let i = 0; i < BURST; i++) await server().as('hostA', report());
    const ws = wsClientAs(server().wsUrl, server().tokens.hostA);
    try {
      const result = subscribeWs(ws, WS_REPORT, { input: { hostId: HOST_A, vms: [{ vmId: 'vm-1', status: 'DOWN' }] } });
      await result.ended();
      expect(result.errorCodes).toEqual(['RATE_LIMITED']);
      expect(result.errors[0]?.extensions?.http).toBeUndefined();
    } finally {
      await ws.dispose();
    }
  });
});
