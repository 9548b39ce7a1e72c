import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntryOf, TimelineEntry } from '../../src/core/timeline.js';
import { CLOSE_INCIDENT_ACTION } from '../../src/slack/alert-render.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  botMessages,
  fixture,
  fixtureBytes,
  ingested,
  PD_SECRET,
  pagerDutyDelivery,
  postAlert,
  settled,
  TOKEN,
  textsOf,
} from './support.js';

// Real wire formats (a captured Alertmanager 0.25 body, Grafana's and PagerDuty's documented
// examples, the generic format) posted over HTTP to the running web process; a real BullMQ worker,
// real Redis and the Slack sandbox do the rest.

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness(
    'alerts-formats',
    {
      ALERT_WEBHOOK_TOKEN: TOKEN,
      PAGERDUTY_WEBHOOK_SECRET: PD_SECRET,
      // No nudges or escalations in this file: its channels should hold only alert traffic.
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    },
    // Alice clicks Close on an alert-declared incident: she is an incident admin.
    { envFrom: (_, u) => ({ INCIDENT_ADMINS: u.alice }) },
  );
  base = `http://127.0.0.1:${h.bot.port}`;
});
afterAll(async () => {
  await h?.close();
});

const alertsQueue = () => h.bot.rt.jobs.queues.alerts;
const entries = (id: string) => h.bot.rt.store.entries(id);
const ofKind = <K extends TimelineEntry['kind']>(es: TimelineEntry[], kind: K) =>
  es.filter((e): e is EntryOf<K> => e.kind === kind);

async function incidentFor(groupId: string): Promise<string> {
  return eventually(async () => {
    const id = await h.bot.rt.store.lastIncident(groupId);
    expect(id).toBeTruthy();
    return id!;
  });
}

async function channelOf(id: string): Promise<string> {
  return eventually(async () => {
    const inc = await h.bot.rt.store.load(id as `INC-${number}`);
    expect(inc?.incident.channelId).toBeTruthy();
    return inc!.incident.channelId!;
  });
}

