/** A fresh resource for each test of the enclosing suite, stopped after it; the getter returns the current one. */
import { afterEach, beforeEach } from 'vitest';

export function perTest<T extends { stop(): Promise<void> }>(start: () => Promise<T>): () => T {
  let current: T | null = null;
  beforeEach(async () => {
    current = await start();
  });
  afterEach(async () => {
    await current?.stop();
    current = null;
  });
  return () => {
    if (current === null) throw new Error('no server: call inside a test');
    return current;
  };
}
