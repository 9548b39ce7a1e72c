import * as crypto from 'node:crypto';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntryOf } from '../../src/core/timeline.js';
import { verifyWebhook } from '../../src/outbound/webhook.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';
import { freePort } from '../support/lab.js';

// Issue 14, items 5 and 6, through the real Bolt request path, real BullMQ workers and real HTTP
// receivers on loopback: one that answers, one that is down (nothing listens on its port) and one
// that never answers (its job chain hangs while the others go on).

const SECRET = 'outgoing-webhook-secret-0123456789';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback HTTP server; `answer` false leaves every request hanging until the server is closed. */
async function receiver(
  answer: boolean,
): Promise<{ url: string; got: Received[]; server: Server; sockets: Set<Socket> }> {
  const got: Received[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d;
    });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      if (answer) res.writeHead(204).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hooks/incident`, got, server, sockets };
}

/** The receiver's check exactly as README.md shows it (its `import` line turned into a lookup). */
function readmeCheck(): (secret: string, headers: IncomingMessage['headers'], rawBody: string) => boolean {
  const readme = readFileSync(join(import.meta.dirname, '../../README.md'), 'utf8');
  const code = /```js\n(import \{ createHmac[\s\S]*?)```/.exec(readme)?.[1];
  if (!code) throw new Error('README.md has no receiver check');
  const body = code.replace(/^import \{([^}]*)\} from 'node:crypto';/, 'const {$1} = crypto;');
  return new Function('crypto', `${body}\nreturn fromIncidentBot;`)(crypto);
}

let h: Harness;
let up: Awaited<ReturnType<typeof receiver>>;
let hanging: Awaited<ReturnType<typeof receiver>>;
let downUrl: string;

beforeAll(async () => {
  up = await receiver(true);
  hanging = await receiver(false);
  downUrl = `http://127.0.0.1:${await freePort()}/hooks/down`;
  h = await startHarness('outbound', {
    OUTGOING_WEBHOOK_URLS: `${up.url},${downUrl},${hanging.url}`,
    OUTGOING_WEBHOOK_SECRET: SECRET,
    OUTGOING_WEBHOOK_ATTEMPTS: '3',
    OUTGOING_WEBHOOK_BACKOFF_MS: '20',
    OUTGOING_WEBHOOK_TIMEOUT_MS: '120000',
    REMINDER_MINUTES: 'SEV1=15,SEV2=30,SEV3=60,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  });
});
afterAll(async () => {
  // Refuse new connections, then fail the hanging request, so the worker's job ends and it can shut down.
  hanging?.server.close();
  for (const s of hanging?.sockets ?? []) s.destroy();
  await h?.close();
  up?.server.close();
});

let channel: string;

describe('/incident update', () => {
  it('posts a structured update to the incident channel and the announce channel, records it, and counts it as a status update', async () => {
    const { alice } = h.users;
    const general = h.sandbox.addChannel({ name: 'general', members: [alice] }).id;
    await h.client.slashCommand({ text: 'start sev2 Checkout latency', userId: alice, channelId: general });
    await settled(h, 'INC-1');
    channel = (await h.bot.rt.store.current('INC-1'))!.channelId!;
    await h.client.slashCommand({ text: 'impact 30% of checkouts fail', userId: alice, channelId: channel });
    await h.client.slashCommand({ text: 'status identified', userId: alice, channelId: channel });
    const reply = await h.client.slashCommand({
      text: 'update Rolling back the LB weights; <!channel> errors dropping',
      userId: alice,
      channelId: channel,
    });
    expect(reply.body).toMatchObject({ text: expect.stringContaining('Status update on INC-1 recorded') });
    await settled(h, 'INC-1');

    const entries = await h.bot.rt.store.entries('INC-1');
    const upd = entries.find((e): e is EntryOf<'stakeholder_update'> => e.kind === 'stakeholder_update')!;
    expect(upd).toMatchObject({ status: 'identified', severity: 'SEV2', impact: '30% of checkouts fail' });
    expect(Date.parse(upd.nextUpdateDue!) - Date.parse(upd.at)).toBe(30 * 60_000);
    expect((await h.bot.rt.store.current('INC-1'))!.lastStatusUpdateAt).toBe(upd.at);

    for (const where of [channel, h.announceChannel]) {
      const msg = h.sandbox.messages(where).find((m) => m.text.includes('Status update on INC-1'));
      expect(msg, where).toBeDefined();
      expect(msg!.text).toContain('*Status:* Identified');
      expect(msg!.text).toContain('*Severity:* SEV2');
      expect(msg!.text).toContain('*Impact:* 30% of checkouts fail');
      expect(msg!.text).toMatch(/\*Next update:\* by \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
      expect(msg!.text).toContain('&lt;!channel&gt;');
    }
  });
});

describe('/incident update when the announce channel refuses it', () => {
  it('posts the update in the incident channel and says there what to fix, without holding up the channel', async () => {
    const announce = h.sandbox.channel(h.announceChannel)!;
    announce.is_archived = true;
    try {
      await h.client.slashCommand({
        text: 'update Weights rolled back on edge-2',
        userId: h.users.alice,
        channelId: channel,
      });
      await h.client.slashCommand({
        text: 'note watching the error rate',
        userId: h.users.alice,
        channelId: channel,
      });
      await settled(h, 'INC-1');
    } finally {
      announce.is_archived = false;
    }
    const texts = h.sandbox.messages(channel).map((m) => m.text);
    const i = texts.findIndex((t) => t.includes('Weights rolled back on edge-2'));
    expect(i).toBeGreaterThan(-1);
    expect(texts[i + 1]).toContain(
      `could not be posted to <#${h.announceChannel}> (Slack said \`is_archived\`)`,
    );
    expect(texts.some((t) => t.includes('watching the error rate'))).toBe(true);
    expect(h.sandbox.messages(h.announceChannel).some((m) => m.text.includes('edge-2'))).toBe(false);
  });
});

describe('outgoing webhooks', () => {
  it('deliver every event, signed and in order, to a receiver that answers while one that never answers holds it up not at all', async () => {
    const { alice, bob } = h.users;
    await h.client.slashCommand({ text: 'sev sev1', userId: alice, channelId: channel });
    await h.client.slashCommand({ text: `lead <@${bob}|bob>`, userId: alice, channelId: channel });
    await h.client.slashCommand({ text: 'status resolved', userId: alice, channelId: channel });
    await h.client.slashCommand({ text: 'close Weights reset', userId: bob, channelId: channel });

    const expected = [
      'incident.declared',
      'incident.status_changed',
      'incident.update_posted',
      'incident.update_posted',
      'incident.severity_changed',
      'incident.commander_changed',
      'incident.resolved',
      'incident.closed',
      'incident.postmortem_drafted',
    ];
    await eventually(() => expect(up.got.length).toBe(expected.length), 45_000);
    const events = up.got.map(
      (r) => JSON.parse(r.body) as { id: string; type: string; seq: number; incident: { status: string } },
    );
    expect(events.map((e) => e.type)).toEqual(expected);
    const seqs = events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.at(-2)?.incident.status).toBe('closed');

    const nowS = Math.floor(Date.now() / 1000);
    for (const r of up.got) {
      const ts = String(r.headers['x-incident-bot-timestamp']);
      // The receiver's own check, computed here independently of the bot's code.
      const want = `sha256=${createHmac('sha256', SECRET).update(`${ts}.${r.body}`).digest('hex')}`;
      expect(r.headers['x-incident-bot-signature']).toBe(want);
      expect(Math.abs(nowS - Number(ts))).toBeLessThan(300);
      expect(r.headers['x-incident-bot-delivery']).toBe(JSON.parse(r.body).id);
      expect(r.headers['content-type']).toBe('application/json');
      expect(
        verifyWebhook(
          SECRET,
          { timestamp: ts, signature: String(r.headers['x-incident-bot-signature']) },
          r.body,
          nowS,
        ),
      ).toBe(true);
      expect(readmeCheck()(SECRET, r.headers, r.body)).toBe(true);
      expect(readmeCheck()(SECRET, r.headers, r.body.replace('INC-1', 'INC-2'))).toBe(false);
      // A tampered body or a replay from long ago is refused by the same check.
      expect(verifyWebhook(SECRET, { timestamp: ts, signature: want }, `${r.body} `, nowS)).toBe(false);
      expect(verifyWebhook(SECRET, { timestamp: ts, signature: want }, r.body, nowS + 3600)).toBe(false);
    }
    // The postmortem timeline shows the stakeholder update.
    const draft = await h.bot.rt.store.postmortemDraft('INC-1');
    expect(draft?.markdown).toMatch(
      /Update: status update to stakeholders \(identified, SEV2\) by alice: Rolling back the LB weights; &lt;!channel&gt; errors dropping \[#\d+\]/,
    );
    // The receiver that never answers got its first event and is still waiting on it.
    expect(hanging.got).toHaveLength(1);
    expect(JSON.parse(hanging.got[0]!.body).type).toBe('incident.declared');
  });

  it('retry a receiver that is down up to OUTGOING_WEBHOOK_ATTEMPTS, then record each missed event as failed on the timeline', async () => {
    const failed = await eventually(async () => {
      const f = (await h.bot.rt.store.entries('INC-1')).filter(
        (e): e is EntryOf<'job_failed'> => e.kind === 'job_failed' && e.job === 'outgoing-webhook',
      );
      expect(f.length).toBeGreaterThanOrEqual(9);
      return f;
    }, 60_000);
    const down = failed.filter((f) => f.detail?.endsWith(`to ${downUrl}`));
    expect(down).toHaveLength(9);
    for (const f of down) {
      expect(f.attempts).toBe(3);
      expect(f.error).toMatch(/did not answer: ECONNREFUSED/);
    }
    expect(down[0]!.detail).toBe(`event #1 to ${downUrl}`);
    // Nothing recorded for the receiver that answers.
    expect(failed.filter((f) => f.detail?.includes(up.url))).toEqual([]);
    // Told once in the channel, not once per missed event.
    await settled(h, 'INC-1');
    const told = h.sandbox
      .messages(channel)
      .filter((m) => m.text.includes('gave up on sending an outgoing webhook'));
    expect(told).toHaveLength(1);
    expect(told[0]!.text).toContain(`(event #1 to ${downUrl}) after 3 attempts`);
    expect(told[0]!.text).toContain('without another message here');
  });
});
