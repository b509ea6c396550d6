/**
 * The broker's logger: pino, one JSON object a line on stdout with an ISO
 * time, a level name and a sentence in `msg`, so a person can read it with
 * `less` and a machine with `jq`. Written synchronously: log volume is low
 * (connections, topic changes, errors), and a line written just before a
 * crash must not be lost in a buffer.
 *
 * At a terminal (`logger.format=auto`, the default, with stdout a TTY) the
 * same lines are rendered for people by `log-pretty.ts`.
 *
 * Broker code takes a `Logger` and adds context with `child({ ... })`.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import type { LoggerFormat, LoggerLevel } from './config.js';
import { prettyDestination } from './log-pretty.js';

export type Logger = PinoLogger;

export function createLogger(opts: { level: LoggerLevel; format?: LoggerFormat; destination?: number | NodeJS.WritableStream }): Logger {
  const fd = typeof opts.destination === 'number' ? opts.destination : 1;
  const pretty = opts.format === 'pretty' || (opts.format === 'auto' && typeof opts.destination !== 'object' && process.stdout.isTTY === true && fd === 1);
  const destination =
    typeof opts.destination === 'object'
      ? opts.destination
      : pretty
        ? prettyDestination(pino.destination({ dest: fd, sync: true }))
        : pino.destination({ dest: fd, sync: true });
  return pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** A logger that drops everything (embedding and unit tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
