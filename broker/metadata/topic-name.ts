/**
 * Kafka's topic naming rules, so a name valid here is valid in Kafka and the
 * partition directory `<topic>-<partition>` is always a safe file name: 1 to
 * 249 characters of [a-zA-Z0-9._-], and not "." or "..". (249 leaves room for
 * the partition suffix within a 255-byte file name.) One rule more than
 * Kafka's: no ".set-aside-" in the name, which marks the directories
 * `runnel recover` sets aside next to a partition (storage/set-aside.ts);
 * the broker never opens those as partitions.
 */
import { SET_ASIDE_INFIX } from '../storage/set-aside.js';
import { INTERNAL_TOPIC_PREFIX } from './image.js';

export const TOPIC_NAME_MAX_CHARS = 249;
const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Why `name` is not a valid topic name, or null when it is. */
export function topicNameProblem(name: string): string | null {
  if (name.length === 0) return 'the topic name is empty';
  if (name === '.' || name === '..') return `the topic name "${name}" is not allowed`;
  if (name.length > TOPIC_NAME_MAX_CHARS) return `the topic name is ${name.length} characters long; at most ${TOPIC_NAME_MAX_CHARS} are allowed`;
  if (!LEGAL.test(name)) {
    const bad = [...name].find((char) => !LEGAL.test(char)) ?? '?';
    return `the topic name "${name}" contains ${JSON.stringify(bad)}; use only letters, digits, ".", "_" and "-"`;
  }
  if (name.includes(SET_ASIDE_INFIX)) return `the topic name "${name}" contains "${SET_ASIDE_INFIX}", which names the directories \`runnel recover\` sets aside`;
  return null;
}

/** Whether `name` is one of the broker's internal topics: created by the broker (never by a client or auto-creation), hidden from listings unless asked for. */
export function isInternalTopic(name: string): boolean {
  return name.startsWith(INTERNAL_TOPIC_PREFIX);
}
