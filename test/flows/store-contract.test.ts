import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createRedis } from '../../src/redis/connection.js';
import { RedisStore } from '../../src/redis/store.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { MemoryStore } from './memory-store.js';
import { storeContract } from './store-contract.js';
import { Crash, crashOnceAt } from './support.js';

storeContract('MemoryStore', async () => {
  let t = Date.parse('2024-05-01T10:00:00.000Z');
  const store = new MemoryStore({ now: () => t });
  return {
    store,
    crashingAt: (step) => store.withCheckpoint(crashOnceAt(step)),
    advance: (ms) => {
      t += ms;
    },
    cleanup: async () => {},
  };
});

let redis: Redis;
beforeAll(() => {
  redis = createRedis(TEST_REDIS_URL, 'worker');
});
afterAll(async () => {
  await redis.quit();
});

storeContract('RedisStore', async () => {
  const prefix = testPrefix('store-contract');
  return {
    store: new RedisStore(redis, prefix),
    crashingAt: (step) =>
      new RedisStore(redis, prefix, (s) => {
        if (s === step) throw new Crash(step);
      }),
    cleanup: () => cleanPrefix(prefix),
  };
});
