/**
 * A map of remade-on-demand values with a size bound: when full it starts
 * afresh rather than tracking which entry is oldest. For caches whose keys
 * are few in practice (a site's callback URLs, a put's reply shapes,
 * registered queries), where the bound only guards against a caller that
 * sends endless distinct keys.
 *
 * @module
 */

/** See the module's doc. */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();

  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  /** Keeps `value` under `key` (emptying the cache first when it is full); returns `value`. */
  set(key: K, value: V): V {
    if (this.map.size >= this.max) this.map.clear();
    this.map.set(key, value);
    return value;
  }
}
