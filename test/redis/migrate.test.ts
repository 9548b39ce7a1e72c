import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/redis/connection.js';
import { migrateLegacyLayout } from '../../src/redis/migrate.js';
import { RedisStore } from '../../src/redis/store.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

// A deployment of the release before hash-tagged keys, upgraded: its directory keys and alert
// states must reach their new names once, with nothing dropped, before anything reads them.

const prefix = testPrefix('migrate');
const redis = createRedis(TEST_REDIS_URL, 'worker');
const log = pino({ level: 'silent' });
afterAll(async () => {
  await cleanPrefix(prefix);
  redis.disconnect();
});

const declared = JSON.stringify({
  kind: 'declared',
  at: '2026-11-20T10:00:00.000Z',
  actor: { type: 'alert', source: 'alertmanager' },
  source: 'alert',
  title: 'Checkout 5xx',
  severity: 'SEV2',
  alertGroupId: 'am-1',
});
const state = JSON.stringify({ status: 'firing', startsAt: '2026-11-20T09:59:00.000Z', severity: 'SEV2' });

describe('the key-layout migration', () => {
  it('moves the old directory keys and alert states so the store finds every incident, once', async () => {
    const p = (k: string) => `${prefix}:${k}`;
    await redis.rpush(`${prefix}:{INC-7}:timeline`, declared);
    await redis.set(p('incident-seq'), '7');
    await redis.zadd(p('open'), Date.parse('2026-11-20T10:00:00Z'), 'INC-7');
    await redis.zadd(p('all'), 7, 'INC-7');
    await redis.hset(p('channels'), 'C0LEGACY', 'INC-7');
    await redis.set(p('alert-group:am-1'), 'INC-7');
    await redis.set(p('alert-group-last:am-1'), 'INC-7');
    await redis.hset(p('alert-states:am-1'), 'fp1', state);
    await redis.hset(
      `${prefix}:{INC-7}:slack`,
      'nudge-job',
      'nudge-INC-7-1',
      'nudge-basis',
      '2026-11-20T10:00:00.000Z',
    );

    const first = await migrateLegacyLayout(redis, prefix, log);
    expect(first).toEqual({ moved: 7 });
    const store = new RedisStore(redis, prefix);
    expect(await store.openIncidents()).toEqual(['INC-7']);
    expect(await store.allIncidents()).toEqual(['INC-7']);
    expect(await store.incidentByChannel('C0LEGACY')).toBe('INC-7');
    expect(await store.boundIncident('am-1')).toBe('INC-7');
    expect(await store.lastIncident('am-1')).toBe('INC-7');
    expect(Object.keys(await store.alertStates('INC-7', 'am-1'))).toEqual(['fp1']);
    const meta = await store.meta('INC-7');
    expect(meta['nudge-job']).toBeUndefined();
    expect(meta['reschedule-reminders']).toBeDefined();
    // The number sequence goes on: the next incident is INC-8, not INC-1.
    const next = await store.declare({ ...JSON.parse(declared), alertGroupId: undefined, title: 'Next' });
    expect(next).toEqual({ id: 'INC-8', created: true });
    expect(
      await redis.exists(p('open'), p('all'), p('channels'), p('incident-seq'), p('alert-states:am-1')),
    ).toBe(0);

    // Once: a later start finds the layout mark and touches nothing.
    await redis.zadd(p('open'), 1, 'INC-999');
    expect(await migrateLegacyLayout(redis, prefix, log)).toBeUndefined();
    expect(await store.openIncidents()).not.toContain('INC-999');
  });
});
