import { describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { closeIncident } from '../../src/flows/change-status.js';
import { declareIncident } from '../../src/flows/declare.js';
import type { Deps } from '../../src/flows/deps.js';
import { sweep } from '../../src/flows/sweep.js';
import { webhookReceivers } from '../../src/outbound/webhook.js';
import { Crash, crashOnceAt, flowWorld } from './support.js';

const by = { actor: { type: 'user', id: 'U0123ABCD' }, source: 'slash' } as const;

/** What a sweep did: its non-empty lists (so a sweep that did nothing is `{}`). */
async function swept(deps: Deps): Promise<Record<string, IncidentId[]>> {
  const res = await sweep(deps);
  return Object.fromEntries(Object.entries(res).filter(([, ids]) => ids.length > 0));
}

async function openIncident(deps: Deps): Promise<IncidentId> {
  const { id } = await declareIncident(deps, {
    title: 'Checkout returns 502',
    severity: 'SEV2',
    ...by,
    alertGroupId: 'grp-checkout',
  });
  return id;
}

describe('sweep', () => {
  it('finishes a close cut short right after it was recorded', async () => {
    const w = flowWorld({ checkpoint: crashOnceAt('close:recorded') });
    const id = await openIncident(w.deps);
    await expect(closeIncident(w.deps, id, 'fixed', by)).rejects.toBeInstanceOf(Crash);
    expect((await w.store.meta(id))['close-owed']).toBeDefined();
    expect(await w.store.openIncidents()).toEqual([id]);
    expect(w.jobs.jobs('draft-postmortem')).toEqual([]);

    w.advance(60_000);
    expect(await swept(w.deps)).toEqual({ closes: [id] });
    expect(w.jobs.jobs('draft-postmortem')).toEqual([
      expect.objectContaining({
        jobId: `postmortem-${id}-close`,
        payload: { incidentId: id, onClose: true },
      }),
    ]);
    expect(await w.store.openIncidents()).toEqual([]);
    expect(await w.store.closingIncidents()).toEqual([id]);
    expect(await w.store.boundIncident('grp-checkout')).toBeUndefined();
    expect((await w.store.meta(id))['close-owed']).toBeUndefined();

    // Nothing is left to finish.
    expect(await swept(w.deps)).toEqual({});
    expect(w.jobs.jobs('draft-postmortem')).toHaveLength(1);
  });

  it('re-queues an owed postmortem draft whose job is gone, and forgets a drafted one', async () => {
    const w = flowWorld();
    const id = await openIncident(w.deps);
    await closeIncident(w.deps, id, 'fixed', by);
    w.jobs.drop('draft-postmortem', `postmortem-${id}-close`);

    expect(await swept(w.deps)).toEqual({ postmortems: [id] });
    expect(w.jobs.jobs('draft-postmortem')).toEqual([
      expect.objectContaining({
        jobId: `postmortem-${id}-close`,
        payload: { incidentId: id, onClose: true },
      }),
    ]);
    expect(await swept(w.deps)).toEqual({});

    // The draft job ran (it clears the mark) and its job was removed after completing.
    await w.store.deleteMeta(id, 'postmortem-owed');
    w.jobs.drop('draft-postmortem', `postmortem-${id}-close`);
    expect(await swept(w.deps)).toEqual({});
    expect(await w.store.closingIncidents()).toEqual([]);
    expect(w.jobs.jobs('draft-postmortem')).toEqual([]);
  });

  it('writes a declaration a crash left pending once it is older than 30 s, and queues its channel setup', async () => {
    const w = flowWorld();
    const crashing = { ...w.deps, store: w.store.withCheckpoint(crashOnceAt('declare:reserved')) };
    await expect(
      declareIncident(crashing, {
        title: 'Checkout returns 502',
        severity: 'SEV1',
        ...by,
        claimKey: 'view-1',
      }),
    ).rejects.toBeInstanceOf(Crash);
    const pending = await w.store.pendingDeclarations();
    expect(pending).toHaveLength(1);
    const { id } = pending[0]!;
    expect(w.jobs.jobs('setup-channel')).toEqual([]);

    // Young: the request that reserved it may still be writing it.
    w.advance(10_000);
    expect(await swept(w.deps)).toEqual({});
    expect(await w.store.timelineLength(id)).toBe(0);

    w.advance(21_000);
    expect(await swept(w.deps)).toEqual({ declarations: [id] });
    expect(await w.store.pendingDeclarations()).toEqual([]);
    expect((await w.store.entries(id)).map((e) => e.kind)).toEqual(['declared']);
    expect((await w.store.current(id))?.severity).toBe('SEV1');
    expect(w.jobs.jobs('setup-channel')).toEqual([
      expect.objectContaining({ jobId: `setup-${id}`, payload: { incidentId: id } }),
    ]);
    expect(await swept(w.deps)).toEqual({});
  });

  it('queues a delivery for an open incident whose channel is behind its timeline', async () => {
    const w = flowWorld();
    const id = await openIncident(w.deps);
    const bot = {
      actor: { type: 'bot' },
      source: 'bot',
      incidentId: id,
      at: w.deps.now().toISOString(),
    } as const;
    await w.store.append(id, [
      { ...bot, kind: 'channel_created', channelId: 'C0INC1', channelName: 'inc-1-checkout' },
      { ...bot, kind: 'summary_posted', channelId: 'C0INC1', ts: '1714557600.000100' },
    ]);
    await w.store.setDeliveredCursor(id, 1);

    expect(await swept(w.deps)).toEqual({ deliveries: [id] });
    expect(w.jobs.jobs('deliver').map((j) => j.jobId)).toEqual([
      `deliver-${id}-sweep-${Math.floor(w.deps.now().getTime() / 60_000)}`,
    ]);
    await w.store.setDeliveredCursor(id, 3);
    w.advance(60_000);
    expect(await swept(w.deps)).toEqual({});
  });

  it('queues the channel setup of a declaration killed before it queued its own', async () => {
    const w = flowWorld({ checkpoint: crashOnceAt('declare:recorded') });
    await expect(
      declareIncident(w.deps, { title: 'Checkout returns 502', severity: 'SEV2', ...by, claimKey: 'view-2' }),
    ).rejects.toBeInstanceOf(Crash);
    expect(w.jobs.jobs('setup-channel')).toEqual([]);
    expect(await w.store.openIncidents()).toEqual(['INC-1']);

    await sweep(w.deps);
    expect(w.jobs.jobs('setup-channel')).toEqual([
      expect.objectContaining({ jobId: 'setup-INC-1', payload: { incidentId: 'INC-1' } }),
    ]);
  });

  it('schedules again the reminders of an incident the key-layout migration marked', async () => {
    const w = flowWorld();
    const id = await openIncident(w.deps);
    await w.store.setMeta(id, { 'reschedule-reminders': w.deps.now().toISOString() });

    expect(await swept(w.deps)).toEqual({ reminders: [id] });
    expect(
      w.jobs
        .jobs('reminder')
        .map((j) => j.jobId)
        .sort(),
    ).toEqual([`escalate-${id}`, `nudge-${id}-${w.deps.now().getTime()}`].sort());
    expect((await w.store.meta(id))['reschedule-reminders']).toBeUndefined();
    expect(await swept(w.deps)).toEqual({});
  });

  it('queues an outgoing webhook job for a receiver left behind by a lost enqueue, and only then', async () => {
    const w = flowWorld();
    const url = 'https://hooks.example.com/incident';
    w.deps.config = {
      ...w.deps.config,
      OUTGOING_WEBHOOK_URLS: [url],
      OUTGOING_WEBHOOK_SECRET: 'x'.repeat(16),
    };
    const id = await openIncident(w.deps);
    const at = w.deps.now().toISOString();
    const bot = { incidentId: id, at, actor: { type: 'bot' as const }, source: 'bot' as const };
    await w.store.append(id, [
      { ...bot, kind: 'channel_created', channelId: 'C1', channelName: 'inc-1' },
      { ...bot, kind: 'summary_posted', channelId: 'C1', ts: '1.1' },
    ]);
    await w.store.setDeliveredCursor(id, 3);
    const receiver = webhookReceivers([url])[0]!.id;
    const before = w.jobs.jobs('outgoing-webhook').length;
    await swept(w.deps);
    expect(w.jobs.jobs('outgoing-webhook').map((j) => j.jobId)).toContain(`webhook-${receiver}-${id}-3`);
    expect(w.jobs.jobs('outgoing-webhook').length).toBe(before + 1);

    await w.store.advanceWebhookCursor(id, receiver, 3);
    w.jobs.drop('outgoing-webhook', `webhook-${receiver}-${id}-3`);
    await swept(w.deps);
    expect(w.jobs.jobs('outgoing-webhook').map((j) => j.jobId)).not.toContain(`webhook-${receiver}-${id}-3`);
  });
});
