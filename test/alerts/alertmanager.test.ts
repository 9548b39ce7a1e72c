import { describe, expect, it } from 'vitest';
import { accepted, deliver, fixture, fixtureText } from './helpers.js';

describe('the Alertmanager webhook', () => {
  it('turns a v4 firing delivery into a batch keyed by the group key', () => {
    const batch = accepted(deliver('alertmanager', fixture('alertmanager-v4-firing.json')));
    expect(batch).toMatchObject({
      source: 'alertmanager',
      groupKey: '{}/{severity="critical"}:{alertname="HighErrorRate", service="checkout"}',
      status: 'firing',
      title: 'HighErrorRate (service=checkout)',
      severity: 'SEV1',
      receivedAt: '2024-05-01T10:01:00.000Z',
      externalUrl: 'http://alertmanager.example.com:9093',
    });
    expect(batch.alerts).toHaveLength(2);
    expect(batch.alerts[0]).toEqual({
      fingerprint: '5f1a3c9e2b7d4a60',
      status: 'firing',
      name: 'HighErrorRate',
      labels: {
        alertname: 'HighErrorRate',
        instance: '10.0.1.17:8080',
        job: 'checkout-api',
        service: 'checkout',
        severity: 'critical',
      },
      annotations: {
        description: '5xx ratio is 7.2% on 10.0.1.17:8080 (threshold 5%)',
        runbook_url: 'https://runbooks.example.com/checkout/high-error-rate',
        summary: 'Checkout 5xx ratio above 5%',
      },
      startsAt: '2024-05-01T10:00:07.123Z',
      generatorURL:
        'http://prometheus.example.com:9090/graph?g0.expr=job%3Acheckout_5xx%3Aratio5m+%3E+0.05&g0.tab=1',
      runbookUrl: 'https://runbooks.example.com/checkout/high-error-rate',
      summary: 'Checkout 5xx ratio above 5%',
      description: '5xx ratio is 7.2% on 10.0.1.17:8080 (threshold 5%)',
      severityAsk: { severity: 'SEV1', because: 'severity=critical' },
    });
  });

  it('drops endsAt on firing alerts, whether Go zero time or an expiry estimate', () => {
    const batch = accepted(deliver('alertmanager', fixture('alertmanager-v4-firing.json')));
    expect(batch.alerts.map((a) => a.endsAt)).toEqual([undefined, undefined]);
  });

  it('keeps the end time of resolved alerts, in UTC', () => {
    const batch = accepted(deliver('alertmanager', fixture('alertmanager-v4-resolved.json')));
    expect(batch.status).toBe('resolved');
    expect(batch.alerts.map((a) => [a.status, a.endsAt])).toEqual([
      ['resolved', '2024-05-01T10:21:07.123Z'],
      ['resolved', '2024-05-01T10:21:37.500Z'],
    ]);
  });

  it('uses the receive time for a resolved alert that comes with the zero end time', () => {
    const body = fixture('alertmanager-v4-resolved.json');
    body.alerts[0].endsAt = '0001-01-01T00:00:00Z';
    const batch = accepted(deliver('alertmanager', body));
    expect(batch.alerts[0]?.endsAt).toBe('2024-05-01T10:01:00.000Z');
  });

  it('accepts null label maps (how Go encodes an empty map) and unknown fields', () => {
    const body = fixture('alertmanager-v4-firing.json');
    body.alerts[0].annotations = null;
    body.groupLabels = null;
    body.somethingNew = { nested: true };
    body.alerts[0].alsoNew = 1;
    const batch = accepted(deliver('alertmanager', body));
    expect(batch.alerts[0]?.annotations).toEqual({});
  });

  it('rejects an unknown alert status with 400 naming the field', () => {
    const body = fixture('alertmanager-v4-firing.json');
    body.alerts[1].status = 'pending';
    const r = deliver('alertmanager', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      error: expect.stringContaining('alerts[1].status'),
      issues: [{ path: 'alerts[1].status', message: expect.stringContaining('firing') }],
    });
  });

  it('rejects a start time that is not ISO 8601, naming the field', () => {
    const body = fixture('alertmanager-v4-firing.json');
    body.alerts[0].startsAt = 'yesterday';
    const r = deliver('alertmanager', body);
    expect(r.body).toEqual({
      error: 'not a valid Alertmanager webhook: alerts[0].startsAt: expected ISO 8601 date-time',
      issues: [{ path: 'alerts[0].startsAt', message: 'expected ISO 8601 date-time' }],
    });
  });

  it('reports every wrong type, each with its path', () => {
    const body = fixture('alertmanager-v4-firing.json');
    body.groupKey = 42;
    body.alerts[0].labels.severity = 1;
    body.alerts[1].fingerprint = null;
    const r = deliver('alertmanager', body);
    expect(r.status).toBe(400);
    if (r.status !== 400) return;
    expect(r.body.issues.map((i) => i.path).sort()).toEqual([
      'alerts[0].labels.severity',
      'alerts[1].fingerprint',
      'groupKey',
    ]);
  });

  it('rejects a delivery without alerts', () => {
    const body = fixture('alertmanager-v4-firing.json');
    body.alerts = [];
    expect(deliver('alertmanager', body).body).toMatchObject({ issues: [{ path: 'alerts' }] });
  });

  it('keeps unicode, HTML and Slack mrkdwn in labels and annotations literally', () => {
    const body = fixture('alertmanager-v4-firing.json');
    const nasty = '<!channel> *bold* _it_ ~s~ `code` <script>alert(1)</script> &amp; 🔥 日本語 \u202e';
    body.alerts[0].labels.service = nasty;
    body.alerts[0].annotations.summary = nasty;
    body.commonLabels.service = nasty;
    const batch = accepted(deliver('alertmanager', body));
    expect(batch.alerts[0]?.labels.service).toBe(nasty);
    expect(batch.alerts[0]?.summary).toBe(nasty);
    expect(batch.title).toBe(`HighErrorRate (service=${nasty})`);
  });

  it('accepts the exact bytes a real Alertmanager 0.25 sent, firing then resolved', () => {
    const firing = accepted(
      deliver('alertmanager', fixtureText('alertmanager-0.25-captured-firing.body.txt')),
    );
    const resolved = accepted(
      deliver('alertmanager', fixtureText('alertmanager-0.25-captured-resolved.body.txt')),
    );
    expect(firing.alerts[0]).toMatchObject({
      fingerprint: 'fd817304938026ec',
      status: 'firing',
      startsAt: '2024-05-01T10:00:00.123Z',
      summary: 'Checkout 5xx <b>above</b> 5% 🔥 *now*',
    });
    expect(firing.alerts[0]?.endsAt).toBeUndefined();
    expect(resolved.alerts[0]).toMatchObject({
      fingerprint: 'fd817304938026ec',
      endsAt: '2024-05-01T10:05:00.000Z',
    });
    expect(resolved.groupKey).toBe(firing.groupKey);
  });
});
