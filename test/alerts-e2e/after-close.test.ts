import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';
import { fixture, ingested, postAlert, TOKEN } from './support.js';

// People close an incident when the fix is in, often before Alertmanager's resolve arrives. A
// group whose incident is closed must page again when it fires: a re-sent notification of the
// same, still-firing alert (Alertmanager's repeat_interval) and a new firing hours later each open
// a new incident with its own channel, linked to the one before.

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness(
    'alerts-after-close',
    {
      ALERT_WEBHOOK_TOKEN: TOKEN,
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    },
    // Carol closes alert-declared incidents nobody took command of: she is an incident admin.
    { envFrom: (_, u) => ({ INCIDENT_ADMINS: u.carol }) },
  );
  base = `http://127.0.0.1:${h.bot.port}`;
});
afterAll(async () => {
  await h?.close();
});

const alertsQueue = () => h.bot.rt.jobs.queues.alerts;

async function boundIncident(groupId: string, not?: string): Promise<IncidentId> {
  return eventually(async () => {
    const id = await h.bot.rt.store.boundIncident(groupId);
    expect(id).toBeTruthy();
    expect(id).not.toBe(not);
    return id!;
  });
}

async function channelOf(id: IncidentId): Promise<string> {
  return eventually(async () => {
    const inc = await h.bot.rt.store.current(id);
    expect(inc?.summaryTs).toBeTruthy();
    return inc!.channelId!;
  });
}

describe('an alert that outlives its incident', () => {
  it('opens a new, linked incident when the group fires again after a close, re-sent or new', async () => {
    const body = fixture('alertmanager-v4-firing.json');
    body.groupKey = '{}:{alertname="OutlivesItsIncident"}';
    body.alerts = [body.alerts[0]];
    const first = await postAlert(base, 'alertmanager', body);
    expect(await ingested(alertsQueue(), first.body.deliveryId)).toMatchObject({ outcome: 'declared' });
    const groupId = first.body.groupId as string;
    const id1 = await boundIncident(groupId);
    const ch1 = await channelOf(id1);

    // Closed while the alert still fires.
    const closed = await h.client.slashCommand({
      text: 'close weights fixed',
      userId: h.users.carol,
      channelId: ch1,
    });
    expect(closed.body).toMatchObject({ text: expect.stringContaining(`${id1} closed`) });
    await eventually(async () => expect(await h.bot.rt.store.openIncidents()).not.toContain(id1));
    expect(await h.bot.rt.store.boundIncident(groupId)).toBeUndefined();

    // Alertmanager re-sends the same firing alert (same fingerprint and startsAt): the fault is still there.
    const resend = await postAlert(base, 'alertmanager', { ...body, truncatedAlerts: 0, receiver: 'repeat' });
    expect(resend.body.deliveryId).not.toBe(first.body.deliveryId);
    expect(await ingested(alertsQueue(), resend.body.deliveryId)).toMatchObject({ outcome: 'declared' });
    const id2 = await boundIncident(groupId, id1);
    const ch2 = await channelOf(id2);
    expect(ch2).not.toBe(ch1);
    const declared2 = (await h.bot.rt.store.entries(id2))[0]!;
    expect(declared2).toMatchObject({ kind: 'declared', relatedIncidentId: id1 });
    expect((await h.bot.rt.store.entries(id2)).filter((e) => e.kind === 'alert_fired')).toHaveLength(1);
    // Nothing landed in the closed incident's timeline.
    expect((await h.bot.rt.store.entries(id1)).filter((e) => e.kind === 'alert_fired')).toHaveLength(1);

    // Closed again; hours later the group fires with a new startsAt: a third incident.
    await h.client.slashCommand({ text: 'close', userId: h.users.carol, channelId: ch2 });
    await eventually(async () => expect(await h.bot.rt.store.boundIncident(groupId)).toBeUndefined());
    const later = structuredClone(body);
    later.alerts[0].startsAt = new Date(Date.parse(body.alerts[0].startsAt) + 3 * 3600_000).toISOString();
    const r3 = await postAlert(base, 'alertmanager', later);
    expect(await ingested(alertsQueue(), r3.body.deliveryId)).toMatchObject({ outcome: 'declared' });
    const id3 = await boundIncident(groupId, id2);
    expect((await h.bot.rt.store.entries(id3))[0]).toMatchObject({
      kind: 'declared',
      relatedIncidentId: id2,
    });
    await channelOf(id3);
  });
});
