import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { channelName } from '../../src/core/channel-name.js';
import { type BotProcess, startBot } from '../../src/process.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

let h: Harness;
let worker: BotProcess | undefined;
beforeAll(async () => {
  h = await startHarness('channel-recovery', {}, { worker: false });
});
afterAll(async () => {
  await worker?.close();
  await h?.close();
});

describe('opening the incident channel when Slack and Redis disagree', () => {
  it('adopts the channel it created just before a crash, and works around a person’s channel of the same name', async () => {
    const general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice] }).id;
    await h.client.slashCommand({
      text: 'start sev2 Checkout latency',
      userId: h.users.alice,
      channelId: general,
    });
    await h.client.slashCommand({
      text: 'start sev3 Search errors',
      userId: h.users.alice,
      channelId: general,
    });
    const one = await h.bot.rt.store.load('INC-1');
    const two = await h.bot.rt.store.load('INC-2');
    // INC-1: the worker had created the channel and died before recording it.
    const name1 = channelName(1, 'Checkout latency', one!.incident.declaredAt);
    const orphan = h.sandbox.addChannel({ name: name1, members: [h.sandbox.botUserId] });
    await h.bot.rt.store.setMeta('INC-1', { 'channel-attempt': name1 });
    // INC-2: somebody already has a channel with the name the bot would pick.
    const name2 = channelName(2, 'Search errors', two!.incident.declaredAt);
    const theirs = h.sandbox.addChannel({ name: name2, members: [h.users.bob], creator: h.users.bob });

    worker = await startBot({ env: h.env, web: false });
    await settled(h, 'INC-1');
    await settled(h, 'INC-2');

    const inc1 = (await h.bot.rt.store.load('INC-1'))!.incident;
    const inc2 = (await h.bot.rt.store.load('INC-2'))!.incident;
    expect(inc1.channelId).toBe(orphan.id);
    expect(inc2.channelId).not.toBe(theirs.id);
    expect(inc2.channelName).toBe(`${name2}-2`);
    expect(h.sandbox.channels().filter((c) => c.name.startsWith(name1))).toHaveLength(1);
    expect(h.sandbox.pins(theirs.id)).toHaveLength(0);
  });
});
