import { ErrorCode, type WebAPIRateLimitedError, WebClientEvent } from '@slack/web-api';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { channelNameError, type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { slackError, webClient } from './web-client.js';

let sandbox: Sandbox;
let alice: string;
let bob: string;

beforeEach(async () => {
  sandbox = await startSandbox({ scopes: 'all' });
  alice = sandbox.addUser({ name: 'alice', realName: 'Alice Liddell' }).id;
  bob = sandbox.addUser({ name: 'bob' }).id;
});

afterEach(async () => {
  await sandbox.close();
});

function section(text: string) {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

describe('authentication and dispatch', () => {
  it('answers auth.test with the bot identity for the bot token', async () => {
    const res = await webClient(sandbox).auth.test();
    expect(res).toMatchObject({
      ok: true,
      user_id: sandbox.botUserId,
      bot_id: sandbox.botId,
      team_id: sandbox.teamId,
    });
  });

  it('rejects a wrong token with invalid_auth and a missing one with not_authed', async () => {
    expect(await slackError(webClient(sandbox, { token: 'xoxb-wrong' }).auth.test())).toBe('invalid_auth');
    const res = await fetch(`${sandbox.apiUrl}auth.test`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: false, error: 'not_authed' });
  });

  it('accepts the token as a form field and JSON bodies with a bearer header', async () => {
    const form = await fetch(`${sandbox.apiUrl}auth.test`, {
      method: 'POST',
      body: new URLSearchParams({ token: sandbox.botToken }),
    });
    expect(await form.json()).toMatchObject({ ok: true });
    const c = sandbox.addChannel({ name: 'json-body', members: [sandbox.botUserId] });
    const json = await fetch(`${sandbox.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${sandbox.botToken}`,
        'content-type': 'application/json; charset=utf-8',
      },
      body: JSON.stringify({ channel: c.id, blocks: [section('from json')] }),
    });
    expect(await json.json()).toMatchObject({ ok: true, channel: c.id });
    expect(sandbox.messages(c.id)[0]?.blocks).toEqual([section('from json')]);
  });

  it('answers an unknown method with unknown_method', async () => {
    expect(await slackError(webClient(sandbox).apiCall('chat.teleport', {}))).toBe('unknown_method');
  });
});

describe('channels', () => {
  it('creates a channel with a C… id, the bot as its member, and refuses the same name with name_taken', async () => {
    const client = webClient(sandbox);
    const res = await client.conversations.create({ name: 'inc-0042-lb-pool' });
    expect(res.channel).toMatchObject({ name: 'inc-0042-lb-pool', is_channel: true, is_member: true });
    expect(res.channel?.id).toMatch(/^C[0-9A-Z]{10}$/);
    expect(sandbox.channel(res.channel!.id!)?.members).toEqual([sandbox.botUserId]);
    expect(await slackError(client.conversations.create({ name: 'inc-0042-lb-pool' }))).toBe('name_taken');
  });

  it('applies the channel naming rules of conversations.create', async () => {
    const client = webClient(sandbox);
    expect(await slackError(client.conversations.create({ name: 'Incident 42' }))).toBe(
      'invalid_name_specials',
    );
    expect(await slackError(client.conversations.create({ name: 'a'.repeat(81) }))).toBe(
      'invalid_name_maxlength',
    );
    expect(await slackError(client.conversations.create({ name: '' }))).toBe('invalid_name_required');
    expect((await client.conversations.create({ name: 'a'.repeat(80) })).ok).toBe(true);
  });

  it('accepts exactly the names of at most 80 lowercase letters, digits, - and _', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (name) => {
        const valid =
          name.length > 0 && name.length <= 80 && /^[a-z0-9_-]+$/.test(name) && /[a-z0-9]/.test(name);
        expect(channelNameError(name) === undefined).toBe(valid);
      }),
    );
  });

  it('invites users, and reports already_in_channel, user_not_found, channel_not_found and not_in_channel', async () => {
    const client = webClient(sandbox);
    const id = (await client.conversations.create({ name: 'inc-invites' })).channel!.id!;
    await client.conversations.invite({ channel: id, users: `${alice},${bob}` });
    expect(sandbox.channel(id)?.members).toEqual([sandbox.botUserId, alice, bob]);
    expect(await slackError(client.conversations.invite({ channel: id, users: alice }))).toBe(
      'already_in_channel',
    );
    expect(await slackError(client.conversations.invite({ channel: id, users: 'U0NOBODY00' }))).toBe(
      'user_not_found',
    );
    expect(await slackError(client.conversations.invite({ channel: 'C0MISSING0', users: alice }))).toBe(
      'channel_not_found',
    );
    const notMine = sandbox.addChannel({ name: 'random', members: [alice] });
    expect(await slackError(client.conversations.invite({ channel: notMine.id, users: bob }))).toBe(
      'not_in_channel',
    );
  });

  it('joins, describes, lists members, sets topic and purpose, and finds channels by listing', async () => {
    const client = webClient(sandbox);
    const general = sandbox.addChannel({ name: 'general', members: [alice] });
    await client.conversations.join({ channel: general.id });
    const again = await client.conversations.join({ channel: general.id });
    expect(again.warning).toBe('already_in_channel');
    await client.conversations.setTopic({ channel: general.id, topic: 'SEV1: checkout 502s' });
    await client.conversations.setPurpose({ channel: general.id, purpose: 'Incident room' });
    const info = await client.conversations.info({ channel: general.id, include_num_members: true });
    expect(info.channel).toMatchObject({
      topic: { value: 'SEV1: checkout 502s' },
      purpose: { value: 'Incident room' },
    });
    expect(info.channel?.num_members).toBe(2);
    expect((await client.conversations.members({ channel: general.id })).members).toEqual([
      alice,
      sandbox.botUserId,
    ]);
    expect(
      await slackError(client.conversations.setTopic({ channel: general.id, topic: 'x'.repeat(251) })),
    ).toBe('too_long');
    const list = await client.conversations.list({ limit: 1000, types: 'public_channel' });
    expect(list.channels?.map((c) => c.name)).toContain('general');
  });
});

