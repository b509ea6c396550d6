/**
 * A topic's effective settings: its own overrides (kept in the metadata)
 * over the broker's defaults (`log.<name>`), over the built-in defaults. The
 * controller validates with these, the replica manager opens logs with them,
 * DescribeConfigs shows them with where each value comes from.
 */
import type { BrokerConfig } from './config.js';
import { parseLogConfig, TOPIC_CONFIG_DEFS, type LogConfig } from './storage/log-config.js';

/** Where a topic setting's effective value comes from. */
export type SettingSource = 'topic' | 'broker' | 'default';

export interface DescribedSetting {
  name: string;
  value: string;
  source: SettingSource;
}

const topicDefs = new Set(TOPIC_CONFIG_DEFS.map((def) => def.name));

/** Whether `name` is a topic setting at all. */
export function isTopicSetting(name: string): boolean {
  return topicDefs.has(name);
}

/** The effective log settings for a topic with these overrides (broker defaults below them). Throws storage's ConfigError. */
export function logConfigFor(config: BrokerConfig, overrides: Readonly<Record<string, string>>): LogConfig {
  return parseLogConfig({ ...config.topicDefaults, ...overrides });
}

/** Every topic setting with its effective value and where it comes from. */
export function describeTopicSettings(config: BrokerConfig, overrides: Readonly<Record<string, string>>): DescribedSetting[] {
  return TOPIC_CONFIG_DEFS.map((def) => {
    const own = overrides[def.name];
    if (own !== undefined) return { name: def.name, value: own, source: 'topic' };
    const brokerDefault = config.topicDefaults[def.name];
    if (brokerDefault !== undefined) return { name: def.name, value: brokerDefault, source: 'broker' };
    return { name: def.name, value: def.defaultValue, source: 'default' };
  });
}
