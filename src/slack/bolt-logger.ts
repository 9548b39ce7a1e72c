import { LogLevel, type Logger as SlackLogger } from '@slack/logger';
import type { Logger } from 'pino';

const LEVEL_OF: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

/**
 * Adapts pino to the Logger interface Bolt and @slack/web-api take, so their logs are JSON lines
 * too. A message below the level is dropped before it is joined (Bolt logs several debug lines per
 * request), and getLevel() tells the libraries the real level so they skip building them.
 */
export function boltLogger(log: Logger): SlackLogger {
  const child = log.child({ component: 'slack' });
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...msg: unknown[]) => {
      if (child.isLevelEnabled(level)) child[level](msg.map(String).join(' '));
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    setLevel: () => {},
    getLevel: () => LEVEL_OF[child.level] ?? LogLevel.INFO,
    setName: () => {},
  };
}
