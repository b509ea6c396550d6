/**
 * Settings arrive as lists of `{ name, value }`; the controller takes a
 * record. A name listed twice is refused rather than letting the last one win
 * silently.
 */
import { ProtocolError } from '../../protocol/errors.js';

export function settingsRecord(entries: readonly { name: string; value: string }[]): Record<string, string> {
  // No prototype: a setting named "__proto__" must stay a setting (and be refused as unknown).
  const record = Object.create(null) as Record<string, string>;
  for (const { name, value } of entries) {
    if (Object.hasOwn(record, name)) throw new ProtocolError('INVALID_CONFIG', `setting ${name} is given more than once`);
    record[name] = value;
  }
  return record;
}

/** How many times each name occurs. */
export function timesNamed(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return counts;
}