describe('messages', () => {
  let channel: string;
  beforeEach(() => {
    channel = sandbox.addChannel({ name: 'inc-messages', members: [sandbox.botUserId, alice] }).id;
  });

  it('posts, updates and pins a message, keeping its edit history', async () => {
    const client = webClient(sandbox);
    const posted = await client.chat.postMessage({
      channel,
      text: 'Investigating',
      blocks: [section('*Investigating*')],
    });
    expect(posted).toMatchObject({
      ok: true,
      channel,
      message: { text: 'Investigating', bot_id: sandbox.botId },
    });
    const ts = posted.ts!;
    await client.chat.update({ channel, ts, text: 'Mitigated', blocks: [section('*Mitigated*')] });
    await client.pins.add({ channel, timestamp: ts });
    const stored = sandbox.message(channel, ts)!;
    expect(stored).toMatchObject({
      text: 'Mitigated',
      blocks: [section('*Mitigated*')],
      edited: { user: sandbox.botUserId },
    });
    expect(stored.history.map((h) => h.text)).toEqual(['Investigating']);
    expect(sandbox.pins(channel).map((p) => p.ts)).toEqual([ts]);
    expect(await slackError(client.pins.add({ channel, timestamp: ts }))).toBe('already_pinned');
    expect(await slackError(client.pins.add({ channel, timestamp: '1.000001' }))).toBe('message_not_found');
    const pins = await client.pins.list({ channel });
    expect(pins.items?.[0]?.message).toMatchObject({ ts, text: 'Mitigated', pinned_to: [channel] });
  });

  it('refuses to update a missing message or somebody else’s', async () => {
    const client = webClient(sandbox);
    const human = sandbox.postAsUser({ channel, user: alice, text: 'db looks fine' });
    expect(await slackError(client.chat.update({ channel, ts: '1.000001', text: 'x' }))).toBe(
      'message_not_found',
    );
    expect(await slackError(client.chat.update({ channel, ts: human.ts, text: 'x' }))).toBe(
      'cant_update_message',
    );
  });

  it('gives every message in a channel its own increasing ts', async () => {
    const client = webClient(sandbox);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.chat.postMessage({ channel, text: `line ${i}` })),
    );
    const tss = results.map((r) => r.ts!);
    expect(new Set(tss).size).toBe(8);
    expect(sandbox.messages(channel).map((m) => m.ts)).toEqual([...tss].sort());
  });

  it('reports channel_not_found, no_text and msg_too_long, and posts to a public channel it has not joined', async () => {
    const client = webClient(sandbox);
    const outside = sandbox.addChannel({ name: 'outside', members: [alice] }).id;
    expect(await slackError(client.chat.postMessage({ channel: 'C0MISSING0', text: 'x' }))).toBe(
      'channel_not_found',
    );
    // With chat:write.public (this sandbox grants every scope) a public channel needs no joining;
    // test/sandbox/hostile.test.ts shows not_in_channel without it.
    expect((await client.chat.postMessage({ channel: outside, text: 'x' })).ok).toBe(true);
    expect(await slackError(client.chat.postMessage({ channel, text: '' }))).toBe('no_text');
    expect(await slackError(client.chat.postMessage({ channel, text: 'x'.repeat(40_001) }))).toBe(
      'msg_too_long',
    );
    expect((await client.chat.postMessage({ channel, text: 'x'.repeat(40_000) })).ok).toBe(true);
  });

  it('enforces Block Kit limits: 50 blocks, 3000 characters of section text, known block types', async () => {
    const client = webClient(sandbox);
    // 50 blocks of 3000 characters each are too large in all (msg_blocks_too_long: test/sandbox/hostile.test.ts).
    const fifty = Array.from({ length: 50 }, (_, i) => section(`${'y'.repeat(i === 0 ? 3000 : 500)}`));
    expect((await client.chat.postMessage({ channel, text: 'ok', blocks: fifty })).ok).toBe(true);
    expect(
      await slackError(
        client.chat.postMessage({ channel, text: 'x', blocks: [...fifty, section('one more')] }),
      ),
    ).toBe('invalid_blocks');
    expect(
      await slackError(client.chat.postMessage({ channel, text: 'x', blocks: [section('y'.repeat(3001))] })),
    ).toBe('invalid_blocks');
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed block.
    const bogus: any = [{ type: 'carousel' }];
    expect(await slackError(client.chat.postMessage({ channel, text: 'x', blocks: bogus }))).toBe(
      'invalid_blocks',
    );
    const rejected = sandbox.transcriptFor('chat.postMessage').at(-1)!;
    expect(rejected.response.errors).toEqual([
      'must provide a valid block type [json-pointer:/blocks/0/type]',
    ]);
  });

  it('answers a blocks field that is not JSON with invalid_blocks_format', async () => {
    const res = await fetch(`${sandbox.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.botToken}` },
      body: new URLSearchParams({ channel, blocks: '[{"type":' }),
    });
    expect(await res.json()).toEqual({ ok: false, error: 'invalid_blocks_format' });
  });

  it('shows ephemeral messages to one channel member only', async () => {
    const client = webClient(sandbox);
    const res = await client.chat.postEphemeral({ channel, user: alice, text: 'Only you can see this' });
    expect(res.message_ts).toBeTruthy();
    expect(sandbox.ephemeral(channel)).toMatchObject([{ user: alice, text: 'Only you can see this' }]);
    expect(sandbox.messages(channel)).toEqual([]);
    expect(await slackError(client.chat.postEphemeral({ channel, user: bob, text: 'x' }))).toBe(
      'user_not_in_channel',
    );
  });

  it('reads one message back from history with latest = oldest and inclusive, and threads from replies', async () => {
    const client = webClient(sandbox);
    const a = await client.chat.postMessage({ channel, text: 'first' });
    const b = await client.chat.postMessage({ channel, text: 'second' });
    await client.chat.postMessage({ channel, text: 'in thread', thread_ts: a.ts });
    const one = await client.conversations.history({
      channel,
      latest: b.ts,
      oldest: b.ts,
      inclusive: true,
      limit: 1,
    });
    expect(one.messages?.map((m) => m.text)).toEqual(['second']);
    const exclusive = await client.conversations.history({ channel, latest: b.ts, oldest: b.ts });
    expect(exclusive.messages).toEqual([]);
    const all = await client.conversations.history({ channel });
    expect(all.messages?.filter((m) => !m.subtype).map((m) => m.text)).toEqual(['second', 'first']);
    expect(all.messages?.find((m) => m.ts === a.ts)?.reply_count).toBe(1);
    const page = await client.conversations.history({ channel, limit: 1 });
    expect(page.has_more).toBe(true);
    const next = await client.conversations.history({
      channel,
      limit: 1,
      cursor: page.response_metadata!.next_cursor,
    });
    expect(next.messages?.[0]?.text).toBe('first');
    const thread = await client.conversations.replies({ channel, ts: a.ts! });
    expect(thread.messages?.map((m) => m.text)).toEqual(['first', 'in thread']);
  });

  it('lets the bot read history only in channels it is a member of', async () => {
    const client = webClient(sandbox);
    const outside = sandbox.addChannel({ name: 'outside', members: [alice] }).id;
    const secret = sandbox.addChannel({ name: 'secret', members: [alice], isPrivate: true }).id;
    expect(await slackError(client.conversations.history({ channel: outside }))).toBe('not_in_channel');
    expect(await slackError(client.conversations.history({ channel: secret }))).toBe('channel_not_found');
  });

  it('links to a message and records a reaction on it', async () => {
    const client = webClient(sandbox);
    const { ts } = await client.chat.postMessage({ channel, text: 'link me' });
    const link = await client.chat.getPermalink({ channel, message_ts: ts! });
    expect(link.permalink).toBe(`${sandbox.url}/archives/${channel}/p${ts!.replace('.', '')}`);
    await client.reactions.add({ channel, timestamp: ts!, name: 'eyes' });
    expect(sandbox.message(channel, ts!)?.reactions).toEqual([
      { name: 'eyes', users: [sandbox.botUserId], count: 1 },
    ]);
    expect(await slackError(client.reactions.add({ channel, timestamp: ts!, name: 'eyes' }))).toBe(
      'already_reacted',
    );
  });

  it('describes users one by one and as a list', async () => {
    const client = webClient(sandbox);
    expect((await client.users.info({ user: alice })).user).toMatchObject({
      id: alice,
      name: 'alice',
      real_name: 'Alice Liddell',
    });
    expect(await slackError(client.users.info({ user: 'U0NOBODY00' }))).toBe('user_not_found');
    const list = await client.users.list({});
    expect(list.members?.map((m) => m.name)).toEqual(['incident-bot', 'alice', 'bob']);
  });
});

