import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** The Redis these tests use: REDIS_URL or the machine's 127.0.0.1:6379. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A key prefix unique to one test file run, so files can run in parallel on one Redis. */
export function testPrefix(name: string): string {
  return `ibtest-${name}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under `prefix` (SCAN + UNLINK). */
export async function cleanPrefix(prefix: string): Promise<void> {
  const r = new Redis(TEST_REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}
