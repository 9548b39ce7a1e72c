import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntryOf, TimelineEntry } from '../../src/core/timeline.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';
import { ingested, type Proc, postAlert, settled, spawnBot, TOKEN } from './support.js';

// Status nudges and escalation with BullMQ's real delayed jobs, the worker running as its own
// process that is stopped and restarted in between. Intervals are shortened: SEV1 nudges every
// 0.025 min (1.5 s), escalation after 0.05 min (3 s).

const CADENCE_MS = 1500;
const ONCALL_GROUP = 'S0ONCALL01';
let h: Harness;
let base: string;
let worker: Proc | undefined;

beforeAll(async () => {
  h = await startHarness(
    'alerts-reminders',
    {
      ALERT_WEBHOOK_TOKEN: TOKEN,
      REMINDER_MINUTES: 'SEV1=0.025,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0.05,SEV2=0,SEV3=0,SEV4=0',
      JOB_LOCK_SECONDS: '1',
    },
    { worker: false },
  );
  h.env.INCIDENT_ESCALATION_USERS = `${h.users.bob},${ONCALL_GROUP}`;
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

async function openIncident(dedupKey: string): Promise<{ id: string; channel: string }> {
  const r = await postAlert(base, 'generic', {
    title: `Pool empty ${dedupKey}`,
    status: 'firing',
    dedupKey,
    severity: 'critical',
  });
  expect(r.status).toBe(202);
  await ingested(h.bot.rt.jobs.queues.alerts, r.body.deliveryId);
  const id = (await h.bot.rt.store.boundIncident(r.body.groupId))!;
  const channel = await eventually(async () => {
    const inc = (await h.bot.rt.store.load(id as `INC-${number}`))!.incident;
    expect(inc.summaryTs).toBeTruthy();
    return inc.channelId!;
  });
  return { id, channel };
}

/** Resolves half a cadence after `iso`. */
async function halfCadenceAfter(iso: string): Promise<void> {
  await eventually(() => expect(Date.now()).toBeGreaterThan(Date.parse(iso) + CADENCE_MS / 2), 10_000, 25);
}

/** Resolves once a delayed job's due time has passed (the condition the worker itself waits for). */
async function untilDue(jobId: string): Promise<void> {
  const job = await reminders().getJob(jobId);
  expect(job, jobId).toBeDefined();
  const due = job!.timestamp + (job!.delay ?? 0);
  await eventually(() => expect(Date.now()).toBeGreaterThan(due + 200), 20_000, 50);
}

describe('status nudges and escalation on BullMQ delayed jobs', () => {
  it('nudges at the SEV1 cadence, escalates once to the on-call users, and loses or doubles nothing across a worker restart', async () => {
    const { id, channel } = await openIncident('nudge-escalate');
    await eventually(async () => expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(1), 10_000);

    // Worker down while the next nudge and the escalation come due.
    await worker!.stop('SIGTERM');
    const nudgeJob = (await h.bot.rt.store.meta(id))['nudge-job']!;
    await untilDue(nudgeJob);
    await untilDue(`escalate-${id}`);
    expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(1);
    expect(ofKind(await entries(id), 'escalated')).toHaveLength(0);

    worker = await spawnBot('worker', h.env, 'workers started');
    await eventually(async () => {
      const es = await entries(id);
      expect(ofKind(es, 'escalated')).toHaveLength(1);
      expect(ofKind(es, 'reminder_sent')).toHaveLength(2);
    }, 10_000);
    const [first, second] = ofKind(await entries(id), 'reminder_sent');
    expect(Date.parse(second!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(CADENCE_MS - 50);
    const declaredAt = Date.parse((await entries(id))[0]!.at);
    expect(Date.parse(first!.at) - declaredAt).toBeGreaterThanOrEqual(CADENCE_MS - 50);
    expect(first!.text).toContain('no status update');

    const esc = ofKind(await entries(id), 'escalated')[0]!;
    expect(esc.userIds).toEqual([h.users.bob, ONCALL_GROUP]);
    const announced = await h.sandbox.waitForMessage(
      (m) => m.channel === h.announceChannel && m.text.includes('has no incident commander'),
    );
    expect(announced.text).toContain(`<@${h.users.bob}> <!subteam^${ONCALL_GROUP}>`);
    expect(announced.text).toContain(`<#${channel}>`);
    await settled(h.bot.rt.redis, h.prefix, id);
    expect(
      h.sandbox.messages(channel).filter((m) => m.text.startsWith(':rotating_light: Escalating')),
    ).toHaveLength(1);
    expect(
      h.sandbox.messages(h.announceChannel).filter((m) => m.text.includes('has no incident commander')),
    ).toHaveLength(1);
  });

  it('restarts the cadence from a status update, and stops every reminder when the incident closes', async () => {
    const { id, channel } = await openIncident('reset-close');
    const { alice } = h.users;
    // Take command before the escalation is due: it must not fire.
    await h.client.slashCommand({ text: `lead <@${alice}|alice>`, userId: alice, channelId: channel });
    const firstNudge = await eventually(async () => {
      const r = ofKind(await entries(id), 'reminder_sent');
      expect(r).toHaveLength(1);
      return r[0]!;
    }, 10_000);

    // Half a cadence later, a status update: without a reset the next nudge would come 0.75 s after it.
    await halfCadenceAfter(firstNudge.at);
    const update = await h.client.slashCommand({
      text: 'status identified',
      userId: alice,
      channelId: channel,
    });
    expect(update.status).toBe(200);
    const changed = await eventually(async () => {
      const s = ofKind(await entries(id), 'status_changed');
      expect(s).toHaveLength(1);
      return s[0]!;
    });
    await eventually(async () => expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(2), 10_000);
    const after = ofKind(await entries(id), 'reminder_sent')[1]!;
    // Counted from the status update, not from the previous nudge.
    expect(Date.parse(after.at) - Date.parse(changed.at)).toBeGreaterThanOrEqual(CADENCE_MS - 50);
    expect(after.text).toContain(`<@${alice}>`);

    // A note is an update too: the cadence restarts from it (and does not stop).
    await halfCadenceAfter(after.at);
    await h.client.slashCommand({ text: 'note draining web-01', userId: alice, channelId: channel });
    const note = await eventually(async () => {
      const n = ofKind(await entries(id), 'note');
      expect(n).toHaveLength(1);
      return n[0]!;
    });
    const third = await eventually(async () => {
      const r = ofKind(await entries(id), 'reminder_sent');
      expect(r).toHaveLength(3);
      return r[2]!;
    }, 10_000);
    expect(Date.parse(third.at) - Date.parse(note.at)).toBeGreaterThanOrEqual(CADENCE_MS - 50);

    await h.client.slashCommand({ text: 'close Weights fixed', userId: alice, channelId: channel });
    await eventually(async () => expect(ofKind(await entries(id), 'closed')).toHaveLength(1));
    const pending = (await h.bot.rt.store.meta(id))['nudge-job']!;
    await eventually(async () => expect(await reminders().getJob(pending)).toBeUndefined());
    // The escalation never fired (a commander was set) and is gone.
    await eventually(async () => {
      const job = await reminders().getJob(`escalate-${id}`);
      expect(job === undefined || (await job.getState()) === 'completed').toBe(true);
    });
    const delayed = await reminders().getDelayed();
    expect(delayed.filter((j) => j.data.incidentId === id)).toEqual([]);
    expect(ofKind(await entries(id), 'escalated')).toHaveLength(0);
    // Two cadences later: still three nudges.
    const closedAt = Date.now();
    await eventually(() => expect(Date.now() - closedAt).toBeGreaterThan(2 * CADENCE_MS), 10_000, 100);
    expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(3);
  });

  it('sends no status nudge or escalation while the incident is resolved, and resumes the cadence when it reopens', async () => {
    const { id, channel } = await openIncident('resolved-reopen');
    const { alice } = h.users;
    const statusTo = async (to: string) => {
      const before = ofKind(await entries(id), 'status_changed').length;
      const r = await h.client.slashCommand({ text: `status ${to}`, userId: alice, channelId: channel });
      expect(r.status).toBe(200);
      return eventually(async () => {
        const s = ofKind(await entries(id), 'status_changed');
        expect(s).toHaveLength(before + 1);
        return s.at(-1)!;
      });
    };
    // Resolved before the first nudge and before the escalation (nobody took command) come due.
    await statusTo('resolved');
    const resolvedAt = Date.now();
    await eventually(() => expect(Date.now() - resolvedAt).toBeGreaterThan(2.5 * CADENCE_MS), 10_000, 100);
    expect(ofKind(await entries(id), 'reminder_sent')).toHaveLength(0);
    expect(ofKind(await entries(id), 'escalated')).toHaveLength(0);

    // Reopened: the cadence starts again from the status change.
    const reopened = await statusTo('investigating');
    const nudge = await eventually(async () => {
      const r = ofKind(await entries(id), 'reminder_sent');
      expect(r).toHaveLength(1);
      return r[0]!;
    }, 10_000);
    expect(Date.parse(nudge.at) - Date.parse(reopened.at)).toBeGreaterThanOrEqual(CADENCE_MS - 50);
  });
});
