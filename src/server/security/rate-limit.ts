/**
 * A rate limit on mutations, per credential: a token bucket that holds `burst` tokens and refills
 * `perSecond` of them each second. Each root mutation field takes one token, so an operation of
 * ten aliased reports costs ten; an operation that finds too few tokens is refused whole with
 * RATE_LIMITED (HTTP 429, `Retry-After`), running nothing. Queries and subscriptions are not
 * counted: the depth, cost and subscription limits bound them.
 *
 * Open mode has no credentials to count by, and is not limited: it is for one machine (benchmarks
 * and the fleet simulator run there). Buckets are keyed by credential name, so there are at most
 * as many as lines in the credentials file.
 */
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Millis } from '../../domain/model.js';
import { RequestErrorCode } from '../../schema/errors.js';
import { principalOf } from './authentication.js';
import { refusal } from './refusal.js';
import { isIntrospectionField, rootFields } from './root-fields.js';

export interface RateLimitOptions {
  /** Tokens added per second, per credential. */
  readonly perSecond: number;
  /** Most tokens a bucket holds: the largest burst. */
  readonly burst: number;
  readonly clock: () => Millis;
}

interface Bucket {
  tokens: number;
  at: Millis;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly options: RateLimitOptions) {}

  /** Takes `cost` tokens from `key`'s bucket: 0 when taken, else the ms until they would be there (nothing taken). */
  take(key: string, cost: number): number {
    const { perSecond, burst, clock } = this.options;
    const now = clock();
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, now - bucket.at) * perSecond) / 1_000);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (cost <= bucket.tokens) {
      bucket.tokens -= cost;
      return 0;
    }
    if (cost > burst) return Number.POSITIVE_INFINITY;
    return Math.ceil(((cost - bucket.tokens) * 1_000) / perSecond);
  }
}

export function useMutationRateLimit(options: RateLimitOptions): Plugin {
  const buckets = new TokenBuckets(options);
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const principal = principalOf(args.contextValue);
      if (principal === null || principal.open) return;
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      const cost = rootFields(args.document, operation).filter((field) => !isIntrospectionField(field)).length;
      const waitMs = buckets.take(principal.name, cost);
      if (waitMs === 0) return;
      const message = Number.isFinite(waitMs)
        ? `credential "${principal.name}" is over its rate of ${options.perSecond} mutations per second: retry in ${waitMs} ms`
        : `one operation of ${cost} mutations is above the burst of ${options.burst}: send fewer at once`;
      const retryAfterMs = Number.isFinite(waitMs) ? waitMs : null;
      setResultAndStopExecution({
        errors: [
          refusal(
            RequestErrorCode.RATE_LIMITED,
            message,
            { status: 429, headers: retryAfterMs === null ? {} : { 'retry-after': String(Math.ceil(retryAfterMs / 1_000)) } },
            { retryAfterMs },
          ),
        ],
      });
    },
  };
}