describe('files', () => {
  it('takes a files.uploadV2 through getUploadURLExternal, the upload URL and completeUploadExternal', async () => {
    const channel = sandbox.addChannel({ name: 'inc-files', members: [sandbox.botUserId] }).id;
    const content = '# Postmortem INC-0042\n\nThe load balancer sent all traffic to an empty pool.\n';
    await webClient(sandbox).filesUploadV2({
      channel_id: channel,
      filename: 'INC-0042-postmortem.md',
      title: 'INC-0042 postmortem draft',
      content,
      initial_comment: 'Draft postmortem attached',
    });
    expect(sandbox.transcript.map((e) => `${e.method} ${e.status}`)).toEqual([
      'files.getUploadURLExternal 200',
      'upload_url 200',
      'files.completeUploadExternal 200',
    ]);
    expect(sandbox.files(channel)).toMatchObject([
      {
        name: 'INC-0042-postmortem.md',
        title: 'INC-0042 postmortem draft',
        content,
        size: Buffer.byteLength(content),
      },
    ]);
    const [msg] = sandbox.messages(channel);
    expect(msg?.text).toBe('Draft postmortem attached');
    expect(msg?.files?.[0]?.name).toBe('INC-0042-postmortem.md');
  });

  it('refuses to complete an upload whose bytes never arrived', async () => {
    const client = webClient(sandbox);
    const { file_id } = await client.files.getUploadURLExternal({ filename: 'a.txt', length: 3 });
    expect(await slackError(client.files.completeUploadExternal({ files: [{ id: file_id! }] }))).toBe(
      'file_not_found',
    );
  });
});

