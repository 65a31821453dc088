/** The map's value for `key`, made by `create(key)` and stored the first time it is asked for. */
export function getOrCreate<K, V>(map: Map<K, V>, key: K, create: (key: K) => V): V;
export function getOrCreate<K extends object, V>(map: WeakMap<K, V>, key: K, create: (key: K) => V): V;
export function getOrCreate<K extends object, V>(map: Map<K, V> | WeakMap<K, V>, key: K, create: (key: K) => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create(key);
    map.set(key, value);
  }
  return value;
}
