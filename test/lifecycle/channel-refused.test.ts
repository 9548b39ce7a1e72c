import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

// A workspace whose admins limit who may create channels: conversations.create answers
// restricted_action (https://docs.slack.dev/reference/methods/conversations.create#errors).

describe('a workspace that refuses to create the incident channel, with no fallback channel', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness('refused-create');
    h.sandbox.workspace.knobs.restrictChannelCreation = true;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('keeps the incident recorded and tells the declarer why in a direct message', async () => {
    const { alice } = h.users;
    const general = h.sandbox.addChannel({ name: 'general', members: [alice] }).id;
    const started = await h.client.slashCommand({
      text: 'start sev2 Search down',
      userId: alice,
      channelId: general,
    });
    expect(started.body).toMatchObject({ text: expect.stringContaining('INC-1 (SEV2) declared') });

    const dm = await h.sandbox.waitForMessage((m) =>
      m.text.includes('Slack refused to create the incident channel'),
    );
    expect(h.sandbox.channel(dm.channel)!.is_im).toBe(true);
    expect(h.sandbox.channel(dm.channel)!.members).toContain(alice);
    expect(dm.text).toContain('this workspace limits who may create channels (`restricted_action`)');
    const entries = await eventually(async () => {
      const all = await h.bot.rt.store.entries('INC-1');
      expect(all.some((e) => e.kind === 'slack_refused')).toBe(true);
      return all;
    });
    expect(entries.map((e) => e.kind)).toEqual(['declared', 'slack_refused']);
    expect(entries[1]).toMatchObject({ action: 'create_channel', error: 'restricted_action' });
    const inc = await h.bot.rt.store.current('INC-1');
    expect(inc?.channelRefused).toBe('restricted_action');
    expect(inc?.status).toBe('investigating');
    // Asked once: a refusal is not retried by the job.
    expect(h.sandbox.transcriptFor('conversations.create')).toHaveLength(1);
  });
});

describe('a workspace that refuses to create the incident channel, with INCIDENT_FALLBACK_CHANNEL', () => {
  let h: Harness;
  let fallback: string;
  beforeAll(async () => {
    h = await startHarness(
      'refused-create-fallback',
      {},
      {
        prepare: (sandbox) => {
          sandbox.workspace.knobs.restrictChannelCreation = true;
          fallback = sandbox.addChannel({ name: 'incident-fallback', members: [sandbox.botUserId] }).id;
          return { INCIDENT_FALLBACK_CHANNEL: fallback };
        },
      },
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  it('works the incident in a thread of the fallback channel, from declaration to postmortem', async () => {
    const { alice, bob } = h.users;
    const general = h.sandbox.addChannel({ name: 'general', members: [alice, bob] }).id;
    await h.client.slashCommand({ text: 'start sev2 Search down', userId: alice, channelId: general });

    // The thread's root is the live summary; the refusal is said in the thread.
    const root = await h.sandbox.waitForMessage(
      (m) => JSON.stringify(m.blocks ?? []).includes('INC-1: Search down'),
      {
        channel: fallback,
      },
    );
    expect(root.thread_ts ?? root.ts).toBe(root.ts);
    await settled(h, 'INC-1');
    const replies = () =>
      h.sandbox.messages(fallback).filter((m) => m.thread_ts === root.ts && m.ts !== root.ts);
    expect(
      replies().some((m) => m.text.startsWith(':warning: Could not create the incident channel #inc-')),
    ).toBe(true);
    const dm = await h.sandbox.waitForMessage((m) =>
      m.text.includes('Slack refused to create the incident channel'),
    );
    expect(dm.text).toContain(`It is worked in a thread of <#${fallback}>`);

    // Commands in the fallback channel act on the incident and answer in its thread.
    const note = await h.client.slashCommand({
      text: 'note search nodes OOM',
      userId: alice,
      channelId: fallback,
    });
    expect(note.body).toMatchObject({ text: expect.stringContaining('Noted') });
    await h.client.slashCommand({ text: 'close Restarted search', userId: alice, channelId: fallback });
    await h.sandbox.waitFor((e) => e.method === 'files.completeUploadExternal' && e.ok);
    await settled(h, 'INC-1');
    const texts = replies().map((m) => m.text);
    expect(texts.some((t) => t.includes('Note from') && t.includes('search nodes OOM'))).toBe(true);
    expect(texts.some((t) => t.includes('Incident closed'))).toBe(true);
    expect(h.sandbox.files(fallback).map((f) => f.name)).toEqual(['INC-1-search-down.md']);
    // Nothing went to the fallback channel's top level but the summary.
    expect(h.sandbox.messages(fallback).filter((m) => !m.thread_ts || m.thread_ts === m.ts)).toHaveLength(1);
    expect(JSON.stringify(h.sandbox.message(fallback, root.ts)!.blocks)).toContain('closed');
  });
});
