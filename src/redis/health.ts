import { createRedis, type RedisSettings, waitReady } from './connection.js';

/** What `incident-bot doctor` needs to know about a Redis: its version, persistence and eviction policy. */
export interface RedisHealth {
  /** `redis_version` of INFO server, e.g. `7.0.15`. */
  version: string;
  /** `aof_enabled` of INFO persistence. */
  aof: boolean;
  /** CONFIG GET save (`3600 1 300 100`; empty = no snapshots); undefined when CONFIG is refused (managed Redis). */
  save: string | undefined;
  /** `maxmemory_policy` of INFO memory, e.g. `noeviction`. */
  maxmemoryPolicy: string;
}

function fields(text: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of String(text).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

/**
 * Connects once (standalone, Sentinel or Cluster, as the bot would) and reads INFO server,
 * persistence and memory plus CONFIG GET save; rejects with the connection error after `timeoutMs`.
 * INFO fields: https://redis.io/docs/latest/commands/info/
 */
export async function readRedisHealth(settings: RedisSettings, timeoutMs = 3000): Promise<RedisHealth> {
  const r = createRedis(settings, 'producer', {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let lastError: Error | undefined;
  r.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await Promise.all([r.connect(), waitReady(r, timeoutMs)]).catch((err: Error) => {
      throw lastError ?? err;
    });
    const [server, persistence, memory] = await Promise.all([
      r.info('server'),
      r.info('persistence'),
      r.info('memory'),
    ]);
    let save: string | undefined;
    try {
      const reply = (await r.call('CONFIG', 'GET', 'save')) as string[] | Record<string, string>;
      save = Array.isArray(reply) ? (reply[1] ?? '') : (reply.save ?? '');
    } catch {
      save = undefined;
    }
    return {
      version: fields(server).redis_version ?? '0',
      aof: fields(persistence).aof_enabled === '1',
      save,
      maxmemoryPolicy: fields(memory).maxmemory_policy ?? 'unknown',
    };
  } finally {
    r.disconnect();
  }
}
