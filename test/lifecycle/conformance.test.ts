import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TranscriptEntry } from '../../src/sandbox/index.js';
import { conformanceProblems, webApiSpec } from '../support/conformance.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

const call = (method: string, args: Record<string, unknown>, seq = 1): TranscriptEntry => ({
  seq,
  at: '2024-05-01T10:00:00.000Z',
  method,
  args,
  ok: true,
  status: 200,
  response: { ok: true },
});

describe('the conformance check against Slack’s published Web API spec', () => {
  it('flags an unknown method, a missing required argument and an unknown argument', () => {
    expect(
      conformanceProblems([
        call('chat.postMesage', { channel: 'C1', text: 'x' }, 1),
        call('chat.postMessage', { text: 'x' }, 2),
        call('chat.postMessage', { channel: 'C1', text: 'x', colour: 'red' }, 3),
        call('conversations.invite', { channel: 'C1' }, 4),
      ]),
    ).toEqual([
      'chat.postMesage #1: no such method in the Web API spec or the table of newer methods',
      'chat.postMessage #2: required argument channel is missing',
      'chat.postMessage #3: unknown argument colour',
      'conversations.invite #4: required argument users is missing',
    ]);
  });

  it('checks methods and arguments newer than the spec against their own table', () => {
    expect(
      conformanceProblems([
        call('files.getUploadURLExternal', { filename: 'a.md', length: '3' }),
        call('files.completeUploadExternal', { files: '[{"id":"F1"}]', channel_id: 'C1' }),
        call('chat.postMessage', { channel: 'C1', text: 'x', metadata: '{}' }),
        call('conversations.history', { channel: 'C1', include_all_metadata: 'true' }),
        call('response_url', { text: 'x' }),
      ]),
    ).toEqual([]);
    expect(conformanceProblems([call('files.getUploadURLExternal', { filename: 'a.md' })])).toEqual([
      'files.getUploadURLExternal #1: required argument length is missing',
    ]);
    expect(webApiSpec()['chat.postMessage']!.source).toBe('slack-api-specs /chat.postMessage');
  });
});

// A representative run through the real bot, its every call checked (the harness checks every
// end-to-end suite's transcript the same way when it closes).
describe('a representative incident, every Web API call checked against the spec', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('conformance');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('records a thread reply pinned with :pushpin: or the shortcut, and makes only calls the spec allows', async () => {
    const { alice, bob } = h.users;
    const general = h.sandbox.addChannel({ name: 'general', members: [alice, bob] }).id;
    await h.client.slashCommand({ text: 'start sev3 Login errors', userId: alice, channelId: general });
    const created = await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok);
    const channel = h.sandbox.channelByName(String(created.args.name))!.id;
    await settled(h, 'INC-1');

    // Thread replies: :pushpin: (the worker reads it with conversations.replies) and the shortcut.
    const parent = h.sandbox.postAsUser({ channel, user: alice, text: 'looking at the auth service' });
    const reply = h.sandbox.postAsUser({
      channel,
      user: bob,
      text: 'auth-2 has no traffic at all',
      threadTs: parent.ts,
    });
    const other = h.sandbox.postAsUser({
      channel,
      user: bob,
      text: 'auth-1 at 100% CPU',
      threadTs: parent.ts,
    });
    await h.client.reactionAdded({ userId: alice, channelId: channel, ts: reply.ts, reaction: 'pushpin' });
    await h.client.messageShortcut({
      callbackId: 'add_to_timeline',
      userId: alice,
      channelId: channel,
      messageTs: other.ts,
    });
    const recorded = await eventually(async () => {
      const entries = (await h.bot.rt.store.entries('INC-1')).filter((e) => e.kind === 'message_recorded');
      expect(entries).toHaveLength(2);
      return entries;
    });
    expect(recorded.map((e) => [e.messageTs, e.author, e.text, e.source]).sort()).toEqual(
      [
        [reply.ts, bob, 'auth-2 has no traffic at all', 'reaction'],
        [other.ts, bob, 'auth-1 at 100% CPU', 'shortcut'],
      ].sort(),
    );
    expect(h.sandbox.transcriptFor('conversations.replies').some((e) => e.ok && e.args.ts === reply.ts)).toBe(
      true,
    );

    await h.client.slashCommand({ text: 'note routing looks wrong', userId: alice, channelId: channel });
    await h.client.slashCommand({ text: 'status identified', userId: alice, channelId: channel });
    await h.client.slashCommand({ text: 'close Fixed the route', userId: alice, channelId: channel });
    await h.sandbox.waitFor((e) => e.method === 'files.completeUploadExternal' && e.ok);
    await settled(h, 'INC-1');

    const methods = new Set(h.sandbox.transcript.map((e) => e.method));
    for (const m of [
      'auth.test',
      'conversations.create',
      'conversations.invite',
      'conversations.setTopic',
      'chat.postMessage',
      'chat.update',
      'pins.add',
      'conversations.history',
      'conversations.replies',
      'users.info',
      'files.getUploadURLExternal',
      'files.completeUploadExternal',
    ]) {
      expect(methods).toContain(m);
    }
    expect(conformanceProblems(h.sandbox.transcript)).toEqual([]);
  });
});
