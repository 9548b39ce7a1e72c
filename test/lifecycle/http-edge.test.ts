import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { sign } from '../../src/sandbox/index.js';
import { fixture, ingested, postAlert, TOKEN } from '../alerts-e2e/support.js';
import { eventually } from '../support/eventually.js';
import { type Harness, SIGNING_SECRET, settled, startHarness } from '../support/harness.js';

// The HTTP edge of the web process, over real sockets to the running server: what it refuses
// before reading a body, its body limit for Slack, its timeouts and connection cap, Slack
// timestamps from the future, and what it puts in topics, links and /healthz answers.

let h: Harness;
let deadRedis: Harness;
beforeAll(async () => {
  [h, deadRedis] = await Promise.all([
    startHarness('http-edge', {
      ALERT_WEBHOOK_TOKEN: TOKEN,
      HTTP_HEADERS_TIMEOUT_SECONDS: '1',
      HTTP_REQUEST_TIMEOUT_SECONDS: '3',
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    }),
    // Nothing listens on port 1 of loopback: this web process never reaches its Redis.
    startHarness(
      'http-edge-dead',
      { REDIS_URL: 'redis://127.0.0.1:1', HTTP_MAX_CONNECTIONS: '2' },
      { worker: false },
    ),
  ]);
});
afterAll(async () => {
  await Promise.all([h?.close(), deadRedis?.close()]);
});

/** Raw HTTP over one socket: writes `head` (and `body`), resolves with all bytes read once the server closes or answers. */
async function raw(
  port: number,
  head: string,
  opts: { body?: string; until?: 'close' | 'response' } = {},
): Promise<{ text: string; status?: number; socket: Socket }> {
  const socket = createConnection(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(head);
  if (opts.body) socket.write(opts.body);
  let text = '';
  await new Promise<void>((resolve) => {
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (opts.until === 'response' && text.includes('\r\n\r\n')) resolve();
    });
    socket.once('close', () => resolve());
  });
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
  return { text, status: status ? Number(status) : undefined, socket };
}

const metric = async (port: number, labels: string) => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('incident_bot_rejected_requests_total{') && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

