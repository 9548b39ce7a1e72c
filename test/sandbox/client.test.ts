import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  App,
  type BlockAction,
  type ButtonAction,
  HTTPReceiver,
  type MessageShortcut,
  type SlashCommand,
  type ViewOutput,
} from '@slack/bolt';
import type { ReactionAddedEvent } from '@slack/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, SlackClientSim, sign, startSandbox } from '../../src/sandbox/index.js';
import { silentLogger, webClient } from './web-client.js';

// Slack's doc example (copied from shared/formats/slack, see test/fixtures/slack/README.md).
const FORMATS = join(import.meta.dirname, '../fixtures/slack');
const SECRET = 'sandbox-signing-secret';

describe('sign', () => {
  it('matches the signature in Slack’s “Verifying requests” example', () => {
    const vector = JSON.parse(readFileSync(`${FORMATS}/slack-doc-signing-vector.json`, 'utf8')) as {
      signing_secret: string;
      x_slack_request_timestamp: string;
      body_file: string;
      basestring: string;
      x_slack_signature: string;
    };
    const body = readFileSync(`${FORMATS}/${vector.body_file}`, 'utf8').replace(/\n$/, '');
    expect(`v0:${vector.x_slack_request_timestamp}:${body}`).toBe(vector.basestring);
    expect(sign(body, vector.x_slack_request_timestamp, vector.signing_secret)).toBe(
      vector.x_slack_signature,
    );
    expect(sign(`${body}&`, vector.x_slack_request_timestamp, vector.signing_secret)).not.toBe(
      vector.x_slack_signature,
    );
  });
});

