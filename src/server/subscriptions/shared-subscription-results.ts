/**
 * `useSharedSubscriptionResults`: one transition goes to every subscriber, and most subscribers
 * run the same operation (a UI's, a monitor's). Executing the operation's selection once per item
 * and operation, and handing that one result to each of its subscribers, instead of executing it
 * once per subscriber, is what lets a transition reach a thousand subscribers
 * (docs/BENCHMARKS.md, fan-out).
 *
 * Sharing is sound because what a subscription item resolves to depends on the item, the table
 * and the operation (document, operation name, variables), never on who subscribed: who may run
 * an operation is decided once, before it starts (authorization), not field by field. Items are
 * the table's immutable snapshots, shared by every subscriber's stream, so an item's identity is
 * the cache key; the most recent `cacheItems` items are remembered (a subscriber replaying older
 * history simply executes its items itself).
 *
 * Otherwise this is graphql-js's `subscribe`: the source stream from the field's `subscribe`,
 * each item executed as the operation's root value, `return` passed on to the source.
 */
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

type Result = ExecutionResult | Promise<ExecutionResult>;

/** Maps each item of `source`, passing `return` and `throw` on to it (the subscriber went away). */
function mapItems<T, U>(source: AsyncIterable<T>, map: (item: T) => U | Promise<U>): AsyncIterableIterator<U> {
  const iterator = source[Symbol.asyncIterator]();
  const done = async (): Promise<IteratorResult<U>> => {
    await iterator.return?.();
    return { done: true, value: undefined };
  };
  return {
    async next() {
      const step = await iterator.next();
      return step.done === true ? { done: true, value: undefined } : { done: false, value: await map(step.value) };
    },
    return: done,
    throw: done,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function useSharedSubscriptionResults({ cacheItems = 4_096 }: { cacheItems?: number } = {}): Plugin {
  const documentIds = new WeakMap<DocumentNode, number>();
  let documents = 0;
  /** Per item (oldest first, for eviction), its result per operation. */
  const results = new Map<object, Map<string, Result>>();

  const operationKey = (args: ExecutionArgs): string => {
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = ++documents));
    return `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  };

  const resultOf = (item: unknown, key: string, args: ExecutionArgs): Result => {
    if (typeof item !== 'object' || item === null) return execute({ ...args, rootValue: item });
    let byOperation = results.get(item);
    if (byOperation === undefined) {
      if (results.size >= cacheItems) results.delete(results.keys().next().value as object);
      results.set(item, (byOperation = new Map()));
    }
    let result = byOperation.get(key);
    if (result === undefined) byOperation.set(key, (result = execute({ ...args, rootValue: item })));
    return result;
  };

  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source; // refused: the errors are the result
    const key = operationKey(args);
    return mapItems(source, (item) => resultOf(item, key, args));
  };

  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(subscribe as Parameters<typeof setSubscribeFn>[0]);
    },
  };
}
