/**
 * Shared subscription results: subscribers of the same operation get one execution per item,
 * shared, and (on the broadcast path) one serialization; another operation, or other variables,
 * get their own; a subscriber that leaves releases its source stream; a shared execution cannot
 * read who subscribed.
 */
import { parse, type DocumentNode, type ExecutionResult } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { sharedSubscriptionResults, useSharedSubscriptionResults } from '../../src/server/subscriptions/shared-subscription-results.js';
import { SubscriberStream } from '../../src/server/subscriptions/subscriber-stream.js';

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

/** A schema whose subscription is a subscriber stream per subscriber, fed by `publish`, as Transit's feeds are. */
function broadcastSetup(options: { readPrincipal?: boolean } = {}) {
  const streams: SubscriberStream<Tick>[] = [];
  const executions: number[] = [];
  const schema = createSchema({
    typeDefs: /* GraphQL */ `
      type Tick { n: Int! who: String }
      type Query { ok: Boolean }
      type Subscription { ticks: Tick! }
    `,
    resolvers: {
      Subscription: {
        ticks: {
          subscribe: () => {
            const stream: SubscriberStream<Tick> = new SubscriberStream<Tick>({ capacity: 10, pageItems: 10, backlog: null, tooSlow: () => new Error('too slow') as never, onClose: () => undefined });
            streams.push(stream);
            return stream;
          },
          resolve: (tick: Tick) => tick,
        },
      },
      Tick: {
        n: (tick: Tick) => {
          executions.push(tick.n);
          return tick.n;
        },
        who: (_tick: Tick, _args: unknown, context: { principal?: { name: string } }) => (options.readPrincipal === true ? (context.principal?.name ?? 'nobody') : null),
      },
    },
  });
  const shared = sharedSubscriptionResults({ sharedContextKeys: ['table'] });
  const yoga = createYoga({ schema, plugins: [shared.plugin], logging: false, maskedErrors: false });
  const document = parse('subscription { ticks { n who } }');
  const subscribe = async (principal: string) => {
    const { schema: enveloped, subscribe: run, contextFactory } = yoga.getEnveloped({ principal: { name: principal }, table: 'the table' });
    const contextValue = await contextFactory();
    const result = (await run({ schema: enveloped, document, contextValue })) as AsyncIterableIterator<ExecutionResult>;
    return { result, contextValue: contextValue as object, handle: shared.take(contextValue as object) };
  };
  const publish = (tick: Tick) => streams.forEach((stream) => stream.push(tick));
  return { subscribe, publish, executions, take: (key: object) => shared.take(key) };
}

describe('shared subscription results on the broadcast path', () => {
  it('should hand every subscriber of an operation the same serialized result, executed once', async () => {
    const { subscribe, publish, executions } = broadcastSetup();
    const subscribers = await Promise.all(['ann', 'bob', 'cy'].map(subscribe));
    const tick = { n: 7 };
    publish(tick);
    const encoded = subscribers.map(({ handle }) => {
      if (handle === null) throw new Error('no broadcast handle');
      const due = handle.stream.poll();
      if (due === null || due.done === true) throw new Error('nothing due');
      return handle.encode(due.value);
    });
    expect(encoded[1]).toBe(encoded[0]);
    expect(encoded[2]).toBe(encoded[0]);
    expect((encoded[0] as { json: string }).json).toBe('{"data":{"ticks":{"n":7,"who":null}}}');
    expect(executions).toEqual([7]);
  });

  it('should hand the handle out once, to one transport', async () => {
    const { subscribe, take } = broadcastSetup();
    const { result, handle, contextValue } = await subscribe('ann');
    expect(handle).not.toBeNull();
    expect(take(contextValue)).toBeNull();
    await result.return?.();
  });

  it('should fail a shared execution that reads who subscribed, whoever subscribed first', async () => {
    const { subscribe, publish } = broadcastSetup({ readPrincipal: true });
    const ann = await subscribe('ann');
    const bob = await subscribe('bob');
    publish({ n: 1 });
    for (const { result } of [ann, bob]) {
      const { value } = await result.next();
      expect(value.data?.ticks).toEqual({ n: 1, who: null });
      expect(value.errors?.[0]?.message).toContain('a subscription resolver read context.principal');
    }
  });
});
