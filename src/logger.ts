import { type Logger, pino } from 'pino';

export type { Logger };

/** Creates the process logger: JSON lines on stdout (pino), level from LOG_LEVEL; `LOG_PRETTY=1` pretty-prints for local development. */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', name = 'incident-bot'): Logger {
  if (process.env.LOG_PRETTY === '1') {
    return pino({ name, level, transport: { target: 'pino-pretty', options: { colorize: true } } });
  }
  return pino({ name, level });
}
