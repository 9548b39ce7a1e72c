import { Redis, type RedisOptions } from 'ioredis';

/**
 * Connection roles: `producer` fails fast when Redis is away (web requests answer within Slack's
 * 3 s instead of queueing commands forever); `worker` waits and reconnects (BullMQ blocking
 * commands need `maxRetriesPerRequest: null`).
 */
export type ConnectionRole = 'producer' | 'worker';

const open = new Set<Redis>();

/** Opens a Redis connection for a role from a redis:// URL; every connection is tracked for `closeAllConnections`. */
export function createRedis(url: string, role: ConnectionRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions =
    role === 'producer'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2500 }
      : { maxRetriesPerRequest: null, enableReadyCheck: false };
  const r = new Redis(url, {
    ...base,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
  // Errors surface on the commands that fail; an unhandled 'error' event would crash the process.
  r.on('error', () => {});
  open.add(r);
  r.once('end', () => open.delete(r));
  return r;
}

/** Closes every connection opened through createRedis (QUIT, then disconnect after `timeoutMs`). */
export async function closeAllConnections(timeoutMs = 2000): Promise<void> {
  await Promise.all(
    [...open].map(async (r) => {
      const t = setTimeout(() => r.disconnect(), timeoutMs);
      try {
        await r.quit();
      } catch {
        r.disconnect();
      } finally {
        clearTimeout(t);
      }
    }),
  );
  open.clear();
}

/** Resolves once the connection is ready, or rejects after `timeoutMs` (producers start with enableOfflineQueue off). */
export function waitReady(r: Redis, timeoutMs = 5000): Promise<void> {
  if (r.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      r.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${r.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(t);
      resolve();
    };
    r.once('ready', onReady);
  });
}
