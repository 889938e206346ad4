import { type Logger, pino } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return destination
    ? pino({ level, base: { service: 'agent-governance' } }, destination as never)
    : pino({ level, base: { service: 'agent-governance' } });
}
