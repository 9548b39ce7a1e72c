import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { type Harness, settled as settledFor, startHarness } from '../support/harness.js';

// The same lifecycle over both ways Slack reaches an app: signed HTTP requests to /slack/events,
// and Socket Mode (envelopes over the WebSocket Bolt's SocketModeReceiver opens, no signing secret).
describe.each([
  { transport: 'http' as const, path: 'the real Bolt request path (HTTP)' },
  { transport: 'socket' as const, path: 'Socket Mode (Bolt’s SocketModeReceiver)' },
])('an incident from /incident start to close, over $path', ({ transport }) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(`lifecycle-${transport}`, {}, { transport });
  });
  afterAll(async () => {
    await h?.close();
  });

  const settled = (id: string) => settledFor(h, id);

  it('opens the channel, records every step in order, keeps the pinned summary current, and closes', async () => {
    const { alice, bob, carol } = h.users;
    const general = h.sandbox.addChannel({ name: 'general', members: [alice, bob, carol] }).id;

    const started = await h.client.slashCommand({
      text: 'start sev2 Checkout latency',
      userId: alice,
      channelId: general,
    });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('INC-1 (SEV2) declared'),
    });

    const created = await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok);
    const channel = h.sandbox.channelByName(String(created.args.name))!;
    expect(channel.name).toMatch(/^inc-\d{8}-1-checkout-latency$/);
    await h.sandbox.waitFor((e) => e.method === 'pins.add' && e.ok);
    await settled('INC-1');

    const note = await h.client.slashCommand({
      text: 'note p99 is 4s on checkout, 5xx at 30%',
      userId: alice,
      channelId: channel.id,
    });
    expect(note.body).toMatchObject({ text: expect.stringContaining('Noted') });

    const said = h.sandbox.postAsUser({
      channel: channel.id,
      user: bob,
      text: 'web-01 CPU at 100%, web-02 and web-03 idle',
    });
    await h.client.reactionAdded({ userId: bob, channelId: channel.id, ts: said.ts, reaction: 'pushpin' });
    await eventually(async () => {
      const entries = await h.bot.rt.store.entries('INC-1');
      expect(entries.some((e) => e.kind === 'message_recorded')).toBe(true);
    });

    if (transport === 'socket') {
      // Slack recycles Socket Mode connections: after `refresh_requested` the bot reconnects with a new URL.
      await h.sandbox.socketMode!.refresh();
      expect(h.sandbox.transcriptFor('apps.connections.open').filter((e) => e.ok)).toHaveLength(2);
    }
    await h.client.slashCommand({ text: 'status identified', userId: alice, channelId: channel.id });
    await h.client.slashCommand({ text: `lead <@${bob}|bob>`, userId: alice, channelId: channel.id });
    const closed = await h.client.slashCommand({
      text: 'close Fixed weights',
      userId: bob,
      channelId: channel.id,
    });
    expect(closed.body).toMatchObject({ text: expect.stringContaining('INC-1 closed') });
    await settled('INC-1');

    // The timeline, in order, with actors, sources and UTC times.
    const entries = await h.bot.rt.store.entries('INC-1');
    const core = entries.filter((e) => !['postmortem_drafted'].includes(e.kind));
    expect(core.map((e) => e.kind)).toEqual([
      'declared',
      'channel_created',
      'summary_posted',
      'note',
      'message_recorded',
      'status_changed',
      'role_assigned',
      'closed',
    ]);
    expect(core.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(entries[0]).toMatchObject({
      kind: 'declared',
      title: 'Checkout latency',
      severity: 'SEV2',
      actor: { type: 'user', id: alice },
      source: 'slash',
    });
    expect(entries[3]).toMatchObject({
      kind: 'note',
      text: 'p99 is 4s on checkout, 5xx at 30%',
      actor: { id: alice },
    });
    expect(entries[4]).toMatchObject({
      kind: 'message_recorded',
      author: bob,
      recordedBy: bob,
      source: 'reaction',
      text: 'web-01 CPU at 100%, web-02 and web-03 idle',
      at: new Date(Number(said.ts) * 1000).toISOString(),
    });
    expect(entries[5]).toMatchObject({ kind: 'status_changed', from: 'investigating', to: 'identified' });
    expect(entries[6]).toMatchObject({ kind: 'role_assigned', role: 'commander', userId: bob });
    expect(entries[7]).toMatchObject({ kind: 'closed', resolution: 'Fixed weights', actor: { id: bob } });
    for (const e of entries) expect(e.at).toMatch(/Z$/);

    // The channel: members, pinned summary showing the final state.
    expect(new Set(h.sandbox.channel(channel.id)!.members)).toEqual(
      new Set([h.sandbox.botUserId, alice, carol]),
    );
    const pins = h.sandbox.pins(channel.id);
    expect(pins).toHaveLength(1);
    const summary = h.sandbox.message(channel.id, pins[0]!.ts)!;
    const summaryText = JSON.stringify(summary.blocks);
    expect(summaryText).toContain('INC-1: Checkout latency');
    expect(summaryText).toContain('closed');
    expect(summaryText).toContain(`<@${bob}>`);
    expect(summaryText).toContain('Fixed weights');

    // Confirmations in the channel, in timeline order.
    const texts = h.sandbox.messages(channel.id).map((m) => m.text ?? '');
    const order = [
      'Note from',
      'Added to the timeline',
      'Status: *investigating* → *identified*',
      'incident commander',
      'Incident closed',
    ];
    const positions = order.map((needle) => texts.findIndex((t) => t.includes(needle)));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);

    // The announcement and the Web API calls, as Slack saw them.
    expect(h.sandbox.messages(h.announceChannel).some((m) => m.text?.includes('INC-1 (SEV2) declared'))).toBe(
      true,
    );
    const methods = h.sandbox.transcript.filter((e) => e.ok).map((e) => e.method);
    for (const m of [
      'auth.test',
      'conversations.create',
      'conversations.invite',
      'chat.postMessage',
      'pins.add',
      'chat.update',
      'conversations.history',
    ]) {
      expect(methods).toContain(m);
    }
    expect(h.sandbox.transcriptFor('conversations.create')).toHaveLength(1);

    // The postmortem draft: uploaded to the channel as a file, saved under POSTMORTEM_DIR, on the timeline.
    await h.sandbox.waitFor((e) => e.method === 'files.completeUploadExternal' && e.ok);
    const [file] = h.sandbox.files(channel.id);
    expect(file?.name).toBe('INC-1-checkout-latency.md');
    const drafted = await eventually(async () => {
      const d = (await h.bot.rt.store.entries('INC-1')).find((e) => e.kind === 'postmortem_drafted');
      expect(d).toBeDefined();
      return d as { path: string };
    });
    const onDisk = readFileSync(drafted.path, 'utf8');
    expect(drafted.path.startsWith(h.env.POSTMORTEM_DIR!)).toBe(true);
    expect(onDisk).toContain('# Postmortem: INC-1');
    expect(onDisk).toContain('Fixed weights');
    expect(onDisk).toContain('bob'); // display names, not user ids
    expect(onDisk).not.toContain(bob);
    expect(h.sandbox.transcript.filter((e) => !e.ok && e.status !== 429)).toEqual([]);
    if (transport === 'socket') {
      // Every envelope was acked on its first delivery, over the WebSocket.
      const envelopes = h.sandbox.socketMode!.envelopes;
      expect(new Set(envelopes.map((e) => e.type))).toEqual(new Set(['slash_commands', 'events_api']));
      expect(envelopes.every((e) => e.acked && e.attempts === 1)).toBe(true);
    }
  });
});
