import { type Logger, type LoggerOptions, pino } from 'pino';
import { REDACT, redactDeep, scrubSecrets, serializeError } from './log-redaction.js';

export type { Logger };

/**
 * The service's pino logger. Secrets never reach a line: errors are logged by an allowlist of
 * their fields, credential fields are redacted by name, and recognisable credentials are scrubbed
 * from the written line (see log-redaction.ts).
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'agent-governance' },
    redact: REDACT,
    serializers: { err: serializeError, error: serializeError },
    formatters: { log: redactDeep },
    hooks: { streamWrite: scrubSecrets },
  };
  return destination ? pino(options, destination as never) : pino(options);
}
