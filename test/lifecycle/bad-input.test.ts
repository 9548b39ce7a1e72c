import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBot } from '../../src/process.js';
import { SlackClientSim } from '../../src/sandbox/index.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';
import { startFormState } from '../support/start-form.js';

let h: Harness;
let general: string;
let incidentChannel: string;

beforeAll(async () => {
  h = await startHarness('bad-input');
  general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice, h.users.bob] }).id;
  await h.client.slashCommand({
    text: 'start sev3 Search is slow',
    userId: h.users.alice,
    channelId: general,
  });
  const created = await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok);
  incidentChannel = h.sandbox.channelByName(String(created.args.name))!.id;
  await settled(h, 'INC-1');
});
afterAll(async () => {
  await h?.close();
});

const entries = () => h.bot.rt.store.entries('INC-1');
const replyText = (res: { body: unknown }) => (res.body as { text?: string }).text ?? '';

describe('requests that are not from Slack', () => {
  it('rejects a forged signature with 401 and records nothing', async () => {
    const before = (await entries()).length;
    const res = await h.client.slashCommand(
      { text: 'note forged', userId: h.users.alice, channelId: incidentChannel },
      { signature: 'v0=0000000000000000000000000000000000000000000000000000000000000000' },
    );
    expect(res.status).toBe(401);
    expect((await entries()).length).toBe(before);
  });

  it('rejects a request signed with another secret with 401', async () => {
    const other = new SlackClientSim({
      appUrl: h.client.appUrl,
      signingSecret: 'not-the-secret-at-all',
      sandbox: h.sandbox,
    });
    const res = await other.slashCommand({
      text: 'note wrong secret',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(res.status).toBe(401);
  });

  it('rejects a timestamp more than 5 minutes old with 401 and records nothing', async () => {
    const before = (await entries()).length;
    const res = await h.client.slashCommand(
      { text: 'note replayed', userId: h.users.alice, channelId: incidentChannel },
      { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(res.status).toBe(401);
    expect((await entries()).length).toBe(before);
  });

  it('rejects a request with no signature headers at all', async () => {
    const res = await fetch(h.client.appUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'command=%2Fincident&text=help',
    });
    expect(res.status).toBe(401);
  });

  it('counts rejected requests in /metrics', async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${h.bot.port}/metrics`)).text();
    expect(metrics).toMatch(
      /incident_bot_rejected_requests_total\{endpoint="slack",reason="signature"\} [1-9]/,
    );
  });
});

describe('commands a person gets wrong', () => {
  it('answers an unknown subcommand privately with the list of commands', async () => {
    const res = await h.client.slashCommand({
      text: 'frobnicate now',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(res.body).toMatchObject({ response_type: 'ephemeral' });
    expect(replyText(res)).toContain('Unknown subcommand `frobnicate`');
    expect(replyText(res)).toContain('/incident status <investigating|identified|monitoring|resolved>');
  });

  it('answers missing or bad arguments with the usage', async () => {
    const noText = await h.client.slashCommand({
      text: 'note',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(replyText(noText)).toContain('Usage: `/incident note <text>`');
    const badStatus = await h.client.slashCommand({
      text: 'status fixed',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(replyText(badStatus)).toContain(
      'status must be investigating, identified, monitoring or resolved',
    );
    const badLead = await h.client.slashCommand({
      text: 'lead bob',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(replyText(badLead)).toContain('mention a person');
    const badSev = await h.client.slashCommand({
      text: 'sev 7',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(replyText(badSev)).toContain('Usage: `/incident sev <1|2|3|4>`');
  });

  it('tells a person who runs an incident command outside an incident channel where to run it', async () => {
    const before = (await entries()).length;
    const res = await h.client.slashCommand({
      text: 'note hello',
      userId: h.users.alice,
      channelId: general,
    });
    expect(res.body).toMatchObject({ response_type: 'ephemeral' });
    expect(replyText(res)).toContain('This channel is not an incident channel');
    expect(replyText(res)).toContain('/incident start');
    expect((await entries()).length).toBe(before);
  });

  it('records a retried slash command once and answers the retry with what was done', async () => {
    const before = (await entries()).length;
    const first = await h.client.slashCommand({
      text: 'note retried once',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    // Slack resends the same body (same trigger_id) with X-Slack-Retry-Num.
    const form = new URLSearchParams({
      token: 'x',
      team_id: 'T0SANDBOX',
      channel_id: incidentChannel,
      user_id: h.users.alice,
      command: '/incident',
      text: 'note retried once',
      trigger_id: first.triggerId,
      response_url: first.responseUrl,
    });
    await h.client.send(form.toString(), 'application/x-www-form-urlencoded', {
      retryNum: 1,
      retryReason: 'http_timeout',
    });
    const retry = await h.client.send(form.toString(), 'application/x-www-form-urlencoded', {
      retryNum: 2,
      retryReason: 'http_timeout',
    });
    expect(retry.status).toBe(200);
    // A redelivery means Slack did not take the first answer: the retry answers the same, true, text.
    expect(replyText(retry)).toBe(replyText(first));
    expect(replyText(first)).toMatch(/^Noted on INC-\d+'s timeline\.$/);
    const notes = (await entries()).filter((e) => e.kind === 'note' && e.text === 'retried once');
    expect(notes).toHaveLength(1);
    expect((await entries()).length).toBe(before + 1);
  });

  it('escapes user text so <!channel> and mentions in a note ping nobody', async () => {
    await h.client.slashCommand({
      text: 'note <!channel> look & see <@U999> <https://evil|click>',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    const msg = await h.sandbox.waitForMessage((m) => (m.text ?? '').includes('look &amp; see'), {
      channel: incidentChannel,
    });
    expect(msg.text).toContain('&lt;!channel&gt;');
    expect(msg.text).toContain('&lt;@U999&gt;');
    expect(msg.text).not.toContain('<!channel>');
  });

  it('records a message once however often it is pinned or shortcut', async () => {
    const said = h.sandbox.postAsUser({
      channel: incidentChannel,
      user: h.users.bob,
      text: 'restarted the db, no change',
    });
    await h.client.reactionAdded({
      userId: h.users.bob,
      channelId: incidentChannel,
      ts: said.ts,
      reaction: 'pushpin',
    });
    await h.client.reactionAdded({
      userId: h.users.alice,
      channelId: incidentChannel,
      ts: said.ts,
      reaction: 'pushpin',
    });
    await h.client.messageShortcut({
      callbackId: 'add_to_timeline',
      userId: h.users.alice,
      channelId: incidentChannel,
      messageTs: said.ts,
    });
    await eventually(async () => {
      const recorded = (await entries()).filter(
        (e) => e.kind === 'message_recorded' && e.messageTs === said.ts,
      );
      expect(recorded).toHaveLength(1);
      expect(recorded[0]).toMatchObject({ author: h.users.bob, text: 'restarted the db, no change' });
    });
  });

  it('opens the declare form for /incident start with no text, and declares from it', async () => {
    const res = await h.client.slashCommand({ text: 'start', userId: h.users.bob, channelId: general });
    expect(res.status).toBe(200);
    await h.sandbox.waitFor((e) => e.method === 'views.open' && e.ok);
    const view = h.sandbox.views().at(-1)!;
    const sub = await h.client.viewSubmission({
      viewId: view.id,
      callbackId: 'start_incident',
      userId: h.users.bob,
      stateValues: startFormState({ title: 'Payments failing', severity: 'SEV1', summary: 'card auths 502' }),
    });
    expect(sub.status).toBe(200);
    const loaded = await eventually(async () => {
      const l = await h.bot.rt.store.load('INC-2');
      expect(l).toBeDefined();
      return l!;
    });
    expect(loaded.incident).toMatchObject({
      title: 'Payments failing',
      severity: 'SEV1',
      summary: 'card auths 502',
      declaredBy: h.users.bob,
    });
  });

  it('refuses changes to a closed incident and says what to do instead', async () => {
    const closed = await h.client.slashCommand({
      text: 'close Rolled back',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(replyText(closed)).toContain('INC-1 closed');
    const again = await h.client.slashCommand({
      text: 'status monitoring',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(replyText(again)).toContain('INC-1 is closed');
    expect(replyText(again)).toContain('/incident start');
    const note = await h.client.slashCommand({
      text: 'note after close',
      userId: h.users.alice,
      channelId: incidentChannel,
    });
    expect(replyText(note)).toContain('INC-1 is closed');
    expect((await entries()).some((e) => e.kind === 'note' && e.text === 'after close')).toBe(false);
  });
});

describe('a datastore outage', () => {
  it('answers within Slack’s 3 seconds with an error reply instead of silence when Redis is down', async () => {
    const down = await startBot({
      env: {
        ...h.env,
        REDIS_URL: 'redis://127.0.0.1:1',
        // On a cluster run (npm run test:cluster) the nodes are what the bot connects to.
        ...(h.env.REDIS_CLUSTER_NODES ? { REDIS_CLUSTER_NODES: '127.0.0.1:1' } : {}),
        PORT: '0',
      },
      worker: false,
    });
    try {
      const client = new SlackClientSim({
        appUrl: `http://127.0.0.1:${down.port}/slack/events`,
        signingSecret: h.env.SLACK_SIGNING_SECRET!,
        sandbox: h.sandbox,
      });
      const t0 = Date.now();
      const res = await client.slashCommand({
        text: 'start sev1 Everything is down',
        userId: h.users.alice,
        channelId: general,
      });
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(res.status).toBe(200);
      expect(replyText(res)).toContain('datastore (Redis) is unreachable');
      const health = await fetch(`http://127.0.0.1:${down.port}/healthz`);
      expect(health.status).toBe(503);
    } finally {
      await down.close();
    }
  });
});
