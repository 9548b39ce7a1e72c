import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, settled, startHarness } from '../support/harness.js';

let h: Harness;
let channel: string;
beforeAll(async () => {
  h = await startHarness('hypotheses');
  const general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice] }).id;
  await h.client.slashCommand({ text: 'start sev2 Checkout 5xx', userId: h.users.alice, channelId: general });
  const created = await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok);
  channel = h.sandbox.channelByName(String(created.args.name))!.id;
  await settled(h, 'INC-1');
});
afterAll(async () => {
  await h?.close();
});

const say = async (text: string) =>
  (
    (await h.client.slashCommand({ text, userId: h.users.alice, channelId: channel })).body as {
      text: string;
    }
  ).text;

describe('hypotheses through slash commands', () => {
  it('records suspicions with ids and categories, settles them with evidence, and lists them', async () => {
    expect(await say('suspect the database is overloaded')).toContain('Hypothesis H1 (database) recorded');
    expect(await say('suspect load-balancer: weights changed in the last deploy')).toContain(
      'Hypothesis H2 (load-balancer)',
    );
    expect(await say('rule-out H1 p99 query time 4 ms, CPU 20%')).toContain('H1 ruled out');
    expect(await say('confirm h2 web-01 weight 100, others 1')).toContain('H2 confirmed');
    expect(await say('confirm H9')).toContain('INC-1 has no hypothesis H9');
    expect(await say('rule-out H1 again')).toContain('H1 is already ruled-out');
    expect(await say('rule-out')).toContain('Usage: `/incident rule-out <H1> [evidence]`');

    const list = await say('hypotheses');
    expect(list).toContain(
      '*H1* (database) the database is overloaded — ruled-out: p99 query time 4 ms, CPU 20%',
    );
    expect(list).toContain('*H2* (load-balancer) weights changed in the last deploy — confirmed');

    await settled(h, 'INC-1');
    const inc = (await h.bot.rt.store.load('INC-1'))!.incident;
    expect(inc.hypotheses.map((x) => [x.id, x.state])).toEqual([
      ['H1', 'ruled-out'],
      ['H2', 'confirmed'],
    ]);
    expect(inc.identifiedAt).toBeDefined();
    const texts = h.sandbox.messages(channel).map((m) => m.text ?? '');
    expect(texts.some((t) => t.includes('Hypothesis *H1* (database) raised by'))).toBe(true);
    expect(texts.some((t) => t.includes('Hypothesis *H2* confirmed by'))).toBe(true);
  });
});
