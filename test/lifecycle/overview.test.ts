import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

// Merge, decline, list, report, channel archive and App Home through the real Bolt request path,
// real BullMQ workers, real Redis and the Slack sandbox. ARCHIVE_AFTER_DAYS is shortened to about
// two seconds (the same delayed job, a shorter delay).

let h: Harness;
let general: string;
const channels: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness('overview', {
    ARCHIVE_AFTER_DAYS: String(2 / 86_400),
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  });
  general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice, h.users.bob] }).id;
  for (const [id, text] of [
    ['INC-1', 'start sev2 Checkout 5xx'],
    ['INC-2', 'start sev3 Checkout latency'],
    ['INC-3', 'start sev3 Flappy probe'],
  ] as const) {
    await h.client.slashCommand({ text, userId: h.users.alice, channelId: general });
    channels[id] = await eventually(async () => {
      const inc = await h.bot.rt.store.current(id);
      expect(inc?.channelId).toBeTruthy();
      return inc!.channelId!;
    }, 30_000);
    await settled(h, id);
  }
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const say = async (text: string, channelId: string, userId = h.users.alice) =>
  ((await h.client.slashCommand({ text, userId, channelId })).body as { text: string }).text;
const entries = (id: string) => h.bot.rt.store.entries(id as IncidentId);
const texts = (channel: string) => h.sandbox.messages(channel).map((m) => m.text ?? '');

describe('the incident overview commands', () => {
  it('lists open incidents, most severe first, only to the caller', async () => {
    const r = await h.client.slashCommand({ text: 'list', userId: h.users.bob, channelId: general });
    const body = r.body as { text: string; response_type: string };
    expect(body.response_type).toBe('ephemeral');
    const lines = body.text.split('\n');
    expect(lines[0]).toBe('*Open incidents* (3)');
    expect(lines[1]).toMatch(
      new RegExp(
        `^\\*INC-1\\* SEV2 · investigating · no commander · open \\d+ s · <#${channels['INC-1']}> — Checkout 5xx$`,
      ),
    );
    expect(lines.slice(2).map((l) => l.slice(0, 12))).toEqual(['*INC-2* SEV3', '*INC-3* SEV3']);
  });

  it('refuses to merge the same, an unknown or a malformed incident, saying why', async () => {
    const c1 = channels['INC-1']!;
    expect(await say('merge INC-1', c1)).toBe(
      'INC-1 cannot be merged into itself. Name the other incident, e.g. `/incident merge INC-7`.',
    );
    expect(await say('merge INC-99', c1)).toBe('INC-99 does not exist. Check the id with `/incident list`.');
    expect(await say('merge checkout', c1)).toContain('Usage: `/incident merge INC-<n>`');
    expect(await say('merge INC-2', general)).toContain('This channel is not an incident channel.');
  });

  it('merges INC-2 into INC-1: recorded on both timelines, the other channel told where to go, no postmortem of its own', async () => {
    const [c1, c2] = [channels['INC-1']!, channels['INC-2']!];
    expect(await say('merge inc-2', c1)).toBe(
      'INC-2 merged into INC-1: 0 alert groups now feed this incident, and INC-2 is closed (its timeline is linked from this postmortem).',
    );
    expect(await say('merge INC-2', c1)).toBe('INC-2 was already merged into INC-1.');
    await settled(h, 'INC-1');
    await settled(h, 'INC-2');
    expect((await entries('INC-1')).filter((e) => e.kind === 'incident_merged')).toEqual([
      expect.objectContaining({ mergedId: 'INC-2', mergedChannelId: c2 }),
    ]);
    const closed = (await entries('INC-2')).filter((e) => e.kind === 'closed');
    expect(closed).toEqual([
      expect.objectContaining({ as: 'merged', mergedInto: 'INC-1', mergedIntoChannelId: c1 }),
    ]);
    expect(texts(c2).some((t) => t.includes(`merged into INC-1`) && t.includes(`Continue in <#${c1}>`))).toBe(
      true,
    );
    expect(texts(c1).some((t) => t.includes('INC-2 merged into INC-1'))).toBe(true);
    expect((await h.bot.rt.store.meta('INC-2'))['postmortem-owed']).toBeUndefined();
  });

  it('declines a false alarm without a postmortem, refuses once a cause is confirmed, and refuses to merge a declined incident', async () => {
    const [c1, c3] = [channels['INC-1']!, channels['INC-3']!];
    expect(await say('decline probe flapped', c3)).toBe(
      'INC-3 declined as a false alarm; no postmortem will be drafted.',
    );
    await settled(h, 'INC-3');
    expect((await entries('INC-3')).at(-1)).toMatchObject({
      kind: 'closed',
      as: 'declined',
      resolution: 'probe flapped',
    });
    expect(texts(c3).some((t) => t.includes('declined as a false alarm'))).toBe(true);
    expect(await say('merge INC-3', c1)).toBe(
      'INC-3 is already declined, so it cannot be merged. Only open incidents can be merged; see `/incident list`.',
    );

    await say('suspect load-balancer: weights', c1);
    await say('confirm H1 web1 takes 98%', c1);
    expect(await say('decline', c1)).toBe(
      'INC-1 has a confirmed cause (H1: weights), so it is not a false alarm. Close it with `/incident close [resolution]` to get its postmortem.',
    );
  });

  it('closes the surviving incident with a draft that links the merged timeline, archives the channels after close, and shows them in list --all and the report', async () => {
    const c1 = channels['INC-1']!;
    await say('status resolved', c1);
    await say('close fixed the weights', c1);
    await eventually(async () => expect(h.sandbox.files(c1).length).toBe(1), 30_000);
    const draft = (await entries('INC-1')).find((e) => e.kind === 'postmortem_drafted');
    expect(draft).toBeDefined();
    const { readFileSync } = await import('node:fs');
    expect(readFileSync((draft as { path: string }).path, 'utf8')).toContain(
      'INC-2 merged into this incident',
    );
    for (const id of ['INC-2', 'INC-3']) expect(h.sandbox.files(channels[id]!)).toHaveLength(0);

    // Archived about two seconds after each close, by the delayed job.
    await eventually(async () => {
      for (const id of ['INC-1', 'INC-2', 'INC-3'])
        expect(h.sandbox.channel(channels[id]!)?.is_archived, id).toBe(true);
    }, 30_000);
    expect(h.sandbox.transcriptFor('conversations.archive').filter((e) => e.ok)).toHaveLength(3);
    expect(h.sandbox.channel(general)?.is_archived).toBe(false);
    // The job records the archive after Slack's answer: wait for that too, not only for the channel.
    await eventually(async () => expect((await h.bot.rt.store.meta('INC-1')).archived).toBeDefined(), 10_000);

    const all = await say('list --all', general);
    expect(all).toContain('*Open incidents* (0)');
    expect(all).toMatch(/\*INC-1\* SEV2 · closed · lasted /);
    expect(all).toMatch(/\*INC-2\* SEV3 · merged · lasted /);
    expect(all).toMatch(/\*INC-3\* SEV3 · declined · lasted /);

    const report = await say('report 30d', general);
    expect(report).toMatch(/^SEV2 +1 +0 +0 /m);
    expect(report).toMatch(/^SEV3 +0 +1 +1 /m);
    expect(report).toMatch(/^all +1 +1 +1 /m);
    expect(await say('report forever', general)).toContain('Usage: `/incident report [30d]`');

    const metrics = await (await fetch(`http://127.0.0.1:${h.bot.port}/metrics`)).text();
    expect(metrics).toContain(
      'incident_bot_incident_duration_seconds_count{metric="resolve",severity="SEV2"} 1',
    );
  });
});

