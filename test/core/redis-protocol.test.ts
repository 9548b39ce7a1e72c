import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createRedis } from '../../src/redis/connection.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

// ioredis 6 negotiates RESP3 (HELLO 3) by default; REDIS_PROTOCOL=2 keeps ioredis 5's RESP2. The
// store and the flows read these replies: their shapes must not depend on the protocol.
const prefix = testPrefix('resp');
const opened: Redis[] = [];
const open = (protocol?: 2 | 3) => {
  const r = createRedis(TEST_REDIS_URL, 'worker', protocol ? { protocol } : {});
  opened.push(r);
  return r;
};

afterAll(async () => {
  for (const r of opened) r.disconnect();
  await cleanPrefix(prefix);
});

const good = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'abcdefgh12345678' };

describe('REDIS_PROTOCOL', () => {
  it('defaults to 3, takes 2, and names anything else', () => {
    expect(loadConfig(good).REDIS_PROTOCOL).toBe(3);
    expect(loadConfig({ ...good, REDIS_PROTOCOL: '2' }).REDIS_PROTOCOL).toBe(2);
    expect(() => loadConfig({ ...good, REDIS_PROTOCOL: 'resp2' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...good, REDIS_PROTOCOL: 'resp2' })).toThrow(/REDIS_PROTOCOL: must be 2/);
  });
});

describe.each([
  ['default (RESP3)', undefined, '3'],
  ['protocol 2', 2 as const, '2'],
])('a connection from createRedis, %s', (_name, protocol, resp) => {
  it('speaks the protocol it was asked for', async () => {
    const info = await open(protocol).client('INFO');
    expect(/ resp=(\d)/.exec(String(info))?.[1]).toBe(resp);
  });

  it('gives the reply shapes the store and the flows read', async () => {
    const r = open(protocol);
    const k = `${prefix}:${resp}`;
    await r.hset(`${k}:h`, 'count', '3', 'state', '{}');
    await r.zadd(`${k}:z`, 1, 'INC-1', 2, 'INC-2');
    expect(await r.hgetall(`${k}:h`)).toEqual({ count: '3', state: '{}' });
    expect(await r.hgetall(`${k}:missing`)).toEqual({});
    expect(await r.hmget(`${k}:h`, 'count', 'nope')).toEqual(['3', null]);
    expect(await r.hget(`${k}:h`, 'nope')).toBeNull();
    expect(await r.zrange(`${k}:z`, 0, '-1')).toEqual(['INC-1', 'INC-2']);
    expect(await r.zrange(`${k}:z`, 0, '-1', 'WITHSCORES')).toEqual(['INC-1', '1', 'INC-2', '2']);
    expect(await r.zscore(`${k}:z`, 'INC-2')).toBe('2');
    // One SCAN call covers only part of a large keyspace (the shared test Redis): follow the cursor.
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', `${k}:*`, 'COUNT', 1000);
      expect(typeof next).toBe('string');
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    expect(keys.sort()).toEqual([`${k}:h`, `${k}:z`]);
    // Lua replies: tables are arrays, false and nil are null, numbers are integers.
    expect(await r.eval("return {0, 'INC-1'}", 0)).toEqual([0, 'INC-1']);
    expect(await r.eval('return false', 0)).toBeNull();
    expect(await r.eval("return redis.call('GET', KEYS[1])", 1, `${k}:missing`)).toBeNull();
    expect(await r.eval("return redis.call('HGETALL', KEYS[1])", 1, `${k}:h`)).toEqual([
      'count',
      '3',
      'state',
      '{}',
    ]);
    expect(await r.eval('return -2', 0)).toBe(-2);
    expect(await r.multi().hgetall(`${k}:h`).hmget(`${k}:h`, 'nope').exec()).toEqual([
      [null, { count: '3', state: '{}' }],
      [null, [null]],
    ]);
  });
});
