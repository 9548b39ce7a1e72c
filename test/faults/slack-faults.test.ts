import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declare, type Stack, startStack, until } from './support.js';

let s: Stack;
beforeAll(async () => {
  // Slack's own limits (chat.postMessage about 1/s per channel, bursts of 10): a burst of notes meets 429s.
  s = await startStack('faults-slack', { rateLimits: 'slack' });
});
afterAll(async () => {
  await s?.close();
});

const noteNumbers = (channel: string, tag: string) =>
  s.sandbox
    .messages(channel)
    .map((m) => new RegExp(`Note from .*: ${tag} (\\d+)$`).exec(m.text ?? '')?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);

describe('Slack answering 429 with Retry-After and 500', () => {
  it('still gets every message delivered exactly once, in order, per channel', async () => {
    const a = await declare(s, 'Burst A');
    const b = await declare(s, 'Burst B');
    const N = 20;
    const seqBefore = s.sandbox.seq;
    s.sandbox.failNext('chat.postMessage', { status: 500, count: 3 });
    s.sandbox.failNext('chat.postMessage', { status: 429, retryAfter: 2, count: 2 });
    for (let i = 1; i <= N; i++) {
      for (const inc of [a, b]) {
        const res = await s.client.slashCommand({
          text: `note burst ${i}`,
          userId: s.users.alice,
          channelId: inc.channel,
        });
        expect(res.status).toBe(200);
      }
    }
    const expected = Array.from({ length: N }, (_, i) => i + 1);
    for (const inc of [a, b]) {
      await until(
        `all ${N} notes in ${inc.id}'s channel`,
        () => noteNumbers(inc.channel, 'burst').length >= N,
        120_000,
        200,
      );
      expect(noteNumbers(inc.channel, 'burst'), inc.id).toEqual(expected);
    }
    const calls = s.sandbox.transcript.filter((e) => e.seq > seqBefore && e.method === 'chat.postMessage');
    expect(calls.filter((e) => e.status === 500).length).toBe(3);
    expect(calls.filter((e) => e.status === 429).length).toBeGreaterThanOrEqual(3); // scripted plus real limits
  });
});
