import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { AlertBatch, AlertSource } from '../../src/core/alert.js';
import { correlationKey } from '../../src/core/correlation.js';
import { closeIncident } from '../../src/flows/change-status.js';
import { type AlertDelivery, ingestAlert } from '../../src/flows/ingest-alert.js';
import { mergeIncident } from '../../src/flows/merge.js';
import { type FlowWorld, flowWorld } from './support.js';

const by = { actor: { type: 'user', id: 'U0123ABCD' }, source: 'slash' } as const;
/** A world where `by` is in INCIDENT_ADMINS: alert-opened incidents have no declarer or commander to close them. */
const adminWorld = () =>
  flowWorld({
    config: loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      LOG_LEVEL: 'silent',
      INCIDENT_ADMINS: 'U0123ABCD',
    }),
  });

function batch(
  name: string,
  labels: Record<string, string>,
  receivedAt: string,
  source: AlertSource = 'alertmanager',
): AlertBatch {
  return {
    source,
    groupKey: `{}:{alertname="${name}"}`,
    status: 'firing',
    title: `${name} on ${labels.service ?? 'something'}`,
    severity: 'SEV2',
    receivedAt,
    alerts: [
      {
        fingerprint: `fp-${name}`,
        status: 'firing',
        name,
        labels: { alertname: name, ...labels },
        annotations: {},
        startsAt: receivedAt,
      },
    ],
  };
}

let n = 0;
/** Stores a delivery for `group` as the web process does, then runs its ingestion job. */
async function ingest(w: FlowWorld, group: string, b: AlertBatch) {
  const delivery: AlertDelivery = { source: b.source, groupId: group, batch: b };
  const id = `d-${++n}`;
  await w.store.saveDelivery(id, delivery, 3600);
  return ingestAlert(w.deps, id);
}

function worldWith(env: Record<string, string>): FlowWorld {
  const w = adminWorld();
  w.deps.config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    LOG_LEVEL: 'silent',
    ...env,
  });
  return w;
}

describe('correlationKey', () => {
  it('joins every configured label in order and is undefined when one is absent, empty, or nothing is configured', () => {
    expect(correlationKey({ service: 'checkout', env: 'prod' }, ['service'])).toBe('service=checkout');
    expect(correlationKey({ service: 'checkout', env: 'prod' }, ['service', 'env'])).toBe(
      'service=checkout,env=prod',
    );
    expect(correlationKey({ env: 'prod' }, ['service'])).toBeUndefined();
    expect(correlationKey({ service: '' }, ['service'])).toBeUndefined();
    expect(correlationKey({ service: 'checkout' }, [])).toBeUndefined();
  });
});

