/**
 * The authorization policy (src/server/authorization.ts) covers the whole schema, and an operation
 * cannot slip a field past it: fragments, inline fragments and `@skip` are looked through, and an
 * operation is refused whole, running nothing.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_POLICY } from '../../src/server/security/authorization.js';
import { schema } from '../../src/schema/index.js';
import { setupFleet } from '../utils/domain.js';
import { codesOf, HOST_A, HOST_B, securePerTest } from '../utils/security.js';

const FENCE = `reportFenceResult(input: { hostId: "${HOST_B}", succeeded: true, method: MANUAL }) { errors { code } }`;

describe('the authorization policy', () => {
  it.each(['mutation', 'subscription'] as const)('should name every %s field of the schema, and only those', (operation) => {
    const root = operation === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
    expect(Object.keys(ACCESS_POLICY[operation]).sort()).toEqual(Object.keys(root?.getFields() ?? {}).sort());
  });

  describe('operations', () => {
    const server = securePerTest();

    it.each([
      ['in a fragment spread', `mutation { ...F } fragment F on Mutation { ${FENCE} }`],
      ['in an inline fragment', `mutation { ... on Mutation { ${FENCE} } }`],
      ['in a nested inline fragment', `mutation { ... { ... on Mutation { ${FENCE} } } }`],
      ['under @skip(if: true)', `mutation { reportFenceResult(input: { hostId: "${HOST_B}", succeeded: true, method: MANUAL }) @skip(if: true) { errors { code } } }`],
      ['under @include(if: $run) with run false', `mutation ($run: Boolean!) { ${FENCE.replace(') {', ') @include(if: $run) {')} }`, { run: false }],
      ['beside a permitted report', `mutation { reportVmStatuses(input: { hostId: "${HOST_A}", vms: [] }) { errors { code } } ${FENCE} }`],
    ])('should find a forbidden field %s, and run nothing', async (_where, query, variables?: Record<string, unknown>) => {
      setupFleet(server().app.table, { hosts: { [HOST_A]: ['vm-1'], [HOST_B]: [] } });
      const seq = server().app.table.latestSeq;
      const answer = await server().as('hostA', query, variables);
      expect(codesOf(answer)).toEqual(['FORBIDDEN']);
      expect(server().app.table.latestSeq).toBe(seq);
    });

    it.each([
      ['hostA', '{ __schema { queryType { name } } }'],
      ['fencer', '{ __typename }'],
      ['viewer', 'mutation { __typename }'],
    ] as const)('should let %s read the schema itself: %s', async (who, query) => {
      expect(codesOf(await server().as(who, query))).toEqual([]);
    });

    it('should refuse a document with two operations and no operationName, running neither', async () => {
      const answer = await server().as('hostA', `mutation A { reportVmStatuses(input: { hostId: "${HOST_A}", vms: [] }) { errors { code } } } mutation B { ${FENCE} }`);
      // yoga refuses it before execution; authorization would too (it fails closed).
      expect(codesOf(answer)).toEqual(['OPERATION_RESOLUTION_FAILURE']);
      expect(server().app.table.hosts()).toEqual([]);
    });

    it("should refuse a host's report whose variables do not fit their types as bad input, running nothing", async () => {
      const answer = await server().as('hostA', 'mutation ($input: ReportVmStatusesInput!) { reportVmStatuses(input: $input) { errors { code } } }', {
        input: { hostId: HOST_A, vms: [{ vmId: 'vm-1', status: 'FLYING' }] },
      });
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(server().app.table.hosts()).toEqual([]);
    });

    it('should bind a host credential to its host whether the host id is a literal or a variable', async () => {
      const literal = await server().as('hostA', `mutation { reportVmStatuses(input: { hostId: "${HOST_B}", vms: [] }) { errors { code } } }`);
      const variable = await server().as('hostA', 'mutation ($h: ID!) { reportVmStatuses(input: { hostId: $h, vms: [] }) { errors { code } } }', { h: HOST_B });
      expect([codesOf(literal), codesOf(variable)]).toEqual([['FORBIDDEN'], ['FORBIDDEN']]);
      const own = await server().as('hostA', 'mutation ($h: ID!) { reportVmStatuses(input: { hostId: $h, vms: [] }) { errors { code } } }', { h: HOST_A });
      expect(codesOf(own)).toEqual([]);
      expect(server().app.table.hosts().map((h) => h.id)).toEqual([HOST_A]);
    });
  });
});
