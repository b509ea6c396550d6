/**
 * Where broker settings come from, lowest precedence first:
 *
 *   1. defaults (the table in `config.ts`)
 *   2. a config file (`--config FILE` or RUNNEL_CONFIG), Java-properties style as in Kafka's
 *      server.properties: one `name=value` a line, `#` or `!` starts a comment line, blank lines
 *      ignored, whitespace around the name and the value trimmed. No continuation lines, no escapes.
 *   3. the environment: `RUNNEL_` + the name upper-cased with `.` and `-` turned into `_`
 *      (data.dir -> RUNNEL_DATA_DIR, port -> RUNNEL_PORT, auto.create.topics ->
 *      RUNNEL_AUTO_CREATE_TOPICS, log.retention.ms -> RUNNEL_LOG_RETENTION_MS). An unknown
 *      RUNNEL_* variable is refused like an unknown setting, except the client-side ones in
 *      `CLIENT_ENV_VARS`.
 *   4. flags: `--data DIR`, `--port N`, `--host H`, and `--set name=value` (repeatable) for any setting.
 *
 * `loadBrokerConfig` puts the layers together; the rest are pure functions over strings.
 */
import { parseArgs } from 'node:util';
import { BROKER_SETTING_DEFS, buildBrokerConfig, BrokerConfigError, type BrokerConfig, type SettingsLayer } from './config.js';
import type { FileSystem } from './world/file-system.js';

/** RUNNEL_* variables read by the CLI and SDK, not by the broker; the broker lets them pass. */
export const CLIENT_ENV_VARS: readonly string[] = ['RUNNEL_BOOTSTRAP'];
/** Names a config file path, as `--config` does (the flag wins). */
export const CONFIG_FILE_ENV_VAR = 'RUNNEL_CONFIG';

export function envVarFor(settingName: string): string {
  return `RUNNEL_${settingName.toUpperCase().replace(/[.-]/g, '_')}`;
}

const settingForEnvVar = new Map(BROKER_SETTING_DEFS.map((def) => [envVarFor(def.name), def.name]));

/** The environment layer; unknown RUNNEL_* names become problems (reported with the variable's spelling). */
export function settingsFromEnv(env: Readonly<Record<string, string | undefined>>): SettingsLayer {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith('RUNNEL_') || value === undefined) continue;
    if (variable === CONFIG_FILE_ENV_VAR || CLIENT_ENV_VARS.includes(variable)) continue;
    const name = settingForEnvVar.get(variable);
    if (name === undefined) problems.push(`unknown environment variable ${variable}: no broker setting maps to it (settings map as data.dir -> RUNNEL_DATA_DIR)`);
    else values[name] = value;
  }
  if (problems.length > 0) throw new BrokerConfigError(problems);
  return { source: 'environment', values, spell: envVarFor };
}

/** Parses a Java-properties style file (see the file doc); `path` only labels errors. */
export function parsePropertiesFile(text: string, path: string): SettingsLayer {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('!')) return;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) {
      problems.push(`${path}:${index + 1}: expected name=value, got "${trimmed}"`);
      return;
    }
    const name = trimmed.slice(0, equals).trim();
    if (name in values) problems.push(`${path}:${index + 1}: ${name} is set twice in the file`);
    values[name] = trimmed.slice(equals + 1).trim();
  });
  if (problems.length > 0) throw new BrokerConfigError(problems);
  return { source: `config file ${path}`, values };
}

export interface BrokerArgs {
  /** `--config FILE`, if given. */
  configFile: string | undefined;
  help: boolean;
  /** The flags layer: --data, --port, --host and every --set. */
  flags: SettingsLayer;
}

export const BROKER_USAGE = `Usage: runnel start [--data DIR] [--port N] [--host H] [--config FILE] [--set name=value]...

  --data DIR          data directory (setting data.dir)
  --port N            TCP port, 0 for any free port (setting port)
  --host H            listen address (setting host)
  --config FILE       Java-properties file of settings (name=value a line)
  --set name=value    any setting; repeatable
  -h, --help          this text

Precedence: defaults < config file < RUNNEL_* environment < flags.`;

/** Every setting with its default, environment variable and doc, for `runnel start --help` and the README. */
export function settingsReference(): string {
  const lines = BROKER_SETTING_DEFS.map((def) => `  ${def.name} (${envVarFor(def.name)}, default ${def.defaultValue === '' ? '""' : def.defaultValue})\n      ${def.doc}`);
  return `Settings (config file name=value, environment variable, or --set name=value):\n${lines.join('\n')}`;
}

/** Parses the broker's command line (without the program and `start`). */
export function parseBrokerArgs(argv: readonly string[]): BrokerArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        data: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        config: { type: 'string' },
        set: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new BrokerConfigError([`${(error as Error).message} (see --help)`]);
  }
  const { values: options } = parsed;
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (const assignment of options.set ?? []) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) {
      problems.push(`--set expects name=value, got "${assignment}"`);
      continue;
    }
    values[assignment.slice(0, equals).trim()] = assignment.slice(equals + 1);
  }
  // The named flags win over a --set of the same setting, and problems name the flag that was typed.
  const typed = new Map<string, string>();
  for (const [flag, name] of [['data', 'data.dir'], ['port', 'port'], ['host', 'host']] as const) {
    const value = options[flag];
    if (value === undefined) continue;
    values[name] = value;
    typed.set(name, `--${flag}`);
  }
  if (problems.length > 0) throw new BrokerConfigError(problems);
  const spell = (name: string): string => typed.get(name) ?? `--set ${name}`;
  return { configFile: options.config, help: options.help === true, flags: { source: 'flags', values, spell } };
}

/** The settings layers of a command line and environment: file (if any) < environment < flags. */
export async function loadBrokerConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, fs: FileSystem): Promise<{ config: BrokerConfig; help: boolean }> {
  const args = parseBrokerArgs(argv);
  if (args.help) return { config: buildBrokerConfig(), help: true };
  const layers: SettingsLayer[] = [];
  const configFile = args.configFile ?? env[CONFIG_FILE_ENV_VAR];
  if (configFile !== undefined) {
    let text: string;
    try {
      text = Buffer.from(await fs.readFile(configFile)).toString('utf8');
    } catch (error) {
      throw new BrokerConfigError([`cannot read config file ${configFile}: ${(error as Error).message}`]);
    }
    layers.push(parsePropertiesFile(text, configFile));
  }
  layers.push(settingsFromEnv(env), args.flags);
  return { config: buildBrokerConfig(layers), help: false };
}
