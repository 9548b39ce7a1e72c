import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntryOf } from '../../src/core/timeline.js';
import { type RunningAlertmanager, startAlertmanager } from '../support/alertmanager.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';
import { settled, TOKEN } from './support.js';

// A real Prometheus Alertmanager (Debian's prometheus-alertmanager) on loopback whose webhook
// receiver is the running bot, authenticated with `http_config.authorization`. Alerts are pushed
// to its API v2; everything after that is Alertmanager, the bot, BullMQ, Redis and the sandbox.

let h: Harness;
let am: RunningAlertmanager | undefined;
let amUrl: string;

beforeAll(async () => {
  h = await startHarness('alerts-am', {
    ALERT_WEBHOOK_TOKEN: TOKEN,
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  });
  am = await startAlertmanager(`http://127.0.0.1:${h.bot.port}/alerts/alertmanager`, TOKEN);
  amUrl = am.url;
}, 30_000);

afterAll(async () => {
  await am?.stop();
  await h?.close();
});

async function push(instance: string, startsAt: string, endsAt?: string) {
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels: { alertname: 'BackendPoolEmpty', service: 'checkout', severity: 'critical', instance },
        annotations: {
          summary: `No healthy backend behind ${instance}`,
          runbook_url: 'https://runbooks.example/lb/pool-empty',
        },
        startsAt,
        ...(endsAt ? { endsAt } : {}),
        generatorURL: 'http://prometheus.example:9090/graph?g0.expr=haproxy_backend_active_servers',
      },
    ]),
  });
  expect(res.status).toBe(200);
}

const fired = async (id: string) =>
  (await h.bot.rt.store.entries(id)).filter((e): e is EntryOf<'alert_fired'> => e.kind === 'alert_fired');
const resolved = async (id: string) =>
  (await h.bot.rt.store.entries(id)).filter(
    (e): e is EntryOf<'alert_resolved'> => e.kind === 'alert_resolved',
  );

describe('a real Alertmanager delivering to the bot', () => {
  it('opens one incident for the group, joins a second alert to it, and records both resolving', async () => {
    const t0 = new Date(Date.now() - 60_000).toISOString();
    await push('lb-1', t0);
    const id = await eventually(async () => {
      const open = await h.bot.rt.store.openIncidents();
      expect(open).toHaveLength(1);
      return open[0]!;
    });
    await eventually(async () => expect(await fired(id)).toHaveLength(1));
    const first = (await h.bot.rt.store.load(id))!.incident;
    expect(first).toMatchObject({ title: 'BackendPoolEmpty (service=checkout)', severity: 'SEV1' });
    const channel = await eventually(async () => {
      const inc = (await h.bot.rt.store.load(id))!.incident;
      expect(inc.channelId).toBeTruthy();
      return inc.channelId!;
    });

    // Second alert of the same group (same alertname and service): same incident, same channel.
    await push('lb-2', new Date(Date.now() - 30_000).toISOString());
    await eventually(async () =>
      expect((await fired(id)).map((e) => e.labels.instance).sort()).toEqual(['lb-1', 'lb-2']),
    );
    expect(await h.bot.rt.store.openIncidents()).toEqual([id]);

    // Resolve both (endsAt in the past): Alertmanager sends the resolved notification.
    const end = new Date(Date.now() - 1000).toISOString();
    await push('lb-1', t0, end);
    await push('lb-2', new Date(Date.now() - 30_000).toISOString(), end);
    await eventually(async () => expect(await resolved(id)).toHaveLength(2), 20_000);
    await h.sandbox.waitForMessage((m) => m.channel === channel && m.text.includes('have resolved'), {
      timeoutMs: 20_000,
    });
    await settled(h.bot.rt.redis, h.prefix, id);

    expect(h.sandbox.transcriptFor('conversations.create').filter((e) => e.ok)).toHaveLength(1);
    expect(await fired(id)).toHaveLength(2);
    const post = h.sandbox.messages(channel).find((m) => m.text.includes('Alert firing'))!;
    expect(JSON.stringify(post.blocks)).toContain('https://runbooks.example/lb/pool-empty');
    expect((await h.bot.rt.store.load(id))!.incident.status).not.toBe('closed');
  });
});