describe('Alertmanager webhooks to the running bot', () => {
  it('opens one incident and channel for a group, adds later alerts and resolves to it, offers Close, and links a refire to the closed incident', async () => {
    const firstBody = fixtureBytes('alertmanager-0.25-captured-firing.body.txt');
    const r1 = await postAlert(base, 'alertmanager', firstBody);
    expect(r1.status).toBe(202);
    expect(r1.body).toMatchObject({ accepted: true, status: 'firing', alerts: 1 });
    const groupId: string = r1.body.groupId;
    expect(await ingested(alertsQueue(), r1.body.deliveryId)).toMatchObject({ outcome: 'declared' });

    const id = await incidentFor(groupId);
    const channel = await channelOf(id);
    await settled(h.bot.rt.redis, h.prefix, id);

    // The incident, as /incident start would open it, with title and severity from the labels.
    let es = await entries(id);
    expect(es[0]).toMatchObject({
      kind: 'declared',
      title: 'HighErrorRate (service=checkout)',
      severity: 'SEV1',
      alertGroupId: groupId,
      actor: { type: 'alert', source: 'alertmanager' },
      source: 'alert',
    });
    expect(ofKind(es, 'alert_fired')).toEqual([
      expect.objectContaining({
        fingerprint: 'fd817304938026ec',
        name: 'HighErrorRate',
        at: '2024-05-01T10:00:00.123Z',
        startsAt: '2024-05-01T10:00:00.123Z',
        labels: expect.objectContaining({ instance: '10.0.1.17:8080', severity: 'critical' }),
        generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up',
      }),
    ]);

    // The channel opens with the pinned summary, then the alert post (labels, summary, start, link).
    const msgs = botMessages(h.sandbox, channel);
    expect(h.sandbox.pins(channel)).toHaveLength(1);
    const post = msgs.find((m) => m.text.includes('Alert firing'))!;
    expect(post).toBeDefined();
    const { plain, mrkdwn } = textsOf(post);
    expect(plain).toContain('Checkout 5xx <b>above</b> 5% 🔥 *now*');
    expect(plain.join('\n')).toContain('service=checkout');
    expect(plain.join('\n')).toContain('instance=10.0.1.17:8080');
    expect(mrkdwn.join('\n')).toContain('10:00 UTC');
    expect(mrkdwn.join('\n')).toContain('<http://prometheus.example:9090/graph?g0.expr=up|Alert source>');
    expect(post.text).toContain('Checkout 5xx &lt;b&gt;above&lt;/b&gt;');
    expect(h.sandbox.renderChannel(channel)).toContain('Alert firing: HighErrorRate');

    // A second alert of the group joins the same incident; a re-send of the first changes nothing.
    const second = JSON.parse(firstBody.toString('utf8'));
    second.alerts.push({
      ...second.alerts[0],
      labels: { ...second.alerts[0].labels, instance: '10.0.1.18:8080' },
      fingerprint: 'aa17304938026e00',
      startsAt: '2024-05-01T10:02:00Z',
    });
    const r2 = await postAlert(base, 'alertmanager', second);
    expect(r2.status).toBe(202);
    expect(r2.body.groupId).toBe(groupId);
    expect(await ingested(alertsQueue(), r2.body.deliveryId)).toMatchObject({
      outcome: 'recorded',
      changes: 1,
    });
    const again = await postAlert(base, 'alertmanager', firstBody);
    expect(again.body.deliveryId).toBe(r1.body.deliveryId);
    expect(h.sandbox.transcriptFor('conversations.create')).toHaveLength(1);
    es = await entries(id);
    expect(ofKind(es, 'alert_fired').map((e) => e.fingerprint)).toEqual([
      'fd817304938026ec',
      'aa17304938026e00',
    ]);

    // Both resolve: two alert_resolved entries, then the all-resolved notice with a Close button.
    const resolved = JSON.parse(JSON.stringify(second));
    resolved.status = 'resolved';
    for (const a of resolved.alerts) {
      a.status = 'resolved';
      a.endsAt = '2024-05-01T10:20:00.5Z';
    }
    const r3 = await postAlert(base, 'alertmanager', resolved);
    expect(await ingested(alertsQueue(), r3.body.deliveryId)).toMatchObject({
      outcome: 'recorded',
      changes: 2,
    });
    const notice = await h.sandbox.waitForMessage(
      (m) => m.channel === channel && m.text.includes('have resolved'),
    );
    expect(notice.text).toContain(`All 2 alerts of ${id} have resolved`);
    es = await entries(id);
    expect(ofKind(es, 'alert_resolved').map((e) => [e.fingerprint, e.endsAt])).toEqual([
      ['fd817304938026ec', '2024-05-01T10:20:00.500Z'],
      ['aa17304938026e00', '2024-05-01T10:20:00.500Z'],
    ]);
    // Resolving never closes the incident by itself.
    expect(es.some((e) => e.kind === 'closed')).toBe(false);
    const noticeIndex = botMessages(h.sandbox, channel).indexOf(notice);
    // One webhook's alerts are one batch message (src/slack/alert-render.ts alertBatchMessage).
    const resolvedPosts = botMessages(h.sandbox, channel).filter((m) =>
      m.text.includes('2 alerts (2 resolved)'),
    );
    expect(resolvedPosts).toHaveLength(1);
    expect(
      textsOf(resolvedPosts[0]!).plain.filter((t) => t.startsWith('Alert resolved: HighErrorRate')),
    ).toHaveLength(2);
    for (const r of resolvedPosts)
      expect(botMessages(h.sandbox, channel).indexOf(r)).toBeLessThan(noticeIndex);

    // A person clicks Close incident.
    const { alice } = h.users;
    h.sandbox.channel(channel)!.members.push(alice);
    const click = await h.client.blockAction({
      actionId: CLOSE_INCIDENT_ACTION,
      value: id,
      userId: alice,
      channelId: channel,
      messageTs: notice.ts,
    });
    expect(click.status).toBe(200);
    await eventually(async () => {
      const closed = ofKind(await entries(id), 'closed');
      expect(closed).toEqual([
        expect.objectContaining({
          actor: { type: 'user', id: alice },
          source: 'button',
          resolution: 'All alerts resolved',
        }),
      ]);
    });
    // Closing releases the group (right after the closed entry is appended).
    await eventually(async () => expect(await h.bot.rt.store.boundIncident(groupId)).toBeUndefined());

    // The alert fires again later: a new incident, linked to the closed one, in a new channel.
    const refire = JSON.parse(firstBody.toString('utf8'));
    refire.alerts[0].startsAt = '2024-05-01T11:00:00Z';
    const r4 = await postAlert(base, 'alertmanager', refire);
    expect(await ingested(alertsQueue(), r4.body.deliveryId)).toMatchObject({ outcome: 'declared' });
    const id2 = await eventually(async () => {
      const v = await h.bot.rt.store.boundIncident(groupId);
      expect(v).toBeTruthy();
      expect(v).not.toBe(id);
      return v!;
    });
    expect((await entries(id2))[0]).toMatchObject({
      kind: 'declared',
      relatedIncidentId: id,
      alertGroupId: groupId,
    });
    expect(await channelOf(id2)).not.toBe(channel);
  });
});

