import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BLOCK_LIMITS,
  DEFAULT_RATE_LIMITS,
  MANIFEST_PATH,
  manifestBotScopes,
  type Sandbox,
  SlackClientSim,
  startSandbox,
} from '../../src/sandbox/index.js';
import { slackError, webClient } from './web-client.js';

// What real workspaces refuse, each from its method's page (https://docs.slack.dev/reference/methods/<method>)
// and the published Web API spec (test/fixtures/slack/slack-api-specs/).

let sandbox: Sandbox;
afterEach(async () => {
  await sandbox?.close();
});

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (text: string, extra: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: 'a',
  text: { type: 'plain_text', text },
  ...extra,
});
const option = (text: string, value = 'v') => ({ text: { type: 'plain_text', text }, value });

describe('conversations.invite refuses who Slack refuses', () => {
  it('refuses guests, single-channel guests, external and deactivated users, each with its own error', async () => {
    sandbox = await startSandbox();
    const client = webClient(sandbox);
    const alice = sandbox.addUser({ name: 'alice' }).id;
    const guest = sandbox.addUser({ name: 'gus', guest: 'multi' }).id;
    const single = sandbox.addUser({ name: 'sid', guest: 'single' }).id;
    const external = sandbox.addUser({ name: 'eve', external: true }).id;
    const gone = sandbox.addUser({ name: 'dora', deactivated: true }).id;
    const { channel } = await client.conversations.create({ name: 'inc-1' });
    const id = channel!.id!;

    expect(await slackError(client.conversations.invite({ channel: id, users: guest }))).toBe(
      'user_is_restricted',
    );
    expect(await slackError(client.conversations.invite({ channel: id, users: external }))).toBe(
      'no_external_invite_permission',
    );
    expect(await slackError(client.conversations.invite({ channel: id, users: gone }))).toBe('cant_invite');
    // A single-channel guest in no channel yet: user_is_ultra_restricted; already in their one channel: ura_max_channels.
    expect(await slackError(client.conversations.invite({ channel: id, users: single }))).toBe(
      'user_is_ultra_restricted',
    );
    sandbox.addChannel({ name: 'guest-room', members: [single] });
    expect(await slackError(client.conversations.invite({ channel: id, users: single }))).toBe(
      'ura_max_channels',
    );
    expect(sandbox.channel(id)!.members).toEqual([sandbox.botUserId]);

    // One refused user stops a bulk invite (none invited), except a deactivated one, which fails
    // "silently": the others are invited and the error is still returned.
    expect(await slackError(client.conversations.invite({ channel: id, users: `${alice},${guest}` }))).toBe(
      'user_is_restricted',
    );
    expect(sandbox.channel(id)!.members).not.toContain(alice);
    expect(await slackError(client.conversations.invite({ channel: id, users: `${alice},${gone}` }))).toBe(
      'cant_invite',
    );
    expect(sandbox.channel(id)!.members).toContain(alice);
  });

  it('is Tier 3: about 50 a minute', () => {
    expect(DEFAULT_RATE_LIMITS['conversations.invite']).toEqual({ perMinute: 50 });
  });
});

