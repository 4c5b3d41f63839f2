/**
 * What a subscription client received, transport-independent: every result in order, and how the
 * stream ended. Tests wait on it with `until`, which fails with what arrived so far.
 */
import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';

export type Ending = { readonly kind: 'complete' } | { readonly kind: 'error'; readonly error: unknown };

export const WAIT_MS = 10_000;

export class ResultStream<T> {
  readonly results: FormattedExecutionResult<T>[] = [];
  ending: Ending | null = null;
  private readonly waiters = new Set<() => void>();

  /** The data of every result that carried some, in order. */
  get data(): T[] {
    return this.results.flatMap((r) => (r.data != null ? [r.data] : []));
  }

  /** Every GraphQL error received, in results or as the protocol's error message. */
  get errors(): GraphQLFormattedError[] {
    const inResults = this.results.flatMap((r) => r.errors ?? []);
    const ending = this.ending;
    if (ending?.kind === 'error' && Array.isArray(ending.error)) return [...inResults, ...(ending.error as GraphQLFormattedError[])];
    return inResults;
  }

  /** `extensions.code` of every error received. */
  get errorCodes(): unknown[] {
    return this.errors.map((e) => e.extensions?.code);
  }

  push(result: FormattedExecutionResult<T>): void {
    this.results.push(result);
    this.notify();
  }

  end(ending: Ending): void {
    this.ending ??= ending;
    this.notify();
  }

  /** Resolves once `condition` holds; rejects after `timeoutMs`, saying what arrived. */
  until(condition: (stream: this) => boolean, timeoutMs = WAIT_MS): Promise<void> {
    if (condition(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition(this)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms; received ${this.results.length} results, ending ${JSON.stringify(this.ending)}, last ${JSON.stringify(this.results.at(-1))}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Resolves once the stream ended (completed or failed). */
  ended(timeoutMs = WAIT_MS): Promise<Ending> {
    return this.until((s) => s.ending !== null, timeoutMs).then(() => this.ending as Ending);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
