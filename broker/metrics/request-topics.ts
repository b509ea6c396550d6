/**
 * The topics a request names, for the request log: `topics` (names, or
 * entries with `name` or `topic`), `topicPartitions` (ElectLeaders) and
 * `subscribedTopicNames` (group heartbeats). Only called for the requests the
 * log samples; at most TOPICS_LOGGED_MAX names, so a Metadata request for
 * ten thousand topics makes a line, not a page.
 */
export const TOPICS_LOGGED_MAX = 20;

const LISTS = ['topics', 'topicPartitions', 'subscribedTopicNames'] as const;

export function requestTopics(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return [];
  const names = new Set<string>();
  for (const key of LISTS) {
    const list = (body as Record<string, unknown>)[key];
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      const name = typeof item === 'string' ? item : nameOf(item);
      if (name !== undefined) names.add(name);
      if (names.size >= TOPICS_LOGGED_MAX) return [...names];
    }
  }
  return [...names];
}

function nameOf(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const { name, topic } = item as { name?: unknown; topic?: unknown };
  return typeof name === 'string' ? name : typeof topic === 'string' ? topic : undefined;
}

/** The first topic a request names ('' when none), without building the list: what usage metering counts a request under (every request, so nothing is allocated). */
export function firstRequestTopic(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  for (const key of LISTS) {
    const list = (body as Record<string, unknown>)[key];
    if (!Array.isArray(list) || list.length === 0) continue;
    const item: unknown = list[0];
    const name = typeof item === 'string' ? item : nameOf(item);
    if (name !== undefined) return name;
  }
  return '';
}
