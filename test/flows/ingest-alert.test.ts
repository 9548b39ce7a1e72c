import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { AlertBatch } from '../../src/core/alert.js';
import { closeIncident } from '../../src/flows/change-status.js';
import { type AlertDelivery, ingestAlert } from '../../src/flows/ingest-alert.js';
import { Crash, crashOnceAt, type FlowWorld, flowWorld } from './support.js';

const GROUP = 'am-checkout-errors';
const STARTS = '2024-05-01T09:58:00.000Z';
const by = { actor: { type: 'user', id: 'U0123ABCD' }, source: 'slash' } as const;
// The person closing these alert-declared incidents (nobody took command) is an incident admin.
const config = loadConfig({
  SLACK_BOT_TOKEN: 'xoxb-test-token',
  SLACK_SIGNING_SECRET: 'test-signing-secret',
  LOG_LEVEL: 'silent',
  INCIDENT_ADMINS: by.actor.id,
});

function firing(fingerprint: string, receivedAt: string, startsAt = STARTS): AlertBatch {
  return {
    source: 'alertmanager',
    groupKey: '{}:{alertname="HighErrorRate"}',
    status: 'firing',
    title: 'HighErrorRate on checkout',
    severity: 'SEV2',
    receivedAt,
    alerts: [
      {
        fingerprint,
        status: 'firing',
        name: 'HighErrorRate',
        labels: { alertname: 'HighErrorRate', service: 'checkout' },
        annotations: { summary: '5xx above 5%' },
        startsAt,
        summary: '5xx above 5%',
      },
    ],
  };
}

/** Stores a delivery as the web process does, then runs its ingestion job. */
async function ingest(w: FlowWorld, deliveryId: string, batch: AlertBatch) {
  const delivery: AlertDelivery = { source: 'alertmanager', groupId: GROUP, batch };
  await w.store.saveDelivery(deliveryId, delivery, 3600);
  return ingestAlert(w.deps, deliveryId);
}

describe('ingestAlert', () => {
  it('opens a new incident, linked to the old one, for a group still bound to a closed incident', async () => {
    const w = flowWorld({ config, checkpoint: crashOnceAt('close:recorded') });
    const first = await ingest(w, 'd-1', firing('fp-1', w.deps.now().toISOString()));
    expect(first).toMatchObject({ outcome: 'declared', incidentId: 'INC-1', changes: 1 });
    // The close is recorded, but the process dies before it releases the group.
    await expect(closeIncident(w.deps, 'INC-1', 'fixed', by)).rejects.toBeInstanceOf(Crash);
    expect(await w.store.boundIncident(GROUP)).toBe('INC-1');
    const closedLength = await w.store.timelineLength('INC-1');

    w.advance(120_000);
    const second = await ingest(w, 'd-2', firing('fp-2', w.deps.now().toISOString()));
    expect(second).toMatchObject({ outcome: 'declared', incidentId: 'INC-2', changes: 1 });
    const entries = await w.store.entries('INC-2');
    expect(entries[0]).toMatchObject({ kind: 'declared', alertGroupId: GROUP, relatedIncidentId: 'INC-1' });
    expect(entries.filter((e) => e.kind === 'alert_fired')).toEqual([
      expect.objectContaining({ fingerprint: 'fp-2', alertGroupId: GROUP }),
    ]);
    expect(await w.store.boundIncident(GROUP)).toBe('INC-2');
    expect(await w.store.lastIncident(GROUP)).toBe('INC-2');
    expect(await w.store.timelineLength('INC-1')).toBe(closedLength);
    expect(w.jobs.jobs('setup-channel').map((j) => j.jobId)).toEqual(['setup-INC-1', 'setup-INC-2']);
  });

  it('an alert firing after the close, with the same fingerprint and start, opens a new incident', async () => {
    const w = flowWorld({ config });
    await ingest(w, 'd-1', firing('fp-1', w.deps.now().toISOString()));
    await closeIncident(w.deps, 'INC-1', 'fixed', by);
    expect(await w.store.boundIncident(GROUP)).toBeUndefined();

    // Alertmanager sends the same still-firing alert again (its group_interval): a new body, same alert.
    w.advance(300_000);
    const again = firing('fp-1', w.deps.now().toISOString());
    const res = await ingest(w, 'd-2', again);
    expect(res).toMatchObject({ outcome: 'declared', incidentId: 'INC-2', changes: 1 });
    const entries = await w.store.entries('INC-2');
    expect(entries[0]).toMatchObject({ kind: 'declared', relatedIncidentId: 'INC-1' });
    expect(entries.filter((e) => e.kind === 'alert_fired')).toEqual([
      expect.objectContaining({ fingerprint: 'fp-1', startsAt: STARTS }),
    ]);
    expect(await w.store.alertStates('INC-2', GROUP)).toEqual({
      'fp-1': { status: 'firing', startsAt: STARTS },
    });
    expect((await w.store.current('INC-1'))?.status).toBe('closed');

    // The next re-send is one: nothing new on the new incident.
    w.advance(300_000);
    const resend = await ingest(w, 'd-3', firing('fp-1', w.deps.now().toISOString()));
    expect(resend).toMatchObject({ outcome: 'no-change', incidentId: 'INC-2', changes: 0 });
    expect(await w.store.entries('INC-2')).toEqual(entries);
  });
});
