/**
 * What `subscribe({ topics })` asks for: topic names and patterns. A group
 * member sends the names and one regular expression (the patterns joined) to
 * the coordinator, which matches them against the whole topic name; a
 * consumer without a group matches them itself, the same way.
 */
import { invalidArgument } from '../errors.js';

export interface Subscription {
  names: string[];
  patterns: RegExp[];
  /** The patterns as one expression for ConsumerGroupHeartbeat ("" when there are none). */
  regex: string;
}

export function parseSubscription(topics: unknown): Subscription {
  if (!Array.isArray(topics) || topics.length === 0) throw invalidArgument('subscribe() takes { topics: [...] }: one or more topic names or RegExps');
  const names: string[] = [];
  const patterns: RegExp[] = [];
  for (const t of topics) {
    if (typeof t === 'string' && t !== '') {
      if (!names.includes(t)) names.push(t);
    } else if (t instanceof RegExp) {
      // Flags cannot cross the wire (the coordinator compiles the source alone), so a pattern must not need them.
      if (t.flags.replace(/[gy]/g, '') !== '') throw invalidArgument(`topic pattern ${String(t)} has flags (${t.flags}); the coordinator matches the pattern's source only, so write it without them (for example [Aa] instead of /i)`);
      patterns.push(new RegExp(`^(?:${t.source})$`));
    } else {
      throw invalidArgument(`a subscribed topic is a non-empty name or a RegExp, got ${JSON.stringify(t)}`);
    }
  }
  return { names, patterns, regex: patterns.map((p) => p.source.slice(1, -1)).join('|') };
}

/** Whether `topic` is subscribed to (patterns never match internal topics, whose names start `__`). */
export function matches(sub: Subscription, topic: string): boolean {
  if (sub.names.includes(topic)) return true;
  return !topic.startsWith('__') && sub.patterns.some((p) => p.test(topic));
}
