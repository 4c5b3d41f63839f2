/**
 * Caps on subscriptions (docs/contract.md §11, issue 12 item 5): one credential may hold at most
 * `perCredential` subscriptions open, SSE and graphql-ws together, and the server at most `total`,
 * all clients together. A subscription beyond either is refused before it starts
 * (TOO_MANY_SUBSCRIPTIONS_FOR_CREDENTIAL, TOO_MANY_SUBSCRIPTIONS_ON_SERVER) and its place is
 * given back when it ends, however it ends (completed, refused later, unsubscribed, disconnected).
 *
 * Every subscription passes envelop's `subscribe`, over SSE as over graphql-ws, so this is the one
 * place to count them. Open mode has one principal for everyone: only the total applies there.
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { RequestErrorCode } from '../../schema/errors.js';
import { principalOf } from './authentication.js';
import { refusal } from './refusal.js';

export interface SubscriptionRefusal {
  readonly code: RequestErrorCode;
  readonly message: string;
}

export interface SubscriptionCaps {
  readonly perCredential: number;
  readonly total: number;
}

/** `source`, calling `release` once when it ends or is given up. */
function releasingOnEnd<T>(source: AsyncIterable<T>, release: () => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let released = false;
  const once = () => {
    if (released) return;
    released = true;
    release();
  };
  return {
    async next() {
      try {
        const step = await iterator.next();
        if (step.done === true) once();
        return step;
      } catch (error) {
        once();
        throw error;
      }
    },
    async return(value?: unknown) {
      once();
      return (await iterator.return?.(value)) ?? { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      once();
      if (iterator.throw !== undefined) return iterator.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export class SubscriptionCounter {
  private open = 0;
  private readonly byCredential = new Map<string, number>();

  constructor(private readonly caps: SubscriptionCaps) {}

  get total(): number {
    return this.open;
  }

  /** Takes a place for `credential` (null: open mode); the refusal's code and message when there is none. */
  take(credential: string | null): SubscriptionRefusal | null {
    const refused = this.check(credential);
    if (refused !== null) return refused;
    this.open++;
    if (credential !== null) this.byCredential.set(credential, (this.byCredential.get(credential) ?? 0) + 1);
    return null;
  }

  /** Why a subscription of `credential` would be refused now, or null; takes nothing. */
  check(credential: string | null): SubscriptionRefusal | null {
    if (this.open >= this.caps.total) {
      return { code: RequestErrorCode.TOO_MANY_SUBSCRIPTIONS_ON_SERVER, message: `Transit serves ${this.caps.total} subscriptions already (TRANSIT_MAX_SUBSCRIPTIONS): retry later` };
    }
    if (credential !== null && (this.byCredential.get(credential) ?? 0) >= this.caps.perCredential) {
      return {
        code: RequestErrorCode.TOO_MANY_SUBSCRIPTIONS_FOR_CREDENTIAL,
        message: `credential "${credential}" holds ${this.caps.perCredential} subscriptions already (TRANSIT_MAX_SUBSCRIPTIONS_PER_CREDENTIAL): end one first`,
      };
    }
    return null;
  }

  release(credential: string | null): void {
    this.open--;
    if (credential === null) return;
    const left = (this.byCredential.get(credential) ?? 1) - 1;
    if (left === 0) this.byCredential.delete(credential);
    else this.byCredential.set(credential, left);
  }
}

export function useSubscriptionCaps(counter: SubscriptionCounter): Plugin {
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const principal = principalOf(args.contextValue);
      if (principal === null) return; // authorization refuses it
      const credential = principal.open ? null : principal.name;
      const refused = counter.take(credential);
      if (refused !== null) {
        setResultAndStopExecution({ errors: [refusal(refused.code, refused.message, { status: 429 })] });
        return;
      }
      const release = () => counter.release(credential);
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(releasingOnEnd(result, release));
          else release(); // refused later (authorization, a cursor): it never started
        },
        onSubscribeError() {
          release();
        },
      };
    },
  };
}
