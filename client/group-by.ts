/**
 * Grouping items into a Map of lists (requests go out per broker, per topic):
 * small, but the SDK does it in every request path.
 */
export function addTo<K, V>(groups: Map<K, V[]>, key: K, item: V): void {
  const list = groups.get(key);
  if (list === undefined) groups.set(key, [item]);
  else list.push(item);
}