describe('channels that refuse', () => {
  it('answers is_archived on every method that changes or posts in an archived channel, and already_archived', async () => {
    sandbox = await startSandbox();
    const client = webClient(sandbox);
    const alice = sandbox.addUser({ name: 'alice' }).id;
    const { channel } = await client.conversations.create({ name: 'old-incident' });
    const id = channel!.id!;
    const { ts } = await client.chat.postMessage({ channel: id, text: 'hello' });
    await client.conversations.archive({ channel: id });
    expect(sandbox.channel(id)!.is_archived).toBe(true);
    const calls: Array<[string, Promise<unknown>]> = [
      ['chat.postMessage', client.chat.postMessage({ channel: id, text: 'x' })],
      ['chat.update', client.chat.update({ channel: id, ts: ts!, text: 'x' })],
      ['chat.postEphemeral', client.chat.postEphemeral({ channel: id, user: alice, text: 'x' })],
      ['conversations.invite', client.conversations.invite({ channel: id, users: alice })],
      ['conversations.setTopic', client.conversations.setTopic({ channel: id, topic: 'x' })],
      ['conversations.setPurpose', client.conversations.setPurpose({ channel: id, purpose: 'x' })],
      ['pins.add', client.pins.add({ channel: id, timestamp: ts! })],
    ];
    for (const [method, call] of calls)
      expect([method, await slackError(call)]).toEqual([method, 'is_archived']);
    expect(await slackError(client.conversations.archive({ channel: id }))).toBe('already_archived');
    // Reading an archived channel still works.
    expect((await client.conversations.history({ channel: id })).ok).toBe(true);
  });

  it('hides private channels the bot is not in (channel_not_found) and needs membership to post in them', async () => {
    sandbox = await startSandbox({ scopes: 'all' });
    const client = webClient(sandbox);
    const alice = sandbox.addUser({ name: 'alice' }).id;
    const secret = sandbox.addChannel({ name: 'secret', members: [alice], isPrivate: true }).id;
    expect(await slackError(client.chat.postMessage({ channel: secret, text: 'x' }))).toBe(
      'channel_not_found',
    );
    expect(await slackError(client.conversations.info({ channel: secret }))).toBe('channel_not_found');
    expect(await slackError(client.conversations.history({ channel: secret }))).toBe('channel_not_found');
    expect(await slackError(client.conversations.invite({ channel: secret, users: alice }))).toBe(
      'channel_not_found',
    );
  });

  it('posts to a public channel the bot has not joined only with chat:write.public', async () => {
    const alice = 'U0ALICE0001';
    const withScope = await startSandbox({ scopes: ['chat:write', 'chat:write.public'] });
    const without = await startSandbox({ scopes: ['chat:write'] });
    try {
      for (const s of [withScope, without]) s.addUser({ id: alice, name: 'alice' });
      const a = withScope.addChannel({ name: 'announce', members: [alice] }).id;
      const b = without.addChannel({ name: 'announce', members: [alice] }).id;
      expect((await webClient(withScope).chat.postMessage({ channel: a, text: 'x' })).ok).toBe(true);
      expect(await slackError(webClient(without).chat.postMessage({ channel: b, text: 'x' }))).toBe(
        'not_in_channel',
      );
    } finally {
      await withScope.close();
      await without.close();
    }
  });

  it('answers restricted_action to conversations.create when the workspace limits who creates channels', async () => {
    sandbox = await startSandbox();
    sandbox.workspace.knobs.restrictChannelCreation = true;
    expect(await slackError(webClient(sandbox).conversations.create({ name: 'inc-2' }))).toBe(
      'restricted_action',
    );
    expect(sandbox.channels().filter((c) => c.name === 'inc-2')).toEqual([]);
  });
});

describe('scopes from manifest.yml', () => {
  it('grants exactly the manifest’s bot scopes and answers missing_scope with needed and provided', async () => {
    sandbox = await startSandbox();
    const granted = manifestBotScopes();
    expect(granted).toContain('chat:write');
    const res = await fetch(`${sandbox.apiUrl}reactions.add`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.botToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'C1', timestamp: '1.2', name: 'eyes' }),
    });
    expect(await res.json()).toEqual({
      ok: false,
      error: 'missing_scope',
      needed: 'reactions:write',
      provided: granted.join(','),
    });
  });

  it('breaks when a scope the bot needs is removed from the manifest, and reports granted scopes nothing used', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ib-manifest-'));
    const path = join(dir, 'manifest.yml');
    writeFileSync(path, readFileSync(MANIFEST_PATH, 'utf8').replace(/^\s+- pins:write\n/m, ''));
    const scopes = manifestBotScopes(path);
    expect(scopes).not.toContain('pins:write');
    sandbox = await startSandbox({ scopes });
    const client = webClient(sandbox);
    const { channel } = await client.conversations.create({ name: 'inc-3' });
    const { ts } = await client.chat.postMessage({ channel: channel!.id!, text: 'summary' });
    expect(await slackError(client.pins.add({ channel: channel!.id!, timestamp: ts! }))).toBe(
      'missing_scope',
    );
    // Only conversations.create and chat.postMessage ran: every other granted scope is unused so far.
    expect(sandbox.unusedScopes()).not.toContain('chat:write');
    expect(sandbox.unusedScopes()).not.toContain('channels:manage');
    expect(sandbox.unusedScopes()).toContain('users:read');
  });

  it('does not deliver slash commands or events the app has no scope for', async () => {
    sandbox = await startSandbox({ scopes: ['chat:write'] });
    const alice = sandbox.addUser({ name: 'alice' }).id;
    const general = sandbox.addChannel({ name: 'general', members: [alice] }).id;
    const client = new SlackClientSim({ appUrl: 'http://127.0.0.1:9/', signingSecret: 's', sandbox });
    await expect(client.slashCommand({ text: 'help', userId: alice, channelId: general })).rejects.toThrow(
      /lacks the scope/,
    );
  });
});

