/**
 * `map.set(key, value)`, first forgetting everything once `map` holds `max` entries. The maps this
 * guards are caches and memos that a flood of distinct keys (addresses, users) must not grow without
 * bound; losing them costs a lookup or a round trip, never correctness.
 */
export function setBounded<K, V> (map: Map<K, V>, key: K, value: V, max: number): void {
  if (map.size >= max && !map.has(key)) map.clear()
  map.set(key, value)
}
