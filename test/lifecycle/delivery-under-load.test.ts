import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { fixture, postAlert, TOKEN } from '../alerts-e2e/support.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

// An alert webhook with many alerts under Slack's chat.postMessage limit (about 1 a second per
// channel, the sandbox's default), then a note and a status change at once. The alerts are one
// batch message (not one post each), so the note is next in the channel. Their delivery jobs meet the incident's delivery lock: they must be delayed,
// not failed (the old behaviour spent their 8 attempts in about a minute and dropped the note),
// and the holder posts everything up to the end of the timeline before it lets go.

const ALERTS = 30;
let h: Harness;
let base: string;

beforeAll(async () => {
  h = await startHarness('delivery-load', {
    ALERT_WEBHOOK_TOKEN: TOKEN,
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  });
  base = `http://127.0.0.1:${h.bot.port}`;
});
afterAll(async () => {
  await h?.close();
});

describe('delivery under Slack rate limits', () => {
  it('posts a flood of alerts as one message and the note and status change that follow right after it, without spending their jobs’ attempts', async () => {
    const body = fixture('alertmanager-v4-firing.json');
    const [template] = body.alerts;
    body.groupKey = '{}:{alertname="DeliveryLoad"}';
    const alerts = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        ...template,
        labels: { ...template.labels, instance: `10.9.0.${from + i}:8080` },
        fingerprint: `dl${String(from + i).padStart(14, '0')}`,
      }));
    // The first alert opens the incident and its channel; then the flood arrives in one webhook.
    body.alerts = alerts(100, 1);
    const first = await postAlert(base, 'alertmanager', body);
    expect(first.status).toBe(202);
    const id = (await eventually(async () => {
      const v = await h.bot.rt.store.boundIncident(first.body.groupId);
      expect(v).toBeTruthy();
      return v!;
    })) as IncidentId;
    const channel = await eventually(async () => {
      const inc = await h.bot.rt.store.current(id);
      expect(inc?.summaryTs).toBeTruthy();
      return inc!.channelId!;
    });
    await settled(h, id);
    body.alerts = [...alerts(100, 1), ...alerts(0, ALERTS)];
    const res = await postAlert(base, 'alertmanager', body);
    expect(res.status).toBe(202);
    await eventually(async () =>
      expect((await h.bot.rt.store.entries(id)).filter((e) => e.kind === 'alert_fired').length).toBe(
        ALERTS + 1,
      ),
    );
    // The alerts arrive as one batch of timeline entries; a note and a status change follow at once.

    const note = await h.client.slashCommand({
      text: 'note checked the LB weights first',
      userId: h.users.carol,
      channelId: channel,
    });
    expect(note.status).toBe(200);
    const status = await h.client.slashCommand({
      text: 'status identified',
      userId: h.users.carol,
      channelId: channel,
    });
    expect(status.status).toBe(200);
    const len = await h.bot.rt.store.timelineLength(id);

    await settled(h, id);
    await h.sandbox.waitForMessage((m) => m.text.includes('checked the LB weights first'), { channel });
    await h.sandbox.waitForMessage((m) => m.text.startsWith(`${id} SEV`) && m.text.includes('identified'), {
      channel,
    });
    // The jobs queued for the note and the status change met the lock: delayed, never failed.
    const slackQueue = h.bot.rt.jobs.queues.slack;
    for (const seq of [len - 1, len]) {
      const jobId = `deliver-${id}-${seq}`;
      // Delayed while the holder posted; it then runs, finds nothing left, and completes.
      await eventually(async () => expect(await slackQueue.getJobState(jobId)).toBe('completed'));
      const job = await slackQueue.getJob(jobId);
      expect(job!.attemptsMade, `${jobId} spent no attempt on the busy lock`).toBeLessThanOrEqual(1);
    }
    expect(await slackQueue.getJobCounts('failed')).toEqual({ failed: 0 });

    // The 30 alerts are one message (the first 5, then "…and 25 more") with the rest in its thread,
    // so the note and the status change were not queued behind 30 posts.
    const top = h.sandbox.messages(channel).filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    const batch = top.filter((m) => m.text.includes(`${ALERTS} alerts (${ALERTS} firing)`));
    expect(batch).toHaveLength(1);
    expect(JSON.stringify(batch[0]!.blocks)).toContain(`…and ${ALERTS - 5} more, listed in the thread.`);
    // The only single alert post is the one that opened the incident.
    expect(top.filter((m) => m.text.includes('Alert firing'))).toHaveLength(1);
    const rest = h.sandbox
      .messages(channel)
      .filter((m) => m.thread_ts === batch[0]!.ts && m.ts !== batch[0]!.ts);
    expect(rest).toHaveLength(1);
    expect(JSON.stringify(rest[0]!.blocks).match(/Alert firing: /g)).toHaveLength(ALERTS - 5);
    const texts = top.map((m) => m.text);
    const noteAt = texts.findIndex((t) => t.includes('checked the LB weights first'));
    expect(noteAt).toBe(texts.indexOf(batch[0]!.text) + 1);
  });
});
