/**
 * What storage tells the operator (recovery results, truncated tails, logs
 * going offline). Shaped like pino's methods (object first, then message), so
 * the broker passes its pino logger straight in; tests pass nothing.
 */
export interface StorageLogger {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

export const silentLogger: StorageLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
