import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { CLOSE_INCIDENT_ACTION } from '../../src/slack/alert-render.js';
import { fixture, ingested, postAlert, TOKEN } from '../alerts-e2e/support.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

// Who may close, lower the severity and hand over command: the incident commander, the declarer
// and INCIDENT_ADMINS (here a user group, resolved with usergroups.users.list); everyone else gets
// an ephemeral refusal naming who can. Over the real Bolt request path, with the Slack sandbox.

let h: Harness;
let dave: string;
let erin: string;
let admins: string;
beforeAll(async () => {
  h = await startHarness(
    'permissions',
    {
      ALERT_WEBHOOK_TOKEN: TOKEN,
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    },
    {
      envFrom: (sandbox) => {
        dave = sandbox.addUser({ name: 'dave' }).id;
        erin = sandbox.addUser({ name: 'erin' }).id;
        admins = sandbox.addUserGroup({ handle: 'incident-admins', users: [dave] }).id;
        return { INCIDENT_ADMINS: admins };
      },
    },
  );
});
afterAll(async () => {
  await h?.close();
});

const kinds = async (id: string) => (await h.bot.rt.store.entries(id as IncidentId)).map((e) => e.kind);

async function declare(title: string, userId: string): Promise<{ id: string; channel: string }> {
  const general = h.sandbox.channelByName('general') ?? h.sandbox.addChannel({ name: 'general' });
  const r = await h.client.slashCommand({ text: `start sev2 ${title}`, userId, channelId: general.id });
  const id = /INC-\d+/.exec(JSON.stringify(r.body))![0];
  await settled(h, id);
  const inc = await h.bot.rt.store.current(id as IncidentId);
  return { id, channel: inc!.channelId! };
}

const say = async (userId: string, channelId: string, text: string) =>
  String(((await h.client.slashCommand({ text, userId, channelId })).body as { text?: string }).text);

describe('who may close, lower the severity and hand over command', () => {
  it('refuses them to a bystander with a reply naming who can, and lets the declarer and the commander', async () => {
    const { alice, bob, carol } = h.users;
    const { id, channel } = await declare('Checkout 502s', alice);

    // Bob is neither declarer, commander nor admin: each guarded change is refused, privately.
    const closeRefused = await say(bob, channel, 'close it is fine');
    expect(closeRefused).toContain(
      `Only the declarer <@${alice}> or an incident admin (<!subteam^${admins}>) can close ${id}`,
    );
    expect(await say(bob, channel, 'sev 4')).toContain(`can lower ${id}'s severity (SEV2 → SEV4)`);
    // Raising the severity and taking command while nobody holds it are open to anyone.
    expect(await say(bob, channel, 'sev 1')).toBe(`${id} is now SEV1.`);
    expect(await say(bob, channel, `lead <@${carol}|carol>`)).toContain(
      `<@${carol}> is the incident commander`,
    );
    // With a commander, handing command over is theirs (or the declarer's, or an admin's).
    expect(await say(bob, channel, `lead <@${bob}|bob>`)).toContain(
      `Only the incident commander <@${carol}>, the declarer <@${alice}> or an incident admin (<!subteam^${admins}>) can hand over command of ${id}`,
    );
    expect(await say(carol, channel, `lead <@${bob}|bob>`)).toContain(`<@${bob}> is the incident commander`);
    expect(await say(bob, channel, 'sev 3')).toBe(`${id} is now SEV3.`);
    expect(await say(alice, channel, 'close rolled back')).toContain(`${id} closed`);

    const es = await h.bot.rt.store.entries(id as IncidentId);
    expect(
      es.filter((e) => e.kind === 'severity_changed').map((e) => [e.actor, (e as { to: string }).to]),
    ).toEqual([
      [{ type: 'user', id: bob }, 'SEV1'],
      [{ type: 'user', id: bob }, 'SEV3'],
    ]);
    expect(es.filter((e) => e.kind === 'role_assigned').map((e) => (e as { userId: string }).userId)).toEqual(
      [carol, bob],
    );
    expect(es.find((e) => e.kind === 'closed')).toMatchObject({
      actor: { id: alice },
      resolution: 'rolled back',
    });
    // The refusals were answered to the person only: nothing about them reached the channel.
    await settled(h, id);
    expect(h.sandbox.messages(channel).some((m) => m.text.includes('Only '))).toBe(false);
  });

  it('lets a member of an admin user group close, looking the group up with usergroups.users.list', async () => {
    const { alice } = h.users;
    const { id, channel } = await declare('Search timeouts', alice);
    expect(await say(erin, channel, 'close')).toContain(`can close ${id}`);
    expect(await say(dave, channel, 'close done by an admin')).toContain(`${id} closed`);
    const lookups = h.sandbox.transcriptFor('usergroups.users.list');
    expect(lookups.length).toBeGreaterThan(0);
    expect(lookups.at(-1)).toMatchObject({
      ok: true,
      args: { usergroup: admins },
      response: { users: [dave] },
    });
    expect(await kinds(id)).toContain('closed');
  });

  it('applies the same rule to the Close button of the all-resolved alert notice', async () => {
    const firing = fixture('alertmanager-v4-firing.json');
    firing.groupKey = '{}:{alertname="PermissionsButton"}';
    firing.alerts = [firing.alerts[0]];
    const base = `http://127.0.0.1:${h.bot.port}`;
    const r1 = await postAlert(base, 'alertmanager', firing);
    expect(await ingested(h.bot.rt.jobs.queues.alerts, r1.body.deliveryId)).toMatchObject({
      outcome: 'declared',
    });
    const id = (await h.bot.rt.store.boundIncident(r1.body.groupId))!;
    const resolved = structuredClone(firing);
    resolved.status = 'resolved';
    resolved.alerts[0].status = 'resolved';
    resolved.alerts[0].endsAt = '2024-05-01T10:20:00Z';
    const r2 = await postAlert(base, 'alertmanager', resolved);
    await ingested(h.bot.rt.jobs.queues.alerts, r2.body.deliveryId);
    const notice = await h.sandbox.waitForMessage((m) => m.text.includes(`of ${id} have resolved`));

    // An alert declared it and nobody took command: only the admins may close it.
    const click = (userId: string) =>
      h.client.blockAction({
        actionId: CLOSE_INCIDENT_ACTION,
        value: id,
        userId,
        channelId: notice.channel,
        messageTs: notice.ts,
      });
    expect((await click(erin)).status).toBe(200);
    const refusal = await h.sandbox.waitForEphemeral(
      (m) => m.user === erin && m.text.includes(`can close ${id}`),
    );
    expect(refusal.text).toContain(`Only an incident admin (<!subteam^${admins}>) can close ${id}`);
    expect(refusal.text).toContain('/incident lead @you');
    expect(await kinds(id)).not.toContain('closed');

    await click(dave);
    await eventually(async () => expect(await kinds(id)).toContain('closed'));
    const closed = (await h.bot.rt.store.entries(id)).find((e) => e.kind === 'closed');
    expect(closed).toMatchObject({ actor: { type: 'user', id: dave }, source: 'button' });
  });
});