describe('rate limits and faults', () => {
  it('answers 429 with Retry-After once a method exceeds its limit, and WebClient waits and retries', async () => {
    await sandbox.close();
    sandbox = await startSandbox({ rateLimits: { 'conversations.create': { perMinute: 60, burst: 1 } } });
    const client = webClient(sandbox, { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 50 } });
    await client.conversations.create({ name: 'inc-first' });
    const rateLimited: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));
    await client.conversations.create({ name: 'inc-second' });
    expect(rateLimited).toEqual([1]);
    expect(sandbox.transcriptFor('conversations.create').map((e) => [e.status, e.error ?? 'ok'])).toEqual([
      [200, 'ok'],
      [429, 'ratelimited'],
      [200, 'ok'],
    ]);
    expect(sandbox.channelByName('inc-second')).toBeDefined();
  });

  it('limits chat.postMessage per channel, so a busy channel does not slow another', async () => {
    await sandbox.close();
    sandbox = await startSandbox({ rateLimits: { 'chat.postMessage': { perMinute: 60, burst: 2 } } });
    const one = sandbox.addChannel({ name: 'one', members: [sandbox.botUserId] }).id;
    const two = sandbox.addChannel({ name: 'two', members: [sandbox.botUserId] }).id;
    const client = webClient(sandbox, { rejectRateLimitedCalls: true });
    await client.chat.postMessage({ channel: one, text: '1' });
    await client.chat.postMessage({ channel: one, text: '2' });
    const err = (await client.chat
      .postMessage({ channel: one, text: '3' })
      .catch((e) => e)) as WebAPIRateLimitedError;
    expect(err.code).toBe(ErrorCode.RateLimitedError);
    expect(err.retryAfter).toBe(1);
    expect((await client.chat.postMessage({ channel: two, text: '1' })).ok).toBe(true);
  });

  it('fails the next call with a scripted 500, which WebClient retries', async () => {
    const client = webClient(sandbox, { retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 50 } });
    sandbox.failNext('auth.test', { status: 500 });
    expect((await client.auth.test()).ok).toBe(true);
    expect(sandbox.transcriptFor('auth.test').map((e) => e.status)).toEqual([500, 200]);
  });

  it('fails the next calls with a scripted Slack error, count times', async () => {
    const client = webClient(sandbox);
    sandbox.failNext('auth.test', { error: 'account_inactive', count: 2 });
    expect(await slackError(client.auth.test())).toBe('account_inactive');
    expect(await slackError(client.auth.test())).toBe('account_inactive');
    expect((await client.auth.test()).ok).toBe(true);
  });

  it('scripts a 429 with the given Retry-After', async () => {
    sandbox.failNext('auth.test', { status: 429, retryAfter: 7 });
    const res = await fetch(`${sandbox.apiUrl}auth.test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.botToken}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(await res.json()).toEqual({ ok: false, error: 'ratelimited' });
  });
});

describe('transcript and waiting', () => {
  it('records each call in order with its parsed args, status and error, and never the token', async () => {
    const client = webClient(sandbox);
    const channel = sandbox.addChannel({ name: 'inc-transcript', members: [sandbox.botUserId] }).id;
    await client.chat.postMessage({ channel, text: 'hello', blocks: [section('hello')] });
    await slackError(client.chat.postMessage({ channel: 'C0MISSING0', text: 'x' }));
    const [ok, failed] = sandbox.transcript;
    expect(ok).toMatchObject({ seq: 1, method: 'chat.postMessage', ok: true, status: 200 });
    expect(ok?.args).toMatchObject({ channel, text: 'hello', blocks: JSON.stringify([section('hello')]) });
    expect(ok?.args).not.toHaveProperty('token');
    expect(new Date(ok!.at).toISOString()).toBe(ok?.at);
    expect(failed).toMatchObject({ seq: 2, ok: false, error: 'channel_not_found', status: 200 });
  });

  it('waits for a call that has not happened yet, and for a message', async () => {
    const channel = sandbox.addChannel({ name: 'inc-wait', members: [sandbox.botUserId] }).id;
    const after = sandbox.seq;
    const call = sandbox.waitFor((e) => e.method === 'chat.postMessage' && e.ok, { after });
    const message = sandbox.waitForMessage((m) => m.text === 'later', { channel });
    void webClient(sandbox).chat.postMessage({ channel, text: 'later' });
    expect((await call).args.text).toBe('later');
    expect((await message).channel).toBe(channel);
  });

  it('rejects a wait that times out, naming the last calls', async () => {
    await webClient(sandbox).auth.test();
    await expect(sandbox.waitFor((e) => e.method === 'pins.add', { timeoutMs: 20 })).rejects.toThrow(
      /no transcript entry matched within 20 ms; last calls:\n {2}#1 auth\.test 200 ok/,
    );
  });

  it('renders a channel as a readable transcript with authors, blocks, pins and files', async () => {
    let now = Date.parse('2024-05-01T10:15:30Z');
    await sandbox.close();
    sandbox = await startSandbox({ now: () => now });
    const alice2 = sandbox.addUser({ name: 'alice' }).id;
    const channel = sandbox.addChannel({ name: 'inc-render', members: [sandbox.botUserId, alice2] }).id;
    const client = webClient(sandbox);
    const { ts } = await client.chat.postMessage({
      channel,
      text: 'fallback',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'INC-0042' } },
        section('Status: *investigating*'),
      ],
    });
    now += 61_000;
    sandbox.postAsUser({ channel, user: alice2, text: 'pool web-b has 0 healthy backends' });
    await client.pins.add({ channel, timestamp: ts! });
    expect(sandbox.renderChannel(channel)).toBe(
      [
        `#inc-render (${channel})`,
        '10:15:30 · incident-bot has joined the channel',
        '10:15:30 · alice has joined the channel',
        '10:15:30 incident-bot [bot]: # INC-0042',
        '                             Status: *investigating*',
        '  [pinned by incident-bot]',
        '10:16:31 alice: pool web-b has 0 healthy backends',
      ].join('\n'),
    );
  });
});

