import type { Logger } from 'pino';

/** A step of an orderly shutdown. */
export interface Closer {
  name: string;
  close: () => Promise<unknown>;
}

/**
 * Runs closers in order (receivers, then workers, then queues, then connections), each bounded so
 * the whole stays within `budgetMs` (Heroku-style platforms SIGKILL 30 s after SIGTERM).
 */
export async function shutdown(closers: Closer[], log: Logger, budgetMs = 25_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  for (const c of closers) {
    const left = Math.max(100, deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.close(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${left} ms`)), left);
        }),
      ]);
      log.info({ step: c.name }, 'closed');
    } catch (err) {
      log.warn({ step: c.name, err: (err as Error).message }, 'close step failed');
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Calls `shutdown` once on SIGTERM or SIGINT, then exits. */
export function onSignals(closers: () => Closer[], log: Logger): void {
  let started = false;
  const handler = (signal: string) => {
    if (started) return;
    started = true;
    log.info({ signal }, 'shutting down');
    shutdown(closers(), log).finally(() => process.exit(0));
  };
  process.once('SIGTERM', handler);
  process.once('SIGINT', handler);
}
