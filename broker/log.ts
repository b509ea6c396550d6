/**
 * The broker's logger: pino, one JSON object a line on stdout with an ISO
 * time, a level name and a sentence in `msg`, so a person can read it with
 * `less` and a machine with `jq`. Written synchronously: log volume is low
 * (connections, topic changes, errors), and a line written just before a
 * crash must not be lost in a buffer.
 *
 * Broker code takes a `Logger` and adds context with `child({ ... })`.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import type { LoggerLevel } from './config.js';

export type Logger = PinoLogger;

export function createLogger(opts: { level: LoggerLevel; destination?: number | NodeJS.WritableStream }): Logger {
  const destination = typeof opts.destination === 'object' ? opts.destination : pino.destination({ dest: opts.destination ?? 1, sync: true });
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