describe('response_url and trigger_id', () => {
  it('records respond() as an ephemeral message for the user and allows 5 uses', async () => {
    const channel = sandbox.addChannel({ name: 'inc-respond', members: [alice] }).id;
    const { url } = sandbox.responseUrl({ channel, user: alice });
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (let i = 1; i <= 5; i++) expect((await post({ text: `reply ${i}` })).status).toBe(200);
    const sixth = await post({ text: 'reply 6' });
    expect(sixth.status).toBe(404);
    expect(await sixth.json()).toEqual({ ok: false, error: 'used_url' });
    expect(sandbox.ephemeral(channel).map((e) => [e.user, e.text, e.source])).toEqual(
      [1, 2, 3, 4, 5].map((i) => [alice, `reply ${i}`, 'response_url']),
    );
  });

  it('posts in_channel responses, replaces and deletes the original message', async () => {
    const channel = sandbox.addChannel({ name: 'inc-respond2', members: [sandbox.botUserId, alice] }).id;
    const { ts } = await webClient(sandbox).chat.postMessage({ channel, text: 'Acknowledge?' });
    const { url } = sandbox.responseUrl({ channel, user: alice, messageTs: ts! });
    const post = (body: unknown) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await post({ response_type: 'in_channel', text: 'Alice is on it' });
    await post({ replace_original: true, text: 'Acknowledged by alice' });
    expect(sandbox.messages(channel).map((m) => m.text)).toEqual(['Acknowledged by alice', 'Alice is on it']);
    await post({ delete_original: true });
    expect(sandbox.messages(channel).map((m) => m.text)).toEqual(['Alice is on it']);
    expect(sandbox.transcriptFor('response_url')).toHaveLength(3);
  });

  it('expires a response_url after 30 minutes', async () => {
    let now = Date.now();
    await sandbox.close();
    sandbox = await startSandbox({ now: () => now });
    const user = sandbox.addUser({ name: 'alice' }).id;
    const channel = sandbox.addChannel({ name: 'inc-expiry', members: [user] }).id;
    const { url } = sandbox.responseUrl({ channel, user });
    now += 30 * 60_000 + 1;
    const res = await fetch(url, { method: 'POST', body: JSON.stringify({ text: 'late' }) });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ ok: false, error: 'expired_url' });
  });

  it('publishes one home tab per user, replacing it on republish', async () => {
    const client = webClient(sandbox);
    const home = { type: 'home' as const, blocks: [section('No open incidents')] };
    const first = await client.views.publish({ user_id: alice, view: home });
    const second = await client.views.publish({
      user_id: alice,
      view: { ...home, blocks: [section('INC-1 open')] },
    });
    expect(second.view?.id).toBe(first.view?.id);
    expect(sandbox.views()).toMatchObject([{ type: 'home', user: alice, blocks: [section('INC-1 open')] }]);
    expect(await slackError(client.views.publish({ user_id: 'U0NOBODY00', view: home }))).toBe(
      'user_not_found',
    );
  });

  it('refuses an empty response with no_text and leaves the use uncounted', async () => {
    const channel = sandbox.addChannel({ name: 'inc-empty', members: [alice] }).id;
    const rec = sandbox.responseUrl({ channel, user: alice });
    const res = await fetch(rec.url, { method: 'POST', body: JSON.stringify({ text: '' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ ok: false, error: 'no_text' });
    expect(rec.uses).toBe(0);
  });

  it('opens one modal per trigger_id within 3 seconds', async () => {
    let now = Date.now();
    await sandbox.close();
    sandbox = await startSandbox({ now: () => now });
    const user = sandbox.addUser({ name: 'alice' }).id;
    const client = webClient(sandbox);
    const view = {
      type: 'modal' as const,
      callback_id: 'declare',
      private_metadata: 'C123',
      title: { type: 'plain_text' as const, text: 'Declare incident' },
      blocks: [section('What is broken?')],
    };
    const trigger = sandbox.issueTrigger(user);
    const opened = await client.views.open({ trigger_id: trigger, view });
    expect(opened.view).toMatchObject({ callback_id: 'declare', private_metadata: 'C123', type: 'modal' });
    expect(await slackError(client.views.open({ trigger_id: trigger, view }))).toBe('exchanged_trigger_id');
    const late = sandbox.issueTrigger(user);
    now += 3001;
    expect(await slackError(client.views.open({ trigger_id: late, view }))).toBe('expired_trigger_id');
    expect(await slackError(client.views.open({ trigger_id: 'made-up', view }))).toBe('invalid_trigger_id');
    const updated = await client.views.update({
      view_id: opened.view!.id!,
      view: { ...view, private_metadata: 'C456' },
    });
    expect(updated.view?.private_metadata).toBe('C456');
    expect(await slackError(client.views.update({ view_id: opened.view!.id!, hash: 'stale', view }))).toBe(
      'hash_conflict',
    );
  });

  it('does with a view_submission answer what a Slack client does: errors keep, update replaces, none closes', async () => {
    const user = sandbox.addUser({ name: 'carol' }).id;
    const client = webClient(sandbox);
    const view = {
      type: 'modal' as const,
      callback_id: 'declare',
      title: { type: 'plain_text' as const, text: 'Declare incident' },
      blocks: [section('What is broken?')],
    };
    const id = (await client.views.open({ trigger_id: sandbox.issueTrigger(user), view })).view!.id!;
    const stored = () => sandbox.views().find((v) => v.id === id)!;
    sandbox.applyViewSubmissionAnswer(id, { response_action: 'errors', errors: { title: 'Give a title' } });
    expect(stored().closed).toBeUndefined();
    sandbox.applyViewSubmissionAnswer(id, {
      response_action: 'update',
      view: { ...view, blocks: [section('Working on it')] },
    });
    expect(JSON.stringify(stored().blocks)).toContain('Working on it');
    // Answered after Slack's 3 s: dropped, the form stays as it was.
    sandbox.applyViewSubmissionAnswer(id, '', true);
    expect(stored().closed).toBeUndefined();
    expect((await client.views.update({ view_id: id, view })).ok).toBe(true);
    // Acked with no response_action: the modal closes, and can no longer be updated.
    sandbox.applyViewSubmissionAnswer(id, '');
    expect(stored().closed).toBe(true);
    expect(await slackError(client.views.update({ view_id: id, view }))).toBe('not_found');
    // An invalid update view is refused as views.update would refuse it.
    const other = (await client.views.open({ trigger_id: sandbox.issueTrigger(user), view })).view!.id!;
    expect(() =>
      sandbox.applyViewSubmissionAnswer(other, {
        response_action: 'update',
        view: { type: 'modal', blocks: [] },
      }),
    ).toThrow(/invalid_arguments/);
  });
});
