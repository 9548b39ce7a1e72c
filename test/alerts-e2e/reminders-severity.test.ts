import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntryOf, TimelineEntry } from '../../src/core/timeline.js';
import { rescheduleForSeverity } from '../../src/flows/reminders.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';
import { ingested, type Proc, postAlert, spawnBot, TOKEN } from './support.js';

// A severity change reschedules the status nudges and the escalation for the new severity, counted
// from the change: BullMQ's real delayed jobs, the worker as its own process, real Redis, the Slack
// sandbox. Intervals are shortened: SEV1 nudges every 0.025 min (1.5 s) and escalates after 0.05 min
// (3 s), SEV2 nudges every 0.08 min (4.8 s) and never escalates, SEV3 has neither.

const SEV1_CADENCE_MS = 1500;
const SEV2_CADENCE_MS = 4800;
const ESCALATION_MS = 3000;
let h: Harness;
let base: string;
let worker: Proc | undefined;

beforeAll(async () => {
  h = await startHarness(
    'alerts-reminders-severity',
    {
      ALERT_WEBHOOK_TOKEN: TOKEN,
      REMINDER_MINUTES: 'SEV1=0.025,SEV2=0.08,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0.05,SEV2=0,SEV3=0,SEV4=0',
      JOB_LOCK_SECONDS: '1',
      // Two incidents in this file: do not space their channel setups 3 s apart.
      CHANNEL_SETUP_WINDOW_SECONDS: '1',
    },
    { worker: false },
  );
  h.env.INCIDENT_ESCALATION_USERS = h.users.bob;
  base = `http://127.0.0.1:${h.bot.port}`;
  worker = await spawnBot('worker', h.env, 'workers started');
}, 60_000);
afterAll(async () => {
  await worker?.stop();
  await h?.close();
});

const entries = (id: string) => h.bot.rt.store.entries(id as `INC-${number}`);
const ofKind = <K extends TimelineEntry['kind']>(es: TimelineEntry[], kind: K) =>
  es.filter((e): e is EntryOf<K> => e.kind === kind);
const reminders = () => h.bot.rt.jobs.queues.reminders;
/** Ids of the incident's delayed reminder jobs, by kind. */
async function delayedOf(id: string): Promise<{ nudges: string[]; escalations: string[] }> {
  const jobs = (await reminders().getDelayed()).filter((j) => j.data.incidentId === id);
  return {
    nudges: jobs.filter((j) => j.data.kind === 'status-update').map((j) => j.id!),
    escalations: jobs.filter((j) => j.data.kind === 'escalation').map((j) => j.id!),
  };
}
async function waitMs(ms: number): Promise<void> {
  const from = Date.now();
  await eventually(() => expect(Date.now() - from).toBeGreaterThan(ms), ms + 10_000, 50);
}

async function alert(dedupKey: string, severity: string): Promise<{ groupId: string }> {
  const r = await postAlert(base, 'generic', {
    title: `Queue backlog ${dedupKey}`,
    status: 'firing',
    dedupKey,
    severity,
  });
  expect(r.status).toBe(202);
  await ingested(h.bot.rt.jobs.queues.alerts, r.body.deliveryId);
  return { groupId: r.body.groupId };
}

async function openIncident(dedupKey: string, severity: string): Promise<{ id: string; channel: string }> {
  const { groupId } = await alert(dedupKey, severity);
  const id = (await h.bot.rt.store.boundIncident(groupId))!;
  const channel = await eventually(async () => {
    const inc = (await h.bot.rt.store.load(id as `INC-${number}`))!.incident;
    expect(inc.summaryTs).toBeTruthy();
    return inc.channelId!;
  });
  return { id, channel };
}

