import { describe, expect, it } from 'vitest';
import type { Checkpoint } from '../../src/core/checkpoints.js';
import { DomainError, RecordedButIncomplete } from '../../src/core/errors.js';
import { changeStatus, closeIncident } from '../../src/flows/change-status.js';
import { declareIncident } from '../../src/flows/declare.js';
import type { Deps } from '../../src/flows/deps.js';
import { flowWorld } from './support.js';

const by = { actor: { type: 'user', id: 'U0123ABCD' }, source: 'slash' } as const;

async function openIncident(deps: Deps) {
  const { id } = await declareIncident(deps, {
    title: 'Checkout returns 502',
    severity: 'SEV2',
    ...by,
    alertGroupId: 'grp-checkout',
  });
  return id;
}

describe('closeIncident', () => {
  it('records the close, queues its postmortem draft once, stops reminders and leaves the open index', async () => {
    const steps: Checkpoint[] = [];
    const w = flowWorld({ checkpoint: (s) => steps.push(s) });
    const id = await openIncident(w.deps);
    w.advance(60_000);
    await changeStatus(w.deps, id, 'identified', by);
    const nudge = (await w.store.meta(id))['nudge-job']!;
    expect(w.jobs.jobs('reminder').map((j) => j.jobId)).toEqual([nudge]);
    steps.length = 0;

    w.advance(60_000);
    const rec = await closeIncident(w.deps, id, 'rolled back the LB config', {
      ...by,
      claimKey: 'trigger-1',
    });

    expect(rec.duplicate).toBe(false);
    expect(rec.incident.status).toBe('closed');
    const last = (await w.store.entries(id)).at(-1)!;
    expect(last).toMatchObject({ kind: 'closed', seq: rec.seqs[0], resolution: 'rolled back the LB config' });
    expect(steps).toEqual([
      'close:recorded',
      'close:reminders-cancelled',
      'close:postmortem-queued',
      'close:indexes-left',
    ]);
    const meta = await w.store.meta(id);
    expect(meta['close-owed']).toBeUndefined();
    expect(meta['postmortem-owed']).toBe(last.at);
    expect(w.jobs.jobs('draft-postmortem')).toEqual([
      expect.objectContaining({
        jobId: `postmortem-${id}-close`,
        payload: { incidentId: id, onClose: true },
      }),
    ]);
    expect(w.jobs.jobs('reminder')).toEqual([]);
    expect(w.jobs.jobs('deliver').map((j) => j.jobId)).toContain(`deliver-${id}-${rec.seqs[0]}`);
    expect(await w.store.openIncidents()).toEqual([]);
    expect(await w.store.closingIncidents()).toEqual([id]);
    expect(await w.store.boundIncident('grp-checkout')).toBeUndefined();
    expect(await w.store.lastIncident('grp-checkout')).toBe(id);

    // Closing again is refused and queues no second draft.
    await expect(
      closeIncident(w.deps, id, undefined, { ...by, claimKey: 'trigger-1' }),
    ).rejects.toMatchObject({
      code: 'INCIDENT_CLOSED',
    });
    expect(w.jobs.jobs('draft-postmortem')).toHaveLength(1);
    expect((await w.store.entries(id)).filter((e) => e.kind === 'closed')).toHaveLength(1);
  });

  it('a close whose follow-up fails is reported as recorded, and a retried close finishes it', async () => {
    const w = flowWorld();
    const id = await openIncident(w.deps);
    w.store.failNext('leaveOpenIndex', new Error('READONLY You cannot write against a read only replica.'));

    const err = await closeIncident(w.deps, id, 'fixed', by).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordedButIncomplete);
    const seq = (await w.store.timelineLength(id)) as number;
    expect(err).toMatchObject({ incidentId: id, seqs: [seq] });
    expect((await w.store.current(id))?.status).toBe('closed');
    expect((await w.store.meta(id))['close-owed']).toBeDefined();
    expect(await w.store.openIncidents()).toEqual([id]);
    expect(await w.store.boundIncident('grp-checkout')).toBe(id);

    // The person runs `/incident close` again.
    const again = await closeIncident(w.deps, id, 'fixed', by).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(DomainError);
    expect(again).toMatchObject({ code: 'INCIDENT_CLOSED' });
    expect(await w.store.openIncidents()).toEqual([]);
    expect(await w.store.closingIncidents()).toEqual([id]);
    expect(await w.store.boundIncident('grp-checkout')).toBeUndefined();
    const meta = await w.store.meta(id);
    expect(meta['close-owed']).toBeUndefined();
    expect(meta['postmortem-owed']).toBeDefined();
    expect(w.jobs.jobs('draft-postmortem')).toHaveLength(1);
    expect((await w.store.entries(id)).filter((e) => e.kind === 'closed')).toHaveLength(1);
  });

  it('a close whose channel post cannot be queued still finishes its follow-up', async () => {
    const w = flowWorld();
    const id = await openIncident(w.deps);
    w.jobs.failNext('enqueue', new Error('Connection is closed.'));

    await expect(closeIncident(w.deps, id, undefined, by)).rejects.toBeInstanceOf(RecordedButIncomplete);
    expect(w.jobs.jobs('deliver')).toEqual([]);
    expect(w.jobs.jobs('draft-postmortem')).toHaveLength(1);
    expect(await w.store.openIncidents()).toEqual([]);
    expect(await w.store.boundIncident('grp-checkout')).toBeUndefined();
    expect((await w.store.meta(id))['close-owed']).toBeUndefined();
  });
});
