import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntryOf, TimelineEntry } from '../../src/core/timeline.js';
import { ingestAlert } from '../../src/flows/ingest-alert.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';
import {
  botMessages,
  fixture,
  ingested,
  PD_SECRET,
  pagerDutyDelivery,
  postAlert,
  settled,
  TOKEN,
} from './support.js';

// Alerts that get worse raise the incident's severity: webhooks over HTTP to the running web
// process, a real BullMQ worker, real Redis, the Slack sandbox, and a person's `/incident sev`
// through the real Bolt request path.

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness(
    'alerts-severity',
    {
      ALERT_WEBHOOK_TOKEN: TOKEN,
      PAGERDUTY_WEBHOOK_SECRET: PD_SECRET,
      // Only alert traffic and severity changes in these channels.
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      // Two incidents in this file: do not space their channel setups 3 s apart.
      CHANNEL_SETUP_WINDOW_SECONDS: '1',
    },
    // Carol lowers the severity of an alert-declared incident: she is an incident admin.
    { envFrom: (_, u) => ({ INCIDENT_ADMINS: u.carol }) },
  );
  base = `http://127.0.0.1:${h.bot.port}`;
});
afterAll(async () => {
  await h?.close();
});

const alertsQueue = () => h.bot.rt.jobs.queues.alerts;
const entries = (id: string) => h.bot.rt.store.entries(id as `INC-${number}`);
const severityChanges = async (id: string) =>
  (await entries(id)).filter((e): e is EntryOf<'severity_changed'> => e.kind === 'severity_changed');
const severityOf = async (id: string) =>
  (await h.bot.rt.store.load(id as `INC-${number}`))!.incident.severity;

async function incidentFor(groupId: string): Promise<string> {
  return eventually(async () => {
    const id = await h.bot.rt.store.boundIncident(groupId);
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

/** Posts a webhook and waits until the worker ingested it; returns the 202 body and the job's result. */
async function send(source: string, body: unknown, headers?: Record<string, string>) {
  const r = await postAlert(base, source, body, headers);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  const result = await ingested(alertsQueue(), r.body.deliveryId);
  return { body: r.body, result };
}

interface AmAlert {
  fingerprint: string;
  severity: string;
  status: 'firing' | 'resolved';
  startsAt: string;
  endsAt?: string;
}

/** An Alertmanager v4 body for the `HighErrorRate, service=checkout` group (group_by: [alertname, service]). */
function alertmanager(alerts: AmAlert[], notificationReason = 'new_alerts') {
  const labels = { alertname: 'HighErrorRate', service: 'checkout' };
  return {
    version: '4',
    groupKey: '{}:{alertname="HighErrorRate", service="checkout"}',
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'incident-bot',
    groupLabels: labels,
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example:9093',
    notification_reason: notificationReason,
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: { ...labels, severity: a.severity, instance: `${a.fingerprint}:8080` },
      annotations: { summary: `checkout 5xx (${a.severity})` },
      startsAt: a.startsAt,
      endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up',
      fingerprint: a.fingerprint,
    })),
  };
}

const REASON = 'raised by alert HighErrorRate (severity=critical) from alertmanager';