describe('Block Kit limits', () => {
  async function posted(blocks: unknown[]): Promise<string | undefined> {
    const client = webClient(sandbox);
    try {
      await client.chat.postMessage({
        channel: sandbox.channelByName('general')!.id,
        text: 't',
        blocks: blocks as never,
      });
      return undefined;
    } catch (err) {
      const data = (err as { data?: { error?: string; errors?: string[] } }).data;
      return `${data?.error}: ${(data?.errors ?? []).join('; ')}`;
    }
  }

  it('refuses button and option text over 75 characters, more than 10 checkbox options, a header over 150', async () => {
    sandbox = await startSandbox();
    sandbox.addChannel({ name: 'general', members: [sandbox.botUserId] });
    const max = BLOCK_LIMITS;
    expect(
      await posted([{ type: 'actions', elements: [button('b'.repeat(max.buttonText))] }]),
    ).toBeUndefined();
    expect(await posted([{ type: 'actions', elements: [button('b'.repeat(max.buttonText + 1))] }])).toMatch(
      /^invalid_blocks: must be less than 76 characters \[json-pointer:\/blocks\/0\/elements\/0\/text\/text\]/,
    );
    const boxes = (n: number, text = 'o') => ({
      type: 'section',
      text: { type: 'mrkdwn', text: 'tick' },
      accessory: {
        type: 'checkboxes',
        action_id: 'c',
        options: Array.from({ length: n }, (_, i) => option(text, `v${i}`)),
      },
    });
    expect(await posted([boxes(10)])).toBeUndefined();
    expect(await posted([boxes(11)])).toMatch(
      /no more than 10 items allowed \[json-pointer:\/blocks\/0\/accessory\/options\]/,
    );
    expect(await posted([boxes(1, 'o'.repeat(76))])).toMatch(/accessory\/options\/0\/text\/text/);
    const header = (n: number) => ({ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(n) } });
    expect(await posted([header(150)])).toBeUndefined();
    expect(await posted([header(151)])).toMatch(/must be less than 151 characters/);
  });

  it('answers msg_blocks_too_long for blocks too large in all', async () => {
    sandbox = await startSandbox();
    sandbox.addChannel({ name: 'general', members: [sandbox.botUserId] });
    const blocks = Array.from({ length: 14 }, () => section('x'.repeat(2990)));
    expect(JSON.stringify(blocks).length).toBeGreaterThan(BLOCK_LIMITS.blocksJson);
    expect(await posted(blocks)).toMatch(/^msg_blocks_too_long/);
  });

  it('refuses a modal title, submit or close over 24 characters', async () => {
    sandbox = await startSandbox();
    const alice = sandbox.addUser({ name: 'alice' }).id;
    const view = (title: string) => ({
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: title },
      blocks: [section('x')],
    });
    const client = webClient(sandbox);
    expect(
      (await client.views.open({ trigger_id: sandbox.issueTrigger(alice), view: view('t'.repeat(24)) })).ok,
    ).toBe(true);
    expect(
      await slackError(
        client.views.open({ trigger_id: sandbox.issueTrigger(alice), view: view('t'.repeat(25)) }),
      ),
    ).toBe('invalid_arguments');
  });
});

describe('chat.update and users.info as Slack answers them', () => {
  it('removes the blocks on a text-only update and refuses text over 4,000 characters', async () => {
    sandbox = await startSandbox();
    const client = webClient(sandbox);
    const { channel } = await client.conversations.create({ name: 'inc-4' });
    const id = channel!.id!;
    const { ts } = await client.chat.postMessage({
      channel: id,
      text: 'fallback',
      blocks: [section('rich')],
    });
    await client.chat.update({ channel: id, ts: ts!, text: 'plain now' });
    const m = sandbox.message(id, ts!)!;
    expect(m.text).toBe('plain now');
    expect(m.blocks).toBeUndefined();
    expect(await slackError(client.chat.update({ channel: id, ts: ts!, text: 'x'.repeat(4001) }))).toBe(
      'msg_too_long',
    );
    expect((await client.chat.update({ channel: id, ts: ts!, text: 'x'.repeat(4000) })).ok).toBe(true);
  });

  it('answers users.info with an empty display_name in a hostile workspace', async () => {
    sandbox = await startSandbox({ hostile: true });
    const alice = sandbox.addUser({ name: 'alice', realName: 'Alice Liddell' }).id;
    const { user } = await webClient(sandbox).users.info({ user: alice });
    expect(user?.profile?.display_name).toBe('');
    expect(user?.real_name).toBe('Alice Liddell');
  });
});