/** A promise plus its resolver, so a test can wait for a Bolt handler to run. */
function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('SlackClientSim against a real Bolt app', () => {
  let sandbox: Sandbox;
  let receiver: HTTPReceiver;
  let client: SlackClientSim;
  let alice: string;
  let channel: string;
  const seen = {
    command: deferred<SlashCommand>(),
    shortcut: deferred<MessageShortcut>(),
    action: deferred<BlockAction<ButtonAction>>(),
    view: deferred<ViewOutput>(),
    reaction: deferred<{ event: ReactionAddedEvent; retryNum?: number }>(),
  };

  beforeAll(async () => {
    sandbox = await startSandbox();
    alice = sandbox.addUser({ name: 'alice' }).id;
    channel = sandbox.addChannel({ name: 'incidents', members: [sandbox.botUserId, alice] }).id;
    receiver = new HTTPReceiver({ signingSecret: SECRET, logger: silentLogger });
    const app = new App({
      receiver,
      token: sandbox.botToken,
      clientOptions: { slackApiUrl: sandbox.apiUrl },
      logger: silentLogger,
    });
    app.command('/incident', async ({ command, ack, respond, client: web }) => {
      await ack({ response_type: 'ephemeral', text: `Declaring: ${command.text}` });
      seen.command.resolve(command);
      await respond({ text: 'Channel is being set up' });
      await web.views.open({
        trigger_id: command.trigger_id,
        view: {
          type: 'modal',
          callback_id: 'declare',
          private_metadata: command.channel_id,
          title: { type: 'plain_text', text: 'Declare incident' },
          blocks: [
            {
              type: 'input',
              block_id: 'summary',
              label: { type: 'plain_text', text: 'Summary' },
              element: { type: 'plain_text_input', action_id: 'value' },
            },
          ],
        },
      });
    });
    app.shortcut<MessageShortcut>('add_to_timeline', async ({ shortcut, ack }) => {
      await ack();
      seen.shortcut.resolve(shortcut);
    });
    app.action<BlockAction<ButtonAction>>('acknowledge', async ({ body, ack, respond }) => {
      await ack();
      seen.action.resolve(body);
      await respond({ replace_original: true, text: `Acknowledged by <@${body.user.id}>` });
    });
    app.view('declare', async ({ view, ack }) => {
      await ack();
      seen.view.resolve(view);
    });
    app.event('reaction_added', async ({ event, context }) => {
      seen.reaction.resolve({ event, retryNum: context.retryNum });
    });
    const server = await receiver.start(0);
    const { port } = server.address() as AddressInfo;
    client = new SlackClientSim({
      appUrl: `http://127.0.0.1:${port}/slack/events`,
      signingSecret: SECRET,
      sandbox,
    });
  });

  afterAll(async () => {
    await receiver.stop();
    await sandbox.close();
  });

  it('sends a signed slash command and gets the ack body back; respond() and views.open land in the sandbox', async () => {
    const res = await client.slashCommand({ text: 'start checkout 502s', userId: alice, channelId: channel });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ response_type: 'ephemeral', text: 'Declaring: start checkout 502s' });
    const command = await seen.command.promise;
    expect(command).toMatchObject({
      command: '/incident',
      text: 'start checkout 502s',
      user_id: alice,
      user_name: 'alice',
      channel_id: channel,
      channel_name: 'incidents',
      team_id: sandbox.teamId,
      response_url: `${sandbox.url}/response/${res.responseUrlId}`,
      trigger_id: res.triggerId,
    });
    const reply = await sandbox.waitForEphemeral((e) => e.text === 'Channel is being set up');
    expect(reply).toMatchObject({ user: alice, channel, source: 'response_url' });
    const opened = await sandbox.waitFor((e) => e.method === 'views.open');
    expect(opened.ok).toBe(true);
  });

  it('is refused with 401 when the signature is forged or the timestamp is stale', async () => {
    const forged = await client.slashCommand(
      { text: 'start', userId: alice, channelId: channel },
      { signature: `v0=${'0'.repeat(64)}` },
    );
    expect(forged.status).toBe(401);
    const stale = await client.slashCommand(
      { text: 'start', userId: alice, channelId: channel },
      { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(stale.status).toBe(401);
  });

  it('runs a message shortcut on a real sandbox message', async () => {
    const msg = sandbox.postAsUser({ channel, user: alice, text: 'LB pool web-b has no healthy backends' });
    const res = await client.messageShortcut({
      callbackId: 'add_to_timeline',
      userId: alice,
      channelId: channel,
      messageTs: msg.ts,
    });
    expect(res.status).toBe(200);
    const shortcut = await seen.shortcut.promise;
    expect(shortcut).toMatchObject({
      type: 'message_action',
      callback_id: 'add_to_timeline',
      message_ts: msg.ts,
      message: { ts: msg.ts, user: alice, text: 'LB pool web-b has no healthy backends' },
      channel: { id: channel, name: 'incidents' },
      user: { id: alice },
    });
  });

  it('clicks a button on a bot message, and the app replaces the message through response_url', async () => {
    const { ts } = await webClient(sandbox).chat.postMessage({
      channel,
      text: 'Page: checkout 502s',
      blocks: [
        {
          type: 'actions',
          block_id: 'page',
          elements: [
            {
              type: 'button',
              action_id: 'acknowledge',
              value: 'INC-0042',
              text: { type: 'plain_text', text: 'Ack' },
            },
          ],
        },
      ],
    });
    const res = await client.blockAction({
      actionId: 'acknowledge',
      value: 'INC-0042',
      userId: alice,
      channelId: channel,
      messageTs: ts!,
    });
    expect(res.status).toBe(200);
    const body = await seen.action.promise;
    expect(body.actions[0]).toMatchObject({ action_id: 'acknowledge', block_id: 'page', value: 'INC-0042' });
    expect(body.container).toMatchObject({ type: 'message', message_ts: ts, channel_id: channel });
    const replaced = await sandbox.waitForMessage(
      (m) => m.ts === ts && m.text === `Acknowledged by <@${alice}>`,
    );
    expect(replaced.history.map((h) => h.text)).toEqual(['Page: checkout 502s']);
  });

  it('submits the modal the app opened, with its private_metadata and the given state', async () => {
    await seen.command.promise;
    await sandbox.waitFor((e) => e.method === 'views.open' && e.ok);
    const stateValues = { summary: { value: { type: 'plain_text_input', value: 'Checkout returns 502' } } };
    const res = await client.viewSubmission({ callbackId: 'declare', userId: alice, stateValues });
    expect(res.status).toBe(200);
    const view = await seen.view.promise;
    expect(view.private_metadata).toBe(channel);
    expect(view.state.values).toEqual(stateValues);
    expect(view.blocks).toHaveLength(1);
  });

  it('delivers a reaction_added event retry with its retry number, after storing the reaction', async () => {
    const msg = sandbox.postAsUser({ channel, user: alice, text: 'Rolled back the LB config' });
    const res = await client.reactionAdded(
      { userId: alice, channelId: channel, ts: msg.ts, reaction: 'pushpin' },
      { retryNum: 1, retryReason: 'http_timeout' },
    );
    expect(res.status).toBe(200);
    expect(res.eventId).toMatch(/^Ev/);
    const { event, retryNum } = await seen.reaction.promise;
    expect(event).toMatchObject({
      reaction: 'pushpin',
      user: alice,
      item: { type: 'message', channel, ts: msg.ts },
    });
    expect(retryNum).toBe(1);
    expect(sandbox.message(channel, msg.ts)?.reactions).toEqual([
      { name: 'pushpin', users: [alice], count: 1 },
    ]);
  });

  it('passes the url_verification challenge and the ssl_check', async () => {
    const verify = await client.urlVerification('3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P');
    expect(verify.status).toBe(200);
    expect(verify.body).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' });
    expect((await client.sslCheck()).status).toBe(200);
  });

  it('refuses to reference users or channels the sandbox does not have', async () => {
    await expect(client.slashCommand({ text: '', userId: 'U0NOBODY00', channelId: channel })).rejects.toThrow(
      /no user U0NOBODY00/,
    );
    await expect(client.slashCommand({ text: '', userId: alice, channelId: 'C0MISSING0' })).rejects.toThrow(
      /no channel C0MISSING0/,
    );
  });
});
