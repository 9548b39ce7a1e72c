import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASTORE_DOWN, DATASTORE_UNSURE } from '../../src/slack/app.js';
import { declare, type OwnRedis, type Stack, startOwnRedis, startStack, timeline, until } from './support.js';

let redis: OwnRedis;
let s: Stack;
beforeAll(async () => {
  redis = await startOwnRedis();
  s = await startStack('faults-redis', { redisUrl: redis.url, rateLimits: 'raised' });
});
afterAll(async () => {
  await s?.close();
  await redis?.stop();
});

describe('Redis (AOF on) restarted under traffic', () => {
  it('loses no acknowledged note, duplicates none, and both processes carry on after reconnecting', async () => {
    const inc = await declare(s, 'Redis restart');
    const acked: string[] = [];
    const refused: string[] = [];
    // Sent while Redis went down: it may or may not have been recorded, and the reply says so.
    const unsure: string[] = [];
    let restarted = false;
    const restart = (async () => {
      await until('some notes recorded first', () => acked.length >= 10);
      await redis.restart();
      restarted = true;
    })();
    // Traffic keeps coming during the outage; the loop ends once 10 notes were acknowledged after it.
    let afterRestart = 0;
    for (let i = 1; afterRestart < 10 && i < 2000; i++) {
      const text = `restart note ${i}`;
      const res = await s.client.slashCommand({
        text: `note ${text}`,
        userId: s.users.alice,
        channelId: inc.channel,
      });
      expect(res.status).toBe(200);
      const reply = (res.body as { text?: string }).text ?? '';
      if (reply.startsWith('Noted')) {
        acked.push(text);
        if (restarted) afterRestart++;
      } else if (reply === DATASTORE_UNSURE) {
        unsure.push(text);
      } else {
        expect(reply).toBe(DATASTORE_DOWN);
        refused.push(text);
      }
    }
    await restart;
    expect(afterRestart).toBe(10);

    const notes = (await timeline(s, inc.id)).filter((e) => e.kind === 'note').map((e) => String(e.text));
    for (const text of acked)
      expect(
        notes.filter((n) => n === text),
        text,
      ).toHaveLength(1);
    expect(new Set(notes).size).toBe(notes.length);
    // "Nothing was recorded" is only said when it is true.
    for (const text of refused) expect(notes, text).not.toContain(text);

    // The worker reconnected too: every note reaches the channel, in order.
    const posted = await until(
      'every recorded note delivered to the channel',
      () => {
        const texts = s.sandbox
          .messages(inc.channel)
          .map((m) => /Note from .*: (restart note \d+)$/.exec(m.text ?? '')?.[1])
          .filter((t): t is string => t !== undefined);
        return texts.length >= notes.length && texts;
      },
      90_000,
      200,
    );
    expect(posted).toEqual(notes);
  });
});
