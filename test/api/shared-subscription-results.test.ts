/**
 * `useSharedSubscriptionResults`: subscribers of the same operation get one execution per item,
 * shared; another operation, or other variables, get their own; a subscriber that leaves releases
 * its source stream.
 */
import { parse, type DocumentNode, type ExecutionResult } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useSharedSubscriptionResults } from '../../src/server/subscriptions/shared-subscription-results.js';

interface Tick {
  readonly n: number;
}

/** A tiny schema whose subscription hands every subscriber the same item objects, counting field executions. */
function setup() {
  const ticks: Tick[] = [{ n: 1 }, { n: 2 }];
  const executions: string[] = [];
  let released = 0;
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      type Tick { n: Int! label(prefix: String): String! }
      type Query { ok: Boolean }
      type Subscription { ticks: Tick! }
    `,
    resolvers: {
      Subscription: {
        ticks: {
          subscribe: () => {
            let at = 0;
            return {
              next: async () => (at < ticks.length ? { done: false, value: ticks[at++] } : { done: true, value: undefined }),
              return: async () => {
                released++;
                return { done: true, value: undefined };
              },
              [Symbol.asyncIterator]() {
                return this;
              },
            };
          },
          resolve: (tick: Tick) => tick,
        },
      },
      Tick: {
        label: (tick: Tick, { prefix }: { prefix?: string | null }) => {
          executions.push(`${prefix ?? ''}${tick.n}`);
          return `${prefix ?? ''}${tick.n}`;
        },
      },
    },
  });
  const yoga = createYoga({ schema, plugins: [useSharedSubscriptionResults()], logging: false });
  // As yoga's parse cache does: one document object per query text.
  const documents = new Map<string, DocumentNode>();
  const subscribe = async (query: string, variableValues: Record<string, unknown> = {}) => {
    const { schema: enveloped, subscribe: run, contextFactory } = yoga.getEnveloped({});
    if (!documents.has(query)) documents.set(query, parse(query));
    const document = documents.get(query) as DocumentNode;
    return (await run({ schema: enveloped, document, variableValues, contextValue: await contextFactory() })) as AsyncIterableIterator<ExecutionResult>;
  };
  return { subscribe, executions, released: () => released };
}

const take = async (stream: AsyncIterableIterator<ExecutionResult>, count: number) => {
  const results: unknown[] = [];
  for (let i = 0; i < count; i++) results.push((await stream.next()).value?.data);
  return results;
};

describe('shared subscription results', () => {
  const SAME = 'subscription ($prefix: String) { ticks { n label(prefix: $prefix) } }';

  it('should execute an item once for every subscriber of the same operation and variables', async () => {
    const { subscribe, executions } = setup();
    const a = await subscribe(SAME, { prefix: 'x' });
    const b = await subscribe(SAME, { prefix: 'x' });
    const c = await subscribe(SAME, { prefix: 'x' });
    const expected = [{ ticks: { n: 1, label: 'x1' } }, { ticks: { n: 2, label: 'x2' } }];
    expect(await take(a, 2)).toEqual(expected);
    expect(await take(b, 2)).toEqual(expected);
    expect(await take(c, 2)).toEqual(expected);
    expect(executions).toEqual(['x1', 'x2']);
  });

  it('should execute an item apart for other variables', async () => {
    const { subscribe, executions } = setup();
    const a = await subscribe(SAME, { prefix: 'x' });
    const b = await subscribe(SAME, { prefix: 'y' });
    expect(await take(a, 1)).toEqual([{ ticks: { n: 1, label: 'x1' } }]);
    expect(await take(b, 1)).toEqual([{ ticks: { n: 1, label: 'y1' } }]);
    expect(executions).toEqual(['x1', 'y1']);
  });

  it('should release the source stream when the subscriber leaves', async () => {
    const { subscribe, released } = setup();
    const a = await subscribe(SAME);
    await take(a, 1);
    await a.return?.();
    expect(released()).toBe(1);
  });
});