describe('alerts that get worse raise the severity of their open incident', () => {
  it('raises once from warning to critical, never for duplicates, less severe or resolved alerts, and stays above a person’s lower choice until a new critical alert', async () => {
    const warning: AmAlert = {
      fingerprint: 'aa00000000000001',
      severity: 'warning',
      status: 'firing',
      startsAt: '2024-05-01T10:00:00Z',
    };
    const critical: AmAlert = {
      fingerprint: 'cc00000000000002',
      severity: 'critical',
      status: 'firing',
      startsAt: '2024-05-01T10:05:00Z',
    };

    // The warning opens the incident at SEV3.
    const first = await send('alertmanager', alertmanager([warning]));
    expect(first.result).toMatchObject({ outcome: 'declared' });
    const id = await incidentFor(first.body.groupId);
    const channel = await channelOf(id);
    expect((await entries(id))[0]).toMatchObject({ kind: 'declared', severity: 'SEV3' });
    const statesBefore = await h.bot.rt.store.alertStates(id, first.body.groupId);

    // The critical alert of the same group: one incident, raised once, with its reason.
    const critBody = Buffer.from(JSON.stringify(alertmanager([warning, critical])));
    const second = await send('alertmanager', critBody);
    expect(second.body.groupId).toBe(first.body.groupId);
    expect(second.result).toMatchObject({
      outcome: 'recorded',
      changes: 1,
      raisedTo: 'SEV1',
      incidentId: id,
    });
    const raised = await severityChanges(id);
    expect(raised).toEqual([
      expect.objectContaining({
        from: 'SEV3',
        to: 'SEV1',
        reason: REASON,
        actor: { type: 'alert', source: 'alertmanager' },
        source: 'alert',
      }),
    ]);
    // After the alert it reports, so the channel reads in order.
    const es = await entries(id);
    const firedSeq = es.find((e) => e.kind === 'alert_fired' && e.fingerprint === critical.fingerprint)!.seq;
    expect(raised[0]!.seq).toBeGreaterThan(firedSeq);
    expect(await h.bot.rt.store.openIncidents()).toEqual([id]);

    // The channel hears it as it hears `/incident sev`, and the pinned summary shows SEV1.
    const confirmation = await h.sandbox.waitForMessage((m) => m.text.includes('Severity: *SEV3* → *SEV1*'), {
      channel,
    });
    expect(confirmation.text).toBe(
      `:red_circle: Severity: *SEV3* → *SEV1* (by alert (alertmanager)) — ${REASON}`,
    );
    await h.sandbox.waitForMessage((m) => m.text.startsWith(`${id} SEV1 investigating:`), { channel });
    await settled(h.bot.rt.redis, h.prefix, id);

    // The same webhook again (a retry: same bytes, same job) and a re-send (new bytes, same state).
    const retry = await postAlert(base, 'alertmanager', critBody);
    expect(retry.body.deliveryId).toBe(second.body.deliveryId);
    const resend = await send('alertmanager', alertmanager([warning, critical], 'repeat'));
    expect(resend.body.deliveryId).not.toBe(second.body.deliveryId);
    expect(resend.result).toEqual({ outcome: 'no-change', incidentId: id, changes: 0 });

    // A person decides it is SEV2 after all: a later re-send of the same critical alert leaves that alone.
    const { carol } = h.users;
    const lowered = await h.client.slashCommand({ text: 'sev 2', userId: carol, channelId: channel });
    expect(lowered.body).toMatchObject({ text: `${id} is now SEV2.` });
    // A worker that died after recording the raise but before storing the group's states runs the
    // job again from the old states: the raise has its claim, so the person's SEV2 stands.
    const count = (await entries(id)).length;
    await h.bot.rt.store.saveAlertStates(id, first.body.groupId, statesBefore, 3600, { replace: true });
    expect(await ingestAlert(h.bot.rt.deps, second.body.deliveryId)).toEqual({
      outcome: 'recorded',
      incidentId: id,
      changes: 1,
    });
    expect(await entries(id)).toHaveLength(count);
    expect(await severityOf(id)).toBe('SEV2');
    const after = await send('alertmanager', alertmanager([warning, critical], 'repeat-2'));
    expect(after.result).toMatchObject({ outcome: 'no-change' });
    expect(await severityOf(id)).toBe('SEV2');

    // Less severe news changes nothing: the critical alert resolves, the warning keeps firing.
    const calmer = await send(
      'alertmanager',
      alertmanager([warning, { ...critical, status: 'resolved', endsAt: '2024-05-01T10:20:00Z' }]),
    );
    expect(calmer.result).toMatchObject({ outcome: 'recorded', changes: 1 });
    expect(calmer.result).not.toHaveProperty('raisedTo');
    expect(await severityOf(id)).toBe('SEV2');

    // A critical alert firing anew still raises above the person's choice (alerts only raise).
    const again = await send(
      'alertmanager',
      alertmanager([warning, { ...critical, startsAt: '2024-05-01T10:30:00Z' }]),
    );
    expect(again.result).toMatchObject({ outcome: 'recorded', changes: 1, raisedTo: 'SEV1' });
    expect((await severityChanges(id)).map((e) => [e.from, e.to, e.actor.type, e.reason])).toEqual([
      ['SEV3', 'SEV1', 'alert', REASON],
      ['SEV1', 'SEV2', 'user', undefined],
      ['SEV2', 'SEV1', 'alert', REASON],
    ]);
    await settled(h.bot.rt.redis, h.prefix, id);
    const confirmations = botMessages(h.sandbox, channel).filter((m) => m.text.includes('Severity: *'));
    expect(confirmations.map((m) => m.text)).toEqual([
      `:red_circle: Severity: *SEV3* → *SEV1* (by alert (alertmanager)) — ${REASON}`,
      `:large_orange_circle: Severity: *SEV1* → *SEV2* (by <@${carol}>)`,
      `:red_circle: Severity: *SEV2* → *SEV1* (by alert (alertmanager)) — ${REASON}`,
    ]);
    expect(h.sandbox.transcriptFor('conversations.create').filter((e) => e.ok)).toHaveLength(1);
  });

  it('raises a PagerDuty incident when its priority is updated to P1, and opens nothing for an unknown one', async () => {
    const data = fixture('v3-data-incident.json');
    data.id = 'PSEVRAISE1';
    data.priority.summary = 'P3';
    data.urgency = 'low';
    const trig = pagerDutyDelivery('incident.triggered', data, '2020-10-02T18:45:23Z');
    const r1 = await send('pagerduty', trig.body, trig.headers);
    expect(r1.result).toMatchObject({ outcome: 'declared' });
    const id = await incidentFor(r1.body.groupId);
    const channel = await channelOf(id);
    expect((await entries(id))[0]).toMatchObject({ kind: 'declared', severity: 'SEV3' });

    const up = { ...data, priority: { ...data.priority, summary: 'P1' } };
    const upd = pagerDutyDelivery('incident.priority_updated', up, '2020-10-02T18:50:00Z');
    const r2 = await send('pagerduty', upd.body, upd.headers);
    expect(r2.body).toMatchObject({ accepted: true, groupId: r1.body.groupId, status: 'firing' });
    expect(r2.result).toEqual({ outcome: 'recorded', incidentId: id, changes: 0, raisedTo: 'SEV1' });
    const reason = 'raised by alert A little bump in the road (priority=P1) from pagerduty';
    expect(await severityChanges(id)).toEqual([
      expect.objectContaining({
        from: 'SEV3',
        to: 'SEV1',
        reason,
        actor: { type: 'alert', source: 'pagerduty' },
      }),
    ]);
    await h.sandbox.waitForMessage((m) => m.text.includes(reason), { channel });
    // The update is no alert of its own: nothing fired or resolved.
    expect((await entries(id)).filter((e: TimelineEntry) => e.kind.startsWith('alert_'))).toHaveLength(1);

    // Lowered again in PagerDuty: no change here.
    const down = { ...data, priority: { ...data.priority, summary: 'P4' } };
    const dn = pagerDutyDelivery('incident.priority_updated', down, '2020-10-02T19:00:00Z');
    expect((await send('pagerduty', dn.body, dn.headers)).result).toMatchObject({ outcome: 'no-change' });
    expect(await severityOf(id)).toBe('SEV1');

    // A priority update for a PagerDuty incident the bot never saw fire opens nothing.
    const stranger = { ...up, id: 'PNEVERSEEN' };
    const st = pagerDutyDelivery('incident.priority_updated', stranger, '2020-10-02T19:05:00Z');
    const r4 = await send('pagerduty', st.body, st.headers);
    expect(r4.result).toEqual({ outcome: 'no-change', changes: 0 });
    expect(await h.bot.rt.store.boundIncident(r4.body.groupId)).toBeUndefined();
    expect(await h.bot.rt.store.lastIncident(r4.body.groupId)).toBeUndefined();
  });
});