describe('alert correlation across groups', () => {
  it('a second group and a Grafana alert for the same service join the first group’s incident and say why', async () => {
    const w = adminWorld();
    const now = () => w.deps.now().toISOString();
    const a = await ingest(w, 'am-1', batch('HighErrorRate', { service: 'checkout' }, now()));
    w.advance(60_000);
    const b = await ingest(w, 'am-2', batch('HighLatency', { service: 'checkout' }, now()));
    w.advance(60_000);
    const g = await ingest(w, 'gf-1', batch('ServerDown', { service: 'checkout' }, now(), 'grafana'));
    expect(a).toMatchObject({ outcome: 'declared', incidentId: 'INC-1' });
    expect(b).toMatchObject({ outcome: 'recorded', incidentId: 'INC-1', joined: 'service=checkout' });
    expect(g).toMatchObject({ outcome: 'recorded', incidentId: 'INC-1', joined: 'service=checkout' });
    expect(await w.store.allIncidents()).toEqual(['INC-1']);
    const entries = await w.store.entries('INC-1');
    expect(entries.filter((e) => e.kind === 'alert_group_joined')).toEqual([
      expect.objectContaining({ alertGroupId: 'am-2', via: 'correlation', correlation: 'service=checkout' }),
      expect.objectContaining({ alertGroupId: 'gf-1', via: 'correlation', correlation: 'service=checkout' }),
    ]);
    const fired = entries.filter((e) => e.kind === 'alert_fired');
    expect(fired.map((e) => [e.alertGroupId, e.joined])).toEqual([
      ['am-1', undefined],
      ['am-2', 'joined INC-1: same service=checkout'],
      ['gf-1', 'joined INC-1: same service=checkout'],
    ]);
    expect(await w.store.boundIncident('gf-1')).toBe('INC-1');
    expect(w.jobs.jobs('setup-channel').map((j) => j.jobId)).toEqual(['setup-INC-1']);
  });

  it('three groups racing to open an incident for the same service open one', async () => {
    const w = adminWorld();
    const t = w.deps.now().toISOString();
    const res = await Promise.all(
      ['am-1', 'am-2', 'am-3'].map((g, i) => ingest(w, g, batch(`Alert${i}`, { service: 'checkout' }, t))),
    );
    expect(new Set(res.map((r) => r.incidentId))).toEqual(new Set(['INC-1']));
    expect(res.filter((r) => r.outcome === 'declared')).toHaveLength(1);
    expect(await w.store.allIncidents()).toEqual(['INC-1']);
    expect((await w.store.entries('INC-1')).filter((e) => e.kind === 'alert_group_joined')).toHaveLength(2);
  });

  it('an alert without the correlation label, another service, or correlation turned off opens its own incident', async () => {
    const w = adminWorld();
    const t = w.deps.now().toISOString();
    await ingest(w, 'am-1', batch('HighErrorRate', { service: 'checkout' }, t));
    expect(await ingest(w, 'am-2', batch('DiskFull', { instance: 'db1' }, t))).toMatchObject({
      outcome: 'declared',
      incidentId: 'INC-2',
    });
    expect(await ingest(w, 'am-3', batch('HighLatency', { service: 'search' }, t))).toMatchObject({
      outcome: 'declared',
      incidentId: 'INC-3',
    });

    const off = worldWith({ ALERT_CORRELATE_BY: '' });
    expect(off.deps.config.ALERT_CORRELATE_BY).toEqual([]);
    const t2 = off.deps.now().toISOString();
    await ingest(off, 'am-1', batch('HighErrorRate', { service: 'checkout' }, t2));
    expect(await ingest(off, 'am-2', batch('HighLatency', { service: 'checkout' }, t2))).toMatchObject({
      outcome: 'declared',
      incidentId: 'INC-2',
    });
  });

  it('joins only within the window after the incident’s last alert, each alert extending it', async () => {
    const w = worldWith({ ALERT_CORRELATE_WINDOW_MINUTES: '10' });
    const now = () => w.deps.now().toISOString();
    await ingest(w, 'am-1', batch('A', { service: 'checkout' }, now()));
    w.advance(9 * 60_000);
    expect(await ingest(w, 'am-2', batch('B', { service: 'checkout' }, now()))).toMatchObject({
      incidentId: 'INC-1',
    });
    // 18 minutes after the first alert, 9 after the last one: still inside the window.
    w.advance(9 * 60_000);
    expect(await ingest(w, 'am-3', batch('C', { service: 'checkout' }, now()))).toMatchObject({
      incidentId: 'INC-1',
    });
    w.advance(11 * 60_000);
    expect(await ingest(w, 'am-4', batch('D', { service: 'checkout' }, now()))).toMatchObject({
      outcome: 'declared',
      incidentId: 'INC-2',
    });
  });

  it('a group firing for the service of a closed incident opens a new one', async () => {
    const w = adminWorld();
    const now = () => w.deps.now().toISOString();
    await ingest(w, 'am-1', batch('A', { service: 'checkout' }, now()));
    await ingest(w, 'am-2', batch('B', { service: 'checkout' }, now()));
    await closeIncident(w.deps, 'INC-1', 'fixed', by);
    expect(await w.store.boundIncident('am-2')).toBeUndefined();
    w.advance(60_000);
    expect(await ingest(w, 'am-3', batch('C', { service: 'checkout' }, now()))).toMatchObject({
      outcome: 'declared',
      incidentId: 'INC-2',
    });
  });

  it('a retried ingestion of a joining delivery records the join and each alert once', async () => {
    const w = adminWorld();
    const t = w.deps.now().toISOString();
    await ingest(w, 'am-1', batch('A', { service: 'checkout' }, t));
    const d: AlertDelivery = {
      source: 'alertmanager',
      groupId: 'am-2',
      batch: batch('B', { service: 'checkout' }, t),
    };
    await w.store.saveDelivery('retry', d, 3600);
    await ingestAlert(w.deps, 'retry');
    await ingestAlert(w.deps, 'retry');
    const entries = await w.store.entries('INC-1');
    expect(entries.filter((e) => e.kind === 'alert_group_joined')).toHaveLength(1);
    expect(entries.filter((e) => e.kind === 'alert_fired')).toHaveLength(2);
  });

  it('after /incident merge, the merged incident’s groups and services feed the surviving incident', async () => {
    const w = adminWorld();
    const t = w.deps.now().toISOString();
    const checkout = batch('HighErrorRate', { service: 'checkout' }, t);
    const search = batch('SearchLatency', { service: 'search' }, t);
    await ingest(w, 'am-1', checkout);
    await ingest(w, 'am-2', search);
    const m = await mergeIncident(w.deps, 'INC-1', 'INC-2', by);
    expect(m).toEqual({ survivor: 'INC-1', merged: 'INC-2', alertGroupIds: ['am-2'], already: false });
    expect(await w.store.boundIncident('am-2')).toBe('INC-1');
    expect(await w.store.current('INC-2')).toMatchObject({
      status: 'closed',
      closedAs: 'merged',
      mergedInto: 'INC-1',
    });
    expect((await w.store.meta('INC-2'))['postmortem-owed']).toBeUndefined();
    expect(w.jobs.jobs('draft-postmortem')).toEqual([]);

    // The same alert sent again is a re-send (its state moved too); a new one lands in INC-1.
    expect(await ingest(w, 'am-2', search)).toMatchObject({ outcome: 'no-change', incidentId: 'INC-1' });
    w.advance(60_000);
    expect(
      await ingest(w, 'am-2', batch('SearchErrors', { service: 'search' }, w.deps.now().toISOString())),
    ).toMatchObject({
      outcome: 'recorded',
      incidentId: 'INC-1',
    });
    // A new group for the merged incident's service joins the survivor.
    expect(
      await ingest(w, 'am-3', batch('SearchDown', { service: 'search' }, w.deps.now().toISOString())),
    ).toMatchObject({
      incidentId: 'INC-1',
      joined: 'service=search',
    });
    expect(await w.store.allIncidents()).toEqual(['INC-1', 'INC-2']);
    const es = await w.store.entries('INC-1');
    expect(es.filter((e) => e.kind === 'alert_group_joined').map((e) => e.alertGroupId)).toEqual(['am-3']);
    expect(es.filter((e) => e.kind === 'incident_merged')).toHaveLength(1);
  });

  it('after /incident merge, the survivor knows the moved alerts: their resolve lands on a known alert and all resolved is noticed', async () => {
    const w = adminWorld();
    const t = w.deps.now().toISOString();
    await ingest(w, 'am-1', batch('HighErrorRate', { service: 'checkout' }, t));
    const search = batch('SearchLatency', { service: 'search' }, t);
    await ingest(w, 'am-2', search);
    await mergeIncident(w.deps, 'INC-1', 'INC-2', by);
    const survivor = await w.store.current('INC-1');
    expect(survivor?.alerts.map((a) => [a.alertGroupId, a.name, a.status])).toEqual([
      ['am-1', 'HighErrorRate', 'firing'],
      ['am-2', 'SearchLatency', 'firing'],
    ]);
    w.advance(60_000);
    const end = w.deps.now().toISOString();
    const resolved: AlertBatch = {
      ...search,
      status: 'resolved',
      alerts: search.alerts.map((a) => ({ ...a, status: 'resolved', endsAt: end })),
    };
    expect(await ingest(w, 'am-2', resolved)).toMatchObject({ outcome: 'recorded', incidentId: 'INC-1' });
    const after = await w.store.current('INC-1');
    expect(after?.alerts.find((a) => a.alertGroupId === 'am-2')).toMatchObject({
      status: 'resolved',
      endsAt: end,
    });
    expect(w.jobs.jobs('alert-notice').map((j) => j.payload)).toEqual([
      expect.objectContaining({ incidentId: 'INC-1', alertGroupId: 'am-2' }),
    ]);
  });
});
