import { describe, expect, it } from 'vitest';
import { dispatch } from '../../commands/index.js';
import { DomainError, RecordedButIncomplete } from '../../src/core/errors.js';
import type { IncidentId } from '../../src/core/incident-model.js';
import type { NewEntry } from '../../src/core/timeline.js';
import { declareIncident } from '../../src/flows/declare.js';
import type { Deps } from '../../src/flows/deps.js';
import { mutate } from '../../src/flows/record.js';
import { commandReplyText } from '../../src/slack/app.js';
import { type FlowWorld, flowWorld } from './support.js';

const by = { actor: { type: 'user', id: 'U0123ABCD' }, source: 'slash' } as const;

async function openIncident(w: FlowWorld): Promise<IncidentId> {
  return (await declareIncident(w.deps, { title: 'Checkout returns 502', severity: 'SEV2', ...by })).id;
}

const noteOf = (deps: Deps, id: IncidentId, text: string) => (): NewEntry[] => [
  { kind: 'note', incidentId: id, at: deps.now().toISOString(), ...by, text },
];

describe('mutate', () => {
  it('reports a change whose delivery cannot be queued as recorded but incomplete', async () => {
    const w = flowWorld();
    const id = await openIncident(w);
    w.jobs.failNext('enqueue', new Error('Connection is closed.'));

    const err = await mutate(w.deps, id, noteOf(w.deps, id, 'LB pool b drained'), {
      claimKey: 'slack-1',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordedButIncomplete);
    expect(err).toMatchObject({ incidentId: id, seqs: [2] });
    expect((err as Error).message).toContain('Connection is closed.');
    expect((await w.store.entries(id)).map((e) => e.kind)).toEqual(['declared', 'note']);
    expect(w.jobs.jobs('deliver')).toEqual([]);

    // Slack retries the command: the claim keeps it from being recorded twice.
    const retry = await mutate(w.deps, id, noteOf(w.deps, id, 'LB pool b drained'), { claimKey: 'slack-1' });
    expect(retry).toMatchObject({ duplicate: true, seqs: [] });
    expect(await w.store.timelineLength(id)).toBe(2);
  });

  it('reports a change whose snapshot cannot be saved as recorded but incomplete', async () => {
    const w = flowWorld();
    const id = await openIncident(w);
    w.store.failNext('saveSnapshot');
    await expect(mutate(w.deps, id, noteOf(w.deps, id, 'x'))).rejects.toBeInstanceOf(RecordedButIncomplete);
    expect(await w.store.timelineLength(id)).toBe(2);
  });

  it('reports a store error before the append as a plain failure, with nothing recorded', async () => {
    const w = flowWorld();
    const id = await openIncident(w);
    w.store.failNext('append', new Error('READONLY You cannot write against a read only replica.'));
    const err = await mutate(w.deps, id, noteOf(w.deps, id, 'x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(RecordedButIncomplete);
    expect(err).not.toBeInstanceOf(DomainError);
    expect(await w.store.timelineLength(id)).toBe(1);
  });

  it('retries on a concurrent change and appends after it', async () => {
    const w = flowWorld();
    const id = await openIncident(w);
    let raced = false;
    const rec = await mutate(w.deps, id, (inc) => {
      if (!raced) {
        raced = true;
        // Another process appends between this read and its append.
        void w.store.append(id, noteOf(w.deps, id, 'from elsewhere')());
      }
      return [
        {
          kind: 'note',
          incidentId: id,
          at: w.deps.now().toISOString(),
          ...by,
          text: `after ${inc.entryCount}`,
        },
      ];
    });
    expect(rec.seqs).toEqual([3]);
    const entries = await w.store.entries(id);
    expect(entries.map((e) => (e.kind === 'note' ? e.text : e.kind))).toEqual([
      'declared',
      'from elsewhere',
      'after 2',
    ]);
  });
});

describe('a slash command carried out once but received twice', () => {
  // The Redis client resends a command whose connection dropped before the answer: the resend finds
  // the first attempt applied. The person who typed the command must still get an answer.
  it('answers the note it recorded, and a repeated start with what was done, never with nothing', async () => {
    const w = flowWorld();
    const id = await openIncident(w);
    await w.store.indexChannel('C0INC0001', id);
    const ctx = { deps: w.deps, userId: 'U0123ABCD', channelId: 'C0INC0001', claimKey: 'slash-1.2.abc' };
    const first = await dispatch(ctx, 'note LB pool b drained');
    const again = await dispatch(ctx, 'note LB pool b drained');
    expect(first.duplicate).toBe(false);
    expect(again.duplicate).toBe(true);
    expect(commandReplyText(again)).toBe(`Noted on ${id}'s timeline.`);
    expect((await w.store.entries(id)).filter((e) => e.kind === 'note')).toHaveLength(1);

    const startCtx = { ...ctx, channelId: 'C0GENERAL', claimKey: 'slash-3.4.def' };
    const declared = await dispatch(startCtx, 'start sev2 Checkout 502s');
    const repeated = await dispatch(startCtx, 'start sev2 Checkout 502s');
    expect(repeated).toMatchObject({ duplicate: true, incidentId: declared.incidentId });
    expect(commandReplyText(repeated)).toBe(
      `:information_source: Already done: this request reached incident-bot more than once and was carried out once (${declared.incidentId}). Nothing was repeated.`,
    );
    expect(commandReplyText(declared)).toBe(declared.text);
  });
});
