/**
 * The one manual clock of the tests: it moves only when told, and lets a test wait until the
 * engine has read it (the engine reads its clock once per command and once per tick, so a read
 * after an `advance` is a barrier: the next tick has seen the new time).
 */

/** Where a manual clock starts (2024-01-01T00:00:00Z), in ms. */
export const T0_MS = 1_704_067_200_000;

export class ManualClock {
  private readers: (() => void)[] = [];

  constructor(public nowMs: number = T0_MS) {}

  readonly read = (): number => {
    const readers = this.readers;
    this.readers = [];
    for (const resolve of readers) resolve();
    return this.nowMs;
  };

  advance(ms: number): void {
    this.nowMs += ms;
  }

  /**
   * Resolves once the clock has been read again. The promise settles in a microtask, so whatever
   * synchronous step read the clock (a tick, a command) has completed by then.
   */
  nextRead(): Promise<void> {
    return new Promise((resolve) => this.readers.push(resolve));
  }
}
