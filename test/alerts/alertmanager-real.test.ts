import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleAlertWebhook, readBody } from '../../src/alerts/intake.js';
import { type AlertStates, correlate } from '../../src/core/correlation.js';
import { type RunningAlertmanager, startAlertmanager } from '../support/alertmanager.js';
import { accepted, OPTS, TOKEN } from './helpers.js';

// A real Alertmanager (Debian's prometheus-alertmanager, installed by .ci/run) on loopback,
// delivering to a webhook receiver in this process: the bytes it really sends, end to end.

interface Delivery {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

const waiting: ((d: Delivery) => void)[] = [];
const queued: Delivery[] = [];
function nextDelivery(): Promise<Delivery> {
  const d = queued.shift();
  return d ? Promise.resolve(d) : new Promise((resolve) => waiting.push(resolve));
}

let receiver: Server;
let am: RunningAlertmanager | undefined;
let amUrl: string;

beforeAll(async () => {
  receiver = createServer(async (req, res) => {
    const d = { headers: req.headers, rawBody: await readBody(req) };
    res.writeHead(200).end();
    const w = waiting.shift();
    if (w) w(d);
    else queued.push(d);
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const hookPort = (receiver.address() as AddressInfo).port;

  am = await startAlertmanager(`http://127.0.0.1:${hookPort}/alerts/alertmanager`, TOKEN);
  amUrl = am.url;
}, 30_000);

afterAll(async () => {
  await am?.stop();
  await new Promise((r) => receiver?.close(r));
});

async function postAlert(endsAt?: string) {
  const res = await fetch(`${amUrl}/api/v2/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify([
      {
        labels: {
          alertname: 'HighErrorRate',
          service: 'checkout',
          severity: 'critical',
          instance: '10.0.1.17:8080',
        },
        annotations: { summary: 'Checkout 5xx <b>above</b> 5% 🔥 *now*' },
        startsAt: '2024-05-01T10:00:00.123456789Z',
        ...(endsAt ? { endsAt } : {}),
        generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up',
      },
    ]),
  });
  expect(res.status).toBe(200);
}

describe('a real Alertmanager', () => {
  it('delivers a firing and then a resolved notification that become alert_fired and alert_resolved', async () => {
    let states: AlertStates = {};

    await postAlert();
    const firing = await nextDelivery();
    expect(firing.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const r1 = handleAlertWebhook('alertmanager', firing, OPTS);
    const b1 = accepted(r1);
    expect(b1).toMatchObject({
      status: 'firing',
      title: 'HighErrorRate (service=checkout)',
      severity: 'SEV1',
      groupKey: '{}:{alertname="HighErrorRate", service="checkout"}',
    });
    expect(b1.alerts[0]).toMatchObject({
      startsAt: '2024-05-01T10:00:00.123Z',
      summary: 'Checkout 5xx <b>above</b> 5% 🔥 *now*',
    });
    expect(b1.alerts[0]?.endsAt).toBeUndefined();
    const c1 = correlate(b1, states);
    states = c1.next;
    expect(c1.changes.map((c) => c.kind)).toEqual(['alert_fired']);

    await postAlert('2024-05-01T10:05:00Z');
    const resolved = await nextDelivery();
    const b2 = accepted(handleAlertWebhook('alertmanager', resolved, OPTS));
    expect(b2.status).toBe('resolved');
    expect(b2.alerts[0]).toMatchObject({
      fingerprint: b1.alerts[0]?.fingerprint,
      endsAt: '2024-05-01T10:05:00.000Z',
    });
    const c2 = correlate(b2, states);
    expect(c2.changes.map((c) => c.kind)).toEqual(['alert_resolved']);
    expect(c2.fullyResolved).toBe(true);
    expect(r1.status === 202 && r1.groupId).toMatch(/^alertmanager-[0-9a-f]{16}$/);
  }, 30_000);
});
