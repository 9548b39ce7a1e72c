import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/redis/connection.js';
import { keys } from '../../src/redis/keys.js';
import { IncidentStore } from '../../src/redis/store.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

const prefix = testPrefix('store');
const redis = createRedis(TEST_REDIS_URL, 'worker');
const store = new IncidentStore(redis, keys(prefix));
const declared = {
  kind: 'declared' as const,
  at: '2026-11-21T10:00:00.000Z',
  actor: { type: 'user' as const, id: 'U1' },
  source: 'slash' as const,
  title: 'Checkout latency',
  severity: 'SEV2' as const,
};

beforeAll(async () => {
  await redis.ping();
});
afterAll(async () => {
  await cleanPrefix(prefix);
  redis.disconnect();
});

describe('the incident store on real Redis', () => {
  it('gives 50 concurrent declarations with one claim key exactly one incident', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () => store.declare(declared, { claimKey: 'trigger-1' })),
    );
    const ids = new Set(results.map((r) => r.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const [id] = [...ids];
    expect(await store.entries(id!)).toHaveLength(1);
  });

  it('appends entries once per claim key and refuses an append on a stale length', async () => {
    const { id } = await store.declare(declared);
    const note = {
      kind: 'note' as const,
      incidentId: id,
      at: '2026-11-21T10:01:00.000Z',
      actor: { type: 'user' as const, id: 'U1' },
      source: 'slash' as const,
      text: 'hi',
    };
    expect(await store.append(id, [note], { expectedLength: 1, claimKey: 'n1' })).toEqual({
      ok: true,
      seqs: [2],
    });
    expect(await store.append(id, [note], { claimKey: 'n1' })).toEqual({ ok: false, reason: 'duplicate' });
    expect(await store.append(id, [note], { expectedLength: 1 })).toEqual({ ok: false, reason: 'conflict' });
    const entries = await store.entries(id);
    expect(entries.map((e) => [e.seq, e.kind])).toEqual([
      [1, 'declared'],
      [2, 'note'],
    ]);
  });

  it('refuses to append to an incident that does not exist', async () => {
    const res = await store.append('INC-999999', [
      {
        kind: 'note',
        incidentId: 'INC-999999',
        at: '2026-11-21T10:01:00.000Z',
        actor: { type: 'bot' },
        source: 'bot',
        text: 'x',
      },
    ]);
    expect(res).toEqual({ ok: false, reason: 'not-found' });
  });

  it('keeps one open incident per alert group and frees the group when it closes', async () => {
    const a = await store.declare(declared, { alertGroupId: 'g1' });
    const b = await store.declare(declared, { alertGroupId: 'g1' });
    expect(b).toEqual({ id: a.id, created: false });
    await store.markClosed(a.id, 'g1');
    const c = await store.declare(declared, { alertGroupId: 'g1' });
    expect(c.created).toBe(true);
    expect(c.id).not.toBe(a.id);
    expect(await store.openIncidents()).toContain(c.id);
    expect(await store.openIncidents()).not.toContain(a.id);
  });
});
