/**
 * Shared subscription results: one transition goes to every subscriber, and most subscribers run
 * the same operation (a UI's, a monitor's). Executing the operation's selection once per item and
 * operation, serializing that result once, and handing those bytes to each of its subscribers,
 * instead of executing and serializing once per subscriber, is what lets a transition reach
 * thousands of subscribers (docs/BENCHMARKS.md, fan-out).
 *
 * Sharing is sound because what a subscription item resolves to depends on the item, the table and
 * the operation (document, operation name, variables), never on who subscribed: who may run an
 * operation is decided once, before it starts (authorization), not field by field. That is
 * enforced, not assumed: a shared execution sees a context holding only `sharedContextKeys` (the
 * table, the feeds); a resolver reading anything else (the principal, the request) fails, and the
 * item's result says so (test/api/shared-subscription-results.test.ts). Items are the table's
 * immutable snapshots, shared by every subscriber's stream, so an item's identity is the cache key;
 * the most recent `cacheItems` items are remembered (a subscriber replaying older history simply
 * has its items executed again).
 *
 * Two ways out, the same results:
 * - pulled, as graphql-js's `subscribe` does (the source stream from the field's `subscribe`, each
 *   item executed as the operation's root value, `return` passed on to the source), for any
 *   consumer of yoga's envelop pipeline;
 * - broadcast: when the source is a `SubscriberStream`, the stream and its encoder are handed to
 *   the transport (`take`), which writes the shared bytes itself (delivery.ts). Error masking, which
 *   envelop applies to pulled results, is applied here to the shared result, once.
 */
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Delivery } from '../../schema/errors.js';
import { EncodedResult } from './encoded-result.js';
import { FlushScheduler, type Encode } from './delivery.js';
import { SubscriberStream } from './subscriber-stream.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

export interface SharedSubscriptionOptions {
  /** Items whose results are remembered (the most recent). */
  readonly cacheItems?: number;
  /** Context keys a shared execution may read; reading any other string key fails. */
  readonly sharedContextKeys?: readonly string[];
  /** Masks an unexpected error of a broadcast result, as the server masks every other result's. */
  readonly maskError?: (error: GraphQLError) => GraphQLError | Error;
}

/** A subscription the transport may write itself: its subscriber's stream and the encoder of its operation. */
export interface BroadcastHandle {
  readonly stream: SubscriberStream<unknown>;
  readonly encode: Encode;
}

export interface SharedSubscriptions {
  readonly plugin: Plugin;
  /** Flushes broadcast deliveries once per turn of the event loop. */
  readonly scheduler: FlushScheduler;
  /**
   * The broadcast handle of the subscription started with this context value (graphql-ws) or HTTP
   * request (SSE), once; null when it has none (refused, or its source is not a subscriber stream).
   */
  take(key: object): BroadcastHandle | null;
}

/** What a shared execution's resolvers see of the context: only the keys every subscriber shares. */
function sharedContext(context: unknown, keys: ReadonlySet<string>): unknown {
  if (typeof context !== 'object' || context === null) return context;
  return new Proxy(context, {
    get(target, key, receiver) {
      if (typeof key === 'string' && !keys.has(key)) {
        throw new Error(`a subscription resolver read context.${key}: subscription results are shared by every subscriber of an operation, so they may depend on nothing but the item, the table and the operation`);
      }
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

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

interface Shared {
  readonly result: Result;
  encoded?: EncodedResult | Promise<EncodedResult>;
}

export function sharedSubscriptionResults({ cacheItems = 4_096, sharedContextKeys = [], maskError = (e) => e }: SharedSubscriptionOptions = {}): SharedSubscriptions {
  const allowedKeys = new Set(sharedContextKeys);
  const documentIds = new WeakMap<DocumentNode, number>();
  let documents = 0;
  /** Per item (oldest first, for eviction), its result per operation. */
  const results = new Map<object, Map<string, Shared>>();
  const handles = new WeakMap<object, { handle: BroadcastHandle; taken: boolean }>();
  const scheduler = new FlushScheduler();

  const operationKey = (args: ExecutionArgs): string => {
    let id = documentIds.get(args.document);
    if (id === undefined) documentIds.set(args.document, (id = ++documents));
    return `${id}\u0000${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
  };

  // `args` already has a `rootValue` key (see `subscribe`): spreading it and setting the key is cheap,
  // where adding a key after a spread takes V8 11.3 a slow path.
  const sharedOf = (item: unknown, key: string, args: ExecutionArgs): Shared => {
    if (typeof item !== 'object' || item === null) return { result: execute({ ...args, rootValue: item }) };
    let byOperation = results.get(item);
    if (byOperation === undefined) {
      if (results.size >= cacheItems) results.delete(results.keys().next().value as object);
      results.set(item, (byOperation = new Map()));
    }
    let shared = byOperation.get(key);
    if (shared === undefined) byOperation.set(key, (shared = { result: execute({ ...args, rootValue: item }) }));
    return shared;
  };

  const masked = (result: ExecutionResult): ExecutionResult =>
    result.errors === undefined ? result : { ...result, errors: result.errors.map((error) => maskError(error) as GraphQLError) };

  const encodedOf = (shared: Shared): EncodedResult | Promise<EncodedResult> => {
    if (shared.encoded === undefined) {
      const { result } = shared;
      shared.encoded = result instanceof Promise ? result.then((r) => (shared.encoded = EncodedResult.of(masked(r)))) : EncodedResult.of(masked(result));
    }
    return shared.encoded;
  };

  const subscribe = async (args: ExecutionArgs) => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source; // refused: the errors are the result
    const key = operationKey(args);
    const shared: ExecutionArgs = { ...args, contextValue: sharedContext(args.contextValue, allowedKeys), rootValue: undefined };
    if (source instanceof SubscriberStream) {
      const handle: BroadcastHandle = { stream: source, encode: (item: Delivery<unknown>) => encodedOf(sharedOf(item, key, shared)) };
      const entry = { handle, taken: false };
      const context = args.contextValue;
      if (typeof context === 'object' && context !== null) {
        handles.set(context, entry);
        const request = (context as { request?: unknown }).request;
        if (typeof request === 'object' && request !== null) handles.set(request, entry);
      }
    }
    return mapItems(source, (item) => sharedOf(item, key, shared).result);
  };

  return {
    scheduler,
    take(key) {
      const entry = handles.get(key);
      if (entry === undefined || entry.taken) return null;
      entry.taken = true;
      return entry.handle;
    },
    plugin: {
      onSubscribe({ setSubscribeFn }) {
        setSubscribeFn(subscribe as Parameters<typeof setSubscribeFn>[0]);
      },
    },
  };
}

/** The pulled path alone, as a yoga plugin. */
export function useSharedSubscriptionResults(options: SharedSubscriptionOptions = {}): Plugin {
  return sharedSubscriptionResults(options).plugin;
}
