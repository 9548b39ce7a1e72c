import { describe, expect, it } from 'vitest';
import { parseSeverityMapping } from '../../src/core/alert.js';
import { accepted, deliver } from './helpers.js';

const FULL = {
  title: 'Checkout error rate above 5%',
  status: 'firing',
  dedupKey: 'checkout-error-rate',
  severity: 'critical',
  labels: { service: 'checkout' },
  annotations: { runbook_url: 'https://runbooks.example/checkout' },
  description: '5xx ratio 7.2% over 5 min',
  startedAt: '2024-05-01T12:00:00+02:00',
  links: [
    { title: 'Dashboard', url: 'https://grafana.example/d/abc' },
    { title: 'Runbook', url: 'https://wiki.example/runbook' },
  ],
};

describe('the generic alert webhook', () => {
  it('turns the documented example into a one-alert batch keyed by dedupKey', () => {
    expect(accepted(deliver('generic', FULL))).toEqual({
      source: 'generic',
      groupKey: 'checkout-error-rate',
      status: 'firing',
      title: 'Checkout error rate above 5%',
      severity: 'SEV1',
      receivedAt: '2024-05-01T10:01:00.000Z',
      externalUrl: 'https://grafana.example/d/abc',
      alerts: [
        {
          fingerprint: 'checkout-error-rate',
          status: 'firing',
          name: 'Checkout error rate above 5%',
          labels: { service: 'checkout' },
          annotations: { runbook_url: 'https://runbooks.example/checkout' },
          startsAt: '2024-05-01T10:00:00.000Z',
          runbookUrl: 'https://runbooks.example/checkout',
          description: '5xx ratio 7.2% over 5 min',
          links: FULL.links,
          severityAsk: { severity: 'SEV1', because: 'severity=critical' },
        },
      ],
    });
  });

  it('needs only title, status and dedupKey, and defaults times to the receive time', () => {
    const batch = accepted(deliver('generic', { title: 'Disk full', status: 'resolved', dedupKey: 'disk' }));
    expect(batch).toMatchObject({ severity: 'SEV3', status: 'resolved' });
    expect(batch.alerts[0]).toMatchObject({
      startsAt: '2024-05-01T10:01:00.000Z',
      endsAt: '2024-05-01T10:01:00.000Z',
      labels: {},
      annotations: {},
    });
  });

  it('accepts SEV1..SEV4 literally and words from an overridden mapping', () => {
    const base = { title: 't', status: 'firing', dedupKey: 'k' };
    expect(accepted(deliver('generic', { ...base, severity: 'sev2' })).severity).toBe('SEV2');
    const mapping = parseSeverityMapping('disaster=SEV1,default=SEV4');
    expect(accepted(deliver('generic', { ...base, severity: 'Disaster' }, { mapping })).severity).toBe(
      'SEV1',
    );
    expect(accepted(deliver('generic', { ...base, severity: 'meh' }, { mapping })).severity).toBe('SEV4');
  });

  it('takes a link titled runbook as the runbook when no annotation gives one', () => {
    const batch = accepted(deliver('generic', { ...FULL, annotations: {} }));
    expect(batch.alerts[0]?.runbookUrl).toBe('https://wiki.example/runbook');
  });

  it.each([
    [{ ...FULL, status: 'open' }, 'status'],
    [{ ...FULL, title: '   ' }, 'title'],
    [{ ...FULL, dedupKey: undefined }, 'dedupKey'],
    [{ ...FULL, labels: { n: 1 } }, 'labels.n'],
    [{ ...FULL, startedAt: '2024-13-01T00:00:00Z' }, 'startedAt'],
    [{ ...FULL, links: [{ title: 'x' }] }, 'links[0].url'],
  ])('rejects a bad field with 400 naming it (%#: %s)', (body, path) => {
    const r = deliver('generic', body);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ issues: [{ path }] });
  });

  it('keeps a title with HTML and mrkdwn literally', () => {
    const title = '<@U123> <!here> *DB* & <b>cache</b> 💥';
    expect(accepted(deliver('generic', { ...FULL, title })).title).toBe(title);
  });
});
