import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASTORE_DOWN, DATASTORE_UNSURE, STILL_WORKING } from '../../src/slack/app.js';
import { startFormState } from '../support/start-form.js';
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

describe('Redis too slow for Slack’s 3-second deadline (CLIENT PAUSE, 4 s)', () => {
  it('acknowledges the command in time, then answers through the response_url, and records the note once', async () => {
    const inc = await declare(s, 'Redis slow');
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    admin.on('error', () => {});
    try {
      await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');
      const res = await s.client.slashCommand({
        text: 'note pool b drained while Redis was paused',
        userId: s.users.alice,
        channelId: inc.channel,
      });
      // Before: the answer came after Bolt's 2.5 s timer (a 404) or after Slack's 3 s (dropped).
      expect(res.status).toBe(200);
      expect(res.late).toBe(false);
      expect((res.body as { text?: string }).text).toBe(STILL_WORKING);
      // Redis's commands timed out at 2.5 s: the note may or may not be recorded, and the answer says so.
      const answer = await until(
        'the answer through the response_url',
        () =>
          s.sandbox
            .ephemeral(inc.channel)
            .find((m) => m.source === 'response_url' && m.user === s.users.alice && m.text !== STILL_WORKING),
        30_000,
      );
      expect(answer.text).toBe(DATASTORE_UNSURE);
      // Blocked behind the pause like every client: answers once Redis wakes.
      await admin.ping();
    } finally {
      admin.disconnect();
    }
    // As the answer advises: check the timeline, and repeat the note only if it is not there.
    const text = 'pool b drained while Redis was paused';
    const before = (await timeline(s, inc.id)).filter((e) => e.kind === 'note' && e.text === text);
    expect(before.length).toBeLessThanOrEqual(1);
    if (before.length === 0) {
      const again = await s.client.slashCommand({
        text: `note ${text}`,
        userId: s.users.alice,
        channelId: inc.channel,
      });
      expect((again.body as { text?: string }).text).toBe(`Noted on ${inc.id}'s timeline.`);
    }
    const notes = (await timeline(s, inc.id)).filter((e) => e.kind === 'note').map((e) => e.text);
    expect(notes.filter((n) => n === text)).toHaveLength(1);
    await until(
      'the note posted to the channel',
      () => s.sandbox.messages(inc.channel).some((m) => (m.text ?? '').endsWith(text)),
      60_000,
    );

    // With Redis answering again, a command answers at once, as before.
    const fast = await s.client.slashCommand({
      text: 'note Redis is back',
      userId: s.users.alice,
      channelId: inc.channel,
    });
    expect((fast.body as { text?: string }).text).toBe(`Noted on ${inc.id}'s timeline.`);
  });
});

describe('the start form submitted while Redis is too slow for Slack’s 3 seconds (CLIENT PAUSE, 4 s)', () => {
  it('keeps the form’s place with a notice in time, then shows the outcome in it', async () => {
    await s.client.slashCommand({ text: 'start', userId: s.users.bob, channelId: s.general });
    const form = await until(
      'the start form opened',
      () => s.sandbox.views().find((v) => v.callback_id === 'start_incident' && v.user === s.users.bob),
      30_000,
    );
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    admin.on('error', () => {});
    try {
      await admin.call('CLIENT', 'PAUSE', '4000', 'ALL');
      const sub = await s.client.viewSubmission({
        viewId: form.id,
        callbackId: 'start_incident',
        userId: s.users.bob,
        stateValues: startFormState({ title: 'Declared while Redis was paused', severity: 'SEV2' }),
      });
      // Before: Bolt answered 404 at 2.5 s and Slack showed the form's own connection error.
      expect(sub.status).toBe(200);
      expect(sub.late).toBe(false);
      expect(sub.body).toMatchObject({ response_action: 'update' });
      const shown = () => JSON.stringify(s.sandbox.views().find((v) => v.id === form.id)?.blocks ?? []);
      expect(shown()).toContain('Working on it');
      // Redis's commands timed out at 2.5 s: the notice says whether it is known what happened.
      await until('the outcome shown in the form', () => !shown().includes('Working on it'), 30_000);
      expect(shown()).toContain('could not confirm that was recorded');
      await admin.ping();
    } finally {
      admin.disconnect();
    }
  });
});
