import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

// A workspace as real ones are: one responder is a guest, one left the company (deactivated), one
// is an external (Slack Connect) user, the announce channel was archived, and nobody filled in a
// display name. https://docs.slack.dev/reference/methods/conversations.invite#errors
let h: Harness;
let guest: string;
let gone: string;
let external: string;
beforeAll(async () => {
  h = await startHarness(
    'hostile',
    {},
    {
      sandbox: { hostile: true },
      prepare: (sandbox) => {
        guest = sandbox.addUser({ name: 'gus', realName: 'Gus Guest', guest: 'multi' }).id;
        gone = sandbox.addUser({ name: 'dora', realName: 'Dora Departed', deactivated: true }).id;
        external = sandbox.addUser({ name: 'eve', realName: 'Eve Elsewhere', external: true }).id;
        const carol = sandbox.userByName('carol')!.id;
        // Empty display name, a real name that differs from the handle: the draft must use the real name.
        const alice = sandbox.userByName('alice')!;
        alice.real_name = 'Alice Liddell';
        alice.profile.real_name = 'Alice Liddell';
        const announce = sandbox.channelByName('incidents')!.id;
        sandbox.archiveChannel(announce);
        return { INCIDENT_RESPONDERS: [carol, guest, gone, external].join(',') };
      },
    },
  );
});
afterAll(async () => {
  await h?.close();
});

describe('an incident in a hostile workspace', () => {
  it('opens the channel with everyone Slack lets in, says each refusal there, and runs to the postmortem', async () => {
    const { alice, bob, carol } = h.users;
    expect(h.sandbox.user(alice)!.profile.display_name).toBe('');
    const general = h.sandbox.addChannel({ name: 'general', members: [alice, bob, carol] }).id;
    const started = await h.client.slashCommand({
      text: 'start sev2 Checkout errors',
      userId: alice,
      channelId: general,
    });
    expect(started.body).toMatchObject({ text: expect.stringContaining('INC-1 (SEV2) declared') });
    const created = await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok);
    const channel = h.sandbox.channelByName(String(created.args.name))!;

    // Everyone else is in; the summary is pinned; setup ran once (no job retried over a refusal).
    await h.sandbox.waitFor((e) => e.method === 'pins.add' && e.ok);
    await settled(h, 'INC-1');
    expect(new Set(channel.members)).toEqual(new Set([h.sandbox.botUserId, alice, carol]));
    expect(h.sandbox.pins(channel.id)).toHaveLength(1);
    expect(h.sandbox.transcriptFor('conversations.create')).toHaveLength(1);
    // One user per invite call, each asked once.
    const invites = h.sandbox.transcriptFor('conversations.invite');
    expect(invites.every((e) => !String(e.args.users).includes(','))).toBe(true);
    expect(invites.map((e) => e.args.users).sort()).toEqual([alice, carol, guest, gone, external].sort());

    // Each refusal is on the timeline and said in the channel, in words.
    const refused = (await h.bot.rt.store.entries('INC-1')).filter((e) => e.kind === 'slack_refused');
    expect(refused.map((e) => [e.action, e.target, e.error])).toEqual([
      ['invite', guest, 'user_is_restricted'],
      ['invite', gone, 'cant_invite'],
      ['invite', external, 'no_external_invite_permission'],
      ['announce', h.announceChannel, 'is_archived'],
    ]);
    const texts = h.sandbox.messages(channel.id).map((m) => m.text);
    expect(texts).toContain(
      `:warning: Could not invite <@${guest}>: guest account (Slack: \`user_is_restricted\`). Everyone else is in; add them by hand if they should be here.`,
    );
    expect(
      texts.some((t) => t.startsWith(`:warning: Could not invite <@${gone}>: Slack does not allow`)),
    ).toBe(true);
    expect(texts.some((t) => t.startsWith(`:warning: Could not invite <@${external}>: external user`))).toBe(
      true,
    );
    expect(
      texts.filter((t) =>
        t.startsWith(
          `:warning: Could not post to the announce channel <#${h.announceChannel}>: the channel is archived`,
        ),
      ),
    ).toHaveLength(1);

    // Commands work.
    const note = await h.client.slashCommand({
      text: 'note 5xx on checkout',
      userId: alice,
      channelId: channel.id,
    });
    expect(note.body).toMatchObject({ text: expect.stringContaining('Noted') });
    await h.client.slashCommand({ text: `lead <@${bob}|bob>`, userId: alice, channelId: channel.id });
    await h.client.slashCommand({ text: 'status identified', userId: alice, channelId: channel.id });
    const closed = await h.client.slashCommand({
      text: 'close Fixed weights',
      userId: alice,
      channelId: channel.id,
    });
    expect(closed.body).toMatchObject({ text: expect.stringContaining('INC-1 closed') });

    // Close drafts the postmortem, with real names where display names are empty.
    const drafted = await eventually(async () => {
      const d = (await h.bot.rt.store.entries('INC-1')).find((e) => e.kind === 'postmortem_drafted');
      expect(d).toBeDefined();
      return d as { path: string };
    }, 45_000);
    await h.sandbox.waitFor((e) => e.method === 'files.completeUploadExternal' && e.ok);
    const draft = readFileSync(drafted.path, 'utf8');
    expect(draft).toContain('Fixed weights');
    // People by real name (their display names are empty), not by id.
    expect(draft).toContain('Note: 5xx on checkout by Alice Liddell');
    expect(draft).not.toContain(alice);
    // Who could not be brought in is part of the story.
    expect(draft).toContain('Slack refused: inviting Gus Guest: user_is_restricted');

    // No refused call was retried: each refusal was asked once.
    const failures = h.sandbox.transcript.filter((e) => !e.ok && e.status !== 429);
    expect(failures.map((e) => [e.method, e.error]).sort()).toEqual(
      [
        ['chat.postMessage', 'is_archived'],
        ['conversations.invite', 'cant_invite'],
        ['conversations.invite', 'no_external_invite_permission'],
        ['conversations.invite', 'user_is_restricted'],
      ].sort(),
    );
  });
});