describe('the HTTP edge', () => {
  it('refuses an alert webhook without the bearer token from its headers, before its body arrives', async () => {
    // The headers promise a 1 MB body that never comes: only a refusal from the headers can answer.
    const r = await raw(
      h.bot.port!,
      'POST /alerts/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        'Authorization: Bearer not-the-token-at-all\r\nContent-Length: 1000000\r\n\r\n{"version":"4",',
      { until: 'response' },
    );
    r.socket.destroy();
    expect(r.status).toBe(401);
    expect(r.text).toContain('missing or invalid Authorization: Bearer token');
    expect(r.text.toLowerCase()).toContain('connection: close');
  });

  it('answers 413 to a Slack request over 256 KiB and still takes one under it', async () => {
    const ts = Math.floor(Date.now() / 1000);
    const big = `command=%2Fincident&text=${'x'.repeat(260 * 1024)}`;
    const r = await raw(
      h.bot.port!,
      'POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n' +
        `X-Slack-Request-Timestamp: ${ts}\r\nX-Slack-Signature: ${sign(big, ts, SIGNING_SECRET)}\r\n` +
        `Content-Length: ${big.length}\r\n\r\n`,
      { body: big, until: 'response' },
    );
    r.socket.destroy();
    expect(r.status).toBe(413);
    // A 200 KiB url_verification (signed) is within the limit: echoed.
    const challenge = 'c'.repeat(200 * 1024);
    const ok = await h.client.urlVerification(challenge);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ challenge });
  });

  it('answers 408 and closes a connection whose headers or body do not arrive in time', async () => {
    const slowHeaders = await raw(h.bot.port!, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(slowHeaders.status).toBe(408);
    const slowBody = await raw(
      h.bot.port!,
      'POST /alerts/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${TOKEN}\r\nContent-Length: 5000\r\n\r\n`,
      { body: '{"version":"4",' },
    );
    expect(slowBody.status).toBe(408);
    expect((await fetch(`http://127.0.0.1:${h.bot.port}/healthz`)).status).toBe(200);
  });

  it('closes connections beyond HTTP_MAX_CONNECTIONS at once', async () => {
    const port = deadRedis.bot.port!;
    const get = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    // Two keep-alive connections, each answered, so the server has accepted both.
    const held = [await raw(port, get, { until: 'response' }), await raw(port, get, { until: 'response' })];
    expect(held.map((x) => x.status)).toEqual([503, 503]);
    const third = await raw(port, get);
    expect(third.text).toBe('');
    for (const x of held) x.socket.destroy();
    await eventually(async () => expect((await raw(port, get, { until: 'response' })).status).toBe(503));
  });

  it('does not echo Redis’ error text from /healthz', async () => {
    const res = await fetch(`http://127.0.0.1:${deadRedis.bot.port}/healthz`, {
      headers: { connection: 'close' },
    });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ok: false, redis: 'down' });
  });

  it('refuses a Slack request stamped more than 5 minutes in the future, as Bolt does one from the past', async () => {
    const { alice } = h.users;
    const general = h.sandbox.addChannel({ name: 'edge-general', members: [alice] }).id;
    const labels = 'endpoint="slack",reason="signature"';
    const before = await metric(h.bot.port!, labels);
    const now = Math.floor(Date.now() / 1000);
    const send = (timestamp: number) =>
      h.client.slashCommand({ text: 'help', userId: alice, channelId: general }, { timestamp });
    expect((await send(now + 5 * 60 + 30)).status).toBe(401);
    expect((await send(now - 5 * 60 - 30)).status).toBe(401);
    expect(await metric(h.bot.port!, labels)).toBe(before + 2);
    // Within the window either way: answered.
    expect((await send(now + 4 * 60)).status).toBe(200);
  });

  it('escapes the channel topic, so a title cannot ping the channel', async () => {
    const { alice } = h.users;
    const general = h.sandbox.channelByName('edge-general')!.id;
    const r = await h.client.slashCommand({
      text: 'start sev2 <!channel> & <@U0000001> checkout down',
      userId: alice,
      channelId: general,
    });
    const id = /INC-\d+/.exec(JSON.stringify(r.body))![0];
    await settled(h, id);
    const topic = await h.sandbox.waitFor((e) => e.method === 'conversations.setTopic' && e.ok);
    expect(topic.args.topic).toBe(
      'SEV2 · investigating · &lt;!channel&gt; &amp; &lt;@U0000001&gt; checkout down',
    );
  });

  it('builds links with new URL and encodes |, < and > in them', async () => {
    const body = fixture('alertmanager-v4-firing.json');
    body.groupKey = '{}:{alertname="EdgeLinks"}';
    body.alerts = [body.alerts[0]];
    body.alerts[0].generatorURL = 'http://prometheus.example:9090/graph?g0.expr=a|b>c';
    body.alerts[0].annotations.runbook_url = 'https://runbooks.example.com/x|y><!channel>';
    const r = await postAlert(`http://127.0.0.1:${h.bot.port}`, 'alertmanager', body);
    expect(await ingested(h.bot.rt.jobs.queues.alerts, r.body.deliveryId)).toMatchObject({
      outcome: 'declared',
    });
    const id = (await h.bot.rt.store.boundIncident(r.body.groupId)) as IncidentId;
    await settled(h, id);
    const channel = (await h.bot.rt.store.current(id))!.channelId!;
    const post = await h.sandbox.waitForMessage(
      (m) => JSON.stringify(m.blocks ?? []).includes('|Alert source>'),
      {
        channel,
      },
    );
    const blocks = JSON.stringify(post.blocks);
    expect(blocks).toContain('<http://prometheus.example:9090/graph?g0.expr=a%7Cb%3Ec|Alert source>');
    expect(blocks).toContain('"url":"https://runbooks.example.com/x%7Cy%3E%3C!channel%3E"');
    // The pinned summary's links: the same encoding, whatever the alert sent.
    await eventually(async () => {
      const summary = h.sandbox.message(channel, h.sandbox.pins(channel)[0]!.ts)!;
      const text = JSON.stringify(summary.blocks);
      expect(text).toContain('<https://runbooks.example.com/x%7Cy%3E%3C!channel%3E|Runbook: HighErrorRate>');
      expect(text).not.toMatch(/<[^>]*\|[^>]*\|/);
    });
  });
});
