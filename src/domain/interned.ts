/**
 * Values shared instead of built again: what many snapshots, transitions or answers repeat (a
 * blocker naming a host, a VM's state, the list of hosts a change concerns, a side not heard
 * yet, a refusal) is made once per key and handed out again. Only for immutable values: what
 * `make` returns is frozen.
 *
 * The table is bounded: at `max` keys it starts over. What was handed out stays valid; only later
 * calls make their values afresh.
 */
export class Interned<V extends object> {
  private readonly values = new Map<string, V>();

  constructor(private readonly max: number) {}

  /**
   * The value kept for `key`, or a new one from `make`. `fits` says whether the kept value is the
   * one wanted when the key alone does not identify it (a kept one that does not fit is replaced).
   */
  of(key: string, make: () => V, fits?: (kept: V) => boolean): V {
    const kept = this.values.get(key);
    if (kept !== undefined && (fits === undefined || fits(kept))) return kept;
    if (this.values.size >= this.max) this.values.clear();
    const made = Object.freeze(make());
    this.values.set(key, made);
    return made;
  }
}
