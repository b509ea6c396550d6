/**
 * Whether a topic holds dead letters, for `dlq list --topic` and the guard
 * of `dlq purge`: a topic some share group names as its deadLetterTopic
 * does; otherwise one whose first record (of any partition) carries
 * `runnel.dlq.*` headers does. An empty topic cannot tell.
 */
import type { DeadLetterTopicUse, Runnel } from '../../client/index.js';
import { isDeadLetter } from './dlq-record.js';
import { readRange } from './read-range.js';

export type TopicKind = 'dead-letters' | 'empty' | 'other';

export async function topicKind(runnel: Runnel, topic: string, uses: readonly DeadLetterTopicUse[]): Promise<TopicKind> {
  if (uses.some((u) => u.topic === topic)) return 'dead-letters';
  const { messages } = await readRange(runnel, topic, { firstOnly: true });
  if (messages.length === 0) return 'empty';
  return messages.some(isDeadLetter) ? 'dead-letters' : 'other';
}