describe('App Home', () => {
  const published = (user: string) =>
    h.sandbox.transcriptFor('views.publish').filter((e) => e.ok && e.args.user_id === user);
  const viewText = (e: { args: Record<string, unknown> }) => JSON.stringify(e.args.view);

  it('publishes the Home tab when it is opened and again, once, when an incident changes', async () => {
    const bob = h.users.bob;
    await h.client.event({ type: 'app_home_opened', user: bob, channel: 'D0BOB', tab: 'home' });
    await eventually(async () => expect(published(bob)).toHaveLength(1), 30_000);
    const first = viewText(published(bob)[0]!);
    expect(first).toContain('Declare incident');
    expect(first).toContain('No open incidents.');
    expect(first).toContain('*INC-3* SEV3 · declined');

    await h.client.slashCommand({
      text: 'start sev1 Search down',
      userId: h.users.alice,
      channelId: general,
    });
    await eventually(async () => {
      const views = published(bob).map(viewText);
      expect(views.at(-1)).toContain('*INC-4* Search down');
      expect(views.at(-1)).toContain(`<#${(await h.bot.rt.store.current('INC-4'))?.channelId}>`);
    }, 30_000);
    await settled(h, 'INC-4');

    // Two refreshes of the same viewer at once, with nothing changed since: no second publish.
    const before = published(bob).length;
    const q = h.bot.rt.jobs.queues.home;
    await Promise.all([
      q.add('refresh-home', { userId: bob }, { jobId: 'home-test-a' }),
      q.add('refresh-home', { userId: bob }, { jobId: 'home-test-b' }),
    ]);
    await eventually(async () => {
      expect(await q.getJobState('home-test-a')).toBe('completed');
      expect(await q.getJobState('home-test-b')).toBe('completed');
    }, 30_000);
    expect(published(bob)).toHaveLength(before);
  });

  it('opens the start form from the Home tab’s Declare incident button', async () => {
    const r = await h.client.viewBlockAction({ actionId: 'home-declare-incident', userId: h.users.bob });
    expect(r.status).toBe(200);
    await eventually(() => {
      const opened = h.sandbox
        .transcriptFor('views.open')
        .filter((e) => e.ok && e.args.trigger_id === r.triggerId);
      expect(opened).toHaveLength(1);
      expect(JSON.stringify(opened[0]!.args.view)).toContain('Declare an incident');
    }, 30_000);
  });
});
