import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { fixture, postAlert, TOKEN } from '../alerts-e2e/support.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

// An alert webhook with many alerts under Slack's chat.postMessage limit (about 1 a second per
// channel, the sandbox's default), then a note and a status change while the channel is still
// being posted to. Their delivery jobs meet the incident's delivery lock: they must be delayed,
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
  it('posts a note and a status change that arrive while a large alert batch is still being posted, without spending their jobs’ attempts', async () => {
    const body = fixture('alertmanager-v4-firing.json');
    const [template] = body.alerts;
    body.groupKey = '{}:{alertname="DeliveryLoad"}';
    body.alerts = Array.from({ length: ALERTS }, (_, i) => ({
      ...template,
      labels: { ...template.labels, instance: `10.9.0.${i}:8080` },
      fingerprint: `dl${String(i).padStart(14, '0')}`,
    }));
    const res = await postAlert(base, 'alertmanager', body);
    expect(res.status).toBe(202);
    const id = (await eventually(async () => {
      const v = await h.bot.rt.store.boundIncident(res.body.groupId);
      expect(v).toBeTruthy();
      return v!;
    })) as IncidentId;
    const channel = await eventually(async () => {
      const inc = await h.bot.rt.store.current(id);
      expect(inc?.summaryTs).toBeTruthy();
      return inc!.channelId!;
    });
    // Still posting the alerts (the limiter lets ~1 a second through after a burst of 10).
    await eventually(async () => expect(await h.bot.rt.store.deliveredCursor(id)).toBeGreaterThan(5));
    expect(await h.bot.rt.store.deliveredCursor(id)).toBeLessThan(await h.bot.rt.store.timelineLength(id));

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
  });
});