describe('a severity change reschedules nudges and escalation', () => {
  it('SEV3 raised to SEV1 by an alert gets SEV1 nudges and escalation, counted from the raise, once', async () => {
    const { id } = await openIncident('raise-to-sev1', 'warning');
    const declared = (await entries(id))[0] as EntryOf<'declared'>;
    expect(declared.severity).toBe('SEV3');
    expect(await delayedOf(id)).toEqual({ nudges: [], escalations: [] });

    // Past SEV1's escalation delay counted from the open: counted from the raise, it must still wait.
    await eventually(
      () => expect(Date.now()).toBeGreaterThan(Date.parse(declared.at) + ESCALATION_MS + 500),
      10_000,
      50,
    );
    await alert('raise-to-sev1', 'critical');
    const raised = ofKind(await entries(id), 'severity_changed');
    expect(raised.map((e) => e.to)).toEqual(['SEV1']);
    const raisedAt = Date.parse(raised[0]!.at);
    const pending = await delayedOf(id);
    expect(pending.nudges).toHaveLength(1);
    expect(pending.escalations).toHaveLength(1);

    const escalated = await eventually(async () => {
      const e = ofKind(await entries(id), 'escalated');
      expect(e).toHaveLength(1);
      return e[0]!;
    }, 15_000);
    expect(Date.parse(escalated.at) - raisedAt).toBeGreaterThanOrEqual(ESCALATION_MS - 50);
    expect(escalated.userIds).toEqual([h.users.bob]);
    expect(escalated.reason).toContain('SEV1');
    await eventually(async () => expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(2), 10_000);
    const [first, second] = ofKind(await entries(id), 'reminder_sent');
    expect(Date.parse(first!.at) - raisedAt).toBeGreaterThanOrEqual(SEV1_CADENCE_MS - 50);
    expect(Date.parse(second!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(SEV1_CADENCE_MS - 50);
    expect(first!.text).toContain('SEV1 cadence');

    // The same ask re-sent, and the reschedule run again (a retried job): no second schedule.
    await alert('raise-to-sev1', 'critical');
    await rescheduleForSeverity(h.bot.rt.deps, (await h.bot.rt.store.load(id as `INC-${number}`))!.incident);
    expect(ofKind(await entries(id), 'severity_changed')).toHaveLength(1);
    const after = await delayedOf(id);
    expect(after.nudges.length).toBeLessThanOrEqual(1);
    expect(after.escalations).toEqual([]);
    const count = ofKind(await entries(id), 'reminder_sent').length;
    await waitMs(2 * SEV1_CADENCE_MS + 200);
    const later = ofKind(await entries(id), 'reminder_sent');
    // One chain: at most three more nudges in two cadences, none closer than a cadence apart.
    expect(later.length - count).toBeGreaterThanOrEqual(1);
    expect(later.length - count).toBeLessThanOrEqual(3);
    for (let i = 1; i < later.length; i++) {
      expect(Date.parse(later[i]!.at) - Date.parse(later[i - 1]!.at)).toBeGreaterThanOrEqual(
        SEV1_CADENCE_MS - 50,
      );
    }
    expect(ofKind(await entries(id), 'escalated')).toHaveLength(1);
  });

  it('lowered by /incident sev, the SEV1 nudges move to the slower SEV2 cadence, then stop at SEV3', async () => {
    const { id, channel } = await openIncident('lower-from-sev1', 'critical');
    const { alice } = h.users;
    await h.client.slashCommand({ text: `lead <@${alice}|alice>`, userId: alice, channelId: channel });
    await eventually(async () => expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(1), 10_000);

    const lowered = await h.client.slashCommand({ text: 'sev 2', userId: alice, channelId: channel });
    expect(lowered.status).toBe(200);
    const toSev2 = await eventually(async () => {
      const s = ofKind(await entries(id), 'severity_changed');
      expect(s).toHaveLength(1);
      return s[0]!;
    });
    expect(toSev2.to).toBe('SEV2');
    const pending = await delayedOf(id);
    expect(pending.nudges).toHaveLength(1);
    expect(pending.escalations).toEqual([]);
    const before = ofKind(await entries(id), 'reminder_sent').length;
    // Two SEV1 cadences after the change: no nudge at the old cadence.
    await waitMs(2 * SEV1_CADENCE_MS);
    expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(before);
    const slow = await eventually(async () => {
      const r = ofKind(await entries(id), 'reminder_sent');
      expect(r).toHaveLength(before + 1);
      return r.at(-1)!;
    }, 15_000);
    expect(Date.parse(slow.at) - Date.parse(toSev2.at)).toBeGreaterThanOrEqual(SEV2_CADENCE_MS - 50);
    expect(slow.text).toContain('SEV2 cadence');

    // SEV3 has no nudges: the pending one goes and none come.
    await h.client.slashCommand({ text: 'sev 3', userId: alice, channelId: channel });
    await eventually(async () => expect(ofKind(await entries(id), 'severity_changed')).toHaveLength(2));
    await eventually(async () => expect(await delayedOf(id)).toEqual({ nudges: [], escalations: [] }));
    const stopped = ofKind(await entries(id), 'reminder_sent').length;
    await waitMs(SEV2_CADENCE_MS + SEV1_CADENCE_MS);
    expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(stopped);
    expect(await delayedOf(id)).toEqual({ nudges: [], escalations: [] });
    expect(ofKind(await entries(id), 'escalated')).toHaveLength(0);

    // Closed, nothing is scheduled for it whatever its severity.
    await h.client.slashCommand({ text: 'close Backlog drained', userId: alice, channelId: channel });
    await eventually(async () => expect(ofKind(await entries(id), 'closed')).toHaveLength(1));
    const closed = (await h.bot.rt.store.load(id as `INC-${number}`))!.incident;
    expect(closed.status).toBe('closed');
    await rescheduleForSeverity(h.bot.rt.deps, {
      ...closed,
      severity: 'SEV1',
      commander: undefined,
      severityChangedAt: new Date().toISOString(),
    });
    expect(await delayedOf(id)).toEqual({ nudges: [], escalations: [] });
  });
});
