import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { announcementOf } from '../../src/flows/setup-channel.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';
import { startFormState } from '../support/start-form.js';

// Private incidents: `/incident start --private …` and the form's checkbox open a private channel;
// the announce channel hears only that a private incident was declared; escalation stays in the
// incident's own channel; the declared entry and the folded state say `private: true`.

let h: Harness;
beforeAll(async () => {
  h = await startHarness(
    'private-incident',
    {
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      // SEV2 escalates after 1.2 s when nobody takes command: quick enough to see where it goes.
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0.02,SEV3=0,SEV4=0',
    },
    { envFrom: (_, u) => ({ INCIDENT_ESCALATION_USERS: u.bob }) },
  );
});
afterAll(async () => {
  await h?.close();
});

const announced = () => h.sandbox.messages(h.announceChannel).map((m) => m.text);

describe('a private incident', () => {
  it('opens a private channel, announces only that a private incident was declared, and escalates in its own channel', async () => {
    const { alice, bob, carol } = h.users;
    const general = h.sandbox.addChannel({ name: 'general', members: [alice, bob, carol] }).id;
    const r = await h.client.slashCommand({
      text: 'start --private sev2 Payroll export leaked to a vendor',
      userId: alice,
      channelId: general,
    });
    expect(r.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('declared as a private incident'),
    });
    const id = /INC-\d+/.exec(JSON.stringify(r.body))![0] as IncidentId;
    await settled(h, id);

    const created = h.sandbox.transcriptFor('conversations.create').at(-1)!;
    expect(String(created.args.is_private)).toBe('true');
    const inc = (await h.bot.rt.store.current(id))!;
    expect(inc.private).toBe(true);
    expect(inc.title).toBe('Payroll export leaked to a vendor');
    const channel = h.sandbox.channel(inc.channelId!)!;
    expect(channel.is_private).toBe(true);
    expect(new Set(channel.members)).toEqual(new Set([h.sandbox.botUserId, alice, carol]));
    expect(h.sandbox.pins(channel.id)).toHaveLength(1);
    expect((await h.bot.rt.store.entries(id))[0]).toMatchObject({ kind: 'declared', private: true });

    // The escalation mentions bob in the incident channel only.
    await eventually(async () => {
      expect((await h.bot.rt.store.entries(id)).some((e) => e.kind === 'escalated')).toBe(true);
    });
    await settled(h, id);
    expect(h.sandbox.messages(channel.id).some((m) => m.text.includes(`<@${bob}>`))).toBe(true);
    expect(announced()).toEqual([':lock: A private incident was declared.']);
    for (const text of announced()) {
      expect(text).not.toContain(id);
      expect(text).not.toContain('Payroll');
      expect(text).not.toContain(channel.id);
    }

    // Commands work in the private channel as in any incident channel.
    const note = await h.client.slashCommand({
      text: 'note vendor notified',
      userId: alice,
      channelId: channel.id,
    });
    expect(note.body).toMatchObject({ text: expect.stringContaining('Noted') });
  });

  it('is declared private from the start form’s checkbox', async () => {
    const { bob } = h.users;
    const general = h.sandbox.channelByName('general')!.id;
    await h.client.slashCommand({ text: 'start', userId: bob, channelId: general });
    await h.sandbox.waitFor((e) => e.method === 'views.open' && e.ok);
    const view = h.sandbox.views().at(-1)!;
    expect(JSON.stringify(view.blocks)).toContain('Private incident');
    const before = announced().length;
    const sub = await h.client.viewSubmission({
      viewId: view.id,
      callbackId: 'start_incident',
      userId: bob,
      stateValues: startFormState({ title: 'Access review finding', severity: 'SEV3', private: true }),
    });
    expect(sub.status).toBe(200);
    const created = await h.sandbox.waitFor(
      (e) => e.method === 'conversations.create' && e.ok && String(e.args.name).includes('access-review'),
    );
    expect(String(created.args.is_private)).toBe('true');
    const id = await eventually(async () => {
      const found = await h.bot.rt.store.incidentByChannel((created.response.channel as { id: string }).id);
      expect(found).toBeDefined();
      return found!;
    });
    await settled(h, id);
    expect((await h.bot.rt.store.current(id))!.private).toBe(true);
    expect(announced().slice(before)).toEqual([':lock: A private incident was declared.']);
  });

  it('stays public without the flag, and a private one is not announced at all with INCIDENT_PRIVATE_ANNOUNCE=none', async () => {
    const { alice } = h.users;
    const general = h.sandbox.channelByName('general')!.id;
    const r = await h.client.slashCommand({
      text: 'start sev3 Slow search',
      userId: alice,
      channelId: general,
    });
    const id = /INC-\d+/.exec(JSON.stringify(r.body))![0] as IncidentId;
    await settled(h, id);
    const inc = (await h.bot.rt.store.current(id))!;
    expect(inc.private).toBe(false);
    expect(h.sandbox.channel(inc.channelId!)!.is_private).toBe(false);
    expect(announced().at(-1)).toContain(`${id} (SEV3) declared: Slow search`);
    expect(announcementOf({ ...inc, private: true }, inc.channelId!, 'none')).toBeUndefined();
    expect(announcementOf({ ...inc, private: true }, inc.channelId!, 'minimal')).toBe(
      ':lock: A private incident was declared.',
    );
  });
});