describe('Grafana, PagerDuty and generic webhooks to the running bot', () => {
  it('opens an incident from Grafana’s documented payload with the runbook button and both alerts', async () => {
    const r = await postAlert(base, 'grafana', fixture('unified-alerting-webhook.json'));
    expect(r.status).toBe(202);
    expect(await ingested(alertsQueue(), r.body.deliveryId)).toMatchObject({
      outcome: 'declared',
      changes: 2,
    });
    const id = await incidentFor(r.body.groupId);
    const channel = await channelOf(id);
    await settled(h.bot.rt.redis, h.prefix, id);
    const es = await entries(id);
    expect(es[0]).toMatchObject({ kind: 'declared', actor: { type: 'alert', source: 'grafana' } });
    expect(ofKind(es, 'alert_fired').map((e) => e.labels.alertname)).toEqual([
      'High memory usage',
      'High CPU usage',
    ]);
    // Both alerts of the webhook in one batch message, each with its runbook button.
    const posts = botMessages(h.sandbox, channel).filter((m) => m.text.includes('2 alerts (2 firing)'));
    expect(posts).toHaveLength(1);
    const buttons = JSON.stringify(posts[0]!.blocks);
    expect(buttons).toContain('"url":"https://myrunbook.com/runbook/1234"');
    const plain = textsOf(posts[0]!).plain.join('\n');
    expect(plain).toContain('Alert firing: High memory usage since 07:51 UTC');
    expect(plain).toContain('Alert firing: High CPU usage');
    expect(plain).toContain('The system has high memory usage');
  });

  it('opens an incident from a signed PagerDuty incident.triggered and records incident.resolved', async () => {
    const data = fixture('v3-data-incident.json');
    const trig = pagerDutyDelivery('incident.triggered', data, '2020-10-02T18:45:23Z');
    const r1 = await postAlert(base, 'pagerduty', trig.body, trig.headers);
    expect(r1.status).toBe(202);
    await ingested(alertsQueue(), r1.body.deliveryId);
    const id = await incidentFor(r1.body.groupId);
    await channelOf(id);
    expect((await entries(id))[0]).toMatchObject({ kind: 'declared', title: 'A little bump in the road' });

    const res = pagerDutyDelivery('incident.resolved', data, '2020-10-02T19:00:00Z');
    const r2 = await postAlert(base, 'pagerduty', res.body, res.headers);
    expect(await ingested(alertsQueue(), r2.body.deliveryId)).toMatchObject({ changes: 1 });
    expect(ofKind(await entries(id), 'alert_resolved')).toEqual([
      expect.objectContaining({ fingerprint: 'PGR0VU2', endsAt: '2020-10-02T19:00:00.000Z' }),
    ]);
  });

  it('shows unicode, HTML and mrkdwn control characters of a generic alert literally and pings nobody', async () => {
    const title =
      '<!channel> *Ünïcode* _säle_ ~down~ <script>alert(1)</script> & `rm` 🔥 <https://evil.example|click>';
    const r = await postAlert(base, 'generic', {
      title,
      status: 'firing',
      dedupKey: 'literal-check',
      severity: 'warning',
      labels: { service: '<@U0SANDBOT01> *x*', 'zone&name': 'eu>1' },
      annotations: { summary: '<!here> 50% &amp; rising', runbook_url: 'javascript:alert(1)' },
      startedAt: '2024-05-01T10:00:00+02:00',
    });
    expect(r.status).toBe(202);
    await ingested(alertsQueue(), r.body.deliveryId);
    const id = await incidentFor(r.body.groupId);
    const channel = await channelOf(id);
    await settled(h.bot.rt.redis, h.prefix, id);
    expect((await entries(id))[0]).toMatchObject({ title, severity: 'SEV3' });

    const post = botMessages(h.sandbox, channel).find((m) => m.text.includes('Alert firing'))!;
    const { plain, mrkdwn } = textsOf(post);
    expect(plain.join('\n')).toContain(title);
    expect(plain).toContain('<!here> 50% &amp; rising');
    expect(plain.join('\n')).toContain('service=<@U0SANDBOT01> *x*');
    expect(plain.join('\n')).toContain('zone&name=eu>1');
    // No mrkdwn text anywhere in the channel or the announcement carries a live mention or link from the alert.
    const everything = [
      ...botMessages(h.sandbox, channel).flatMap((m) => textsOf(m).mrkdwn),
      ...h.sandbox.messages(h.announceChannel).flatMap((m) => textsOf(m).mrkdwn),
    ];
    for (const t of everything) {
      expect(t).not.toContain('<!channel>');
      expect(t).not.toContain('<!here>');
      expect(t).not.toContain('<@U0SANDBOT01>');
      expect(t).not.toContain('<https://evil.example');
      expect(t).not.toContain('<script>');
    }
    expect(mrkdwn.join('\n')).toContain('&lt;!channel&gt;');
    // A non-http runbook URL is not offered as a button.
    expect(JSON.stringify(post.blocks)).not.toContain('javascript:');
  });
});
