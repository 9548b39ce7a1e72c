import { describe, expect, it } from 'vitest';
import {
  type Alert,
  alertSeverity,
  batchSeverity,
  batchTitle,
  DEFAULT_SEVERITY_MAPPING,
  mapSeverityWord,
  parseSeverityMapping,
} from '../../src/core/alert.js';
import { DomainError } from '../../src/core/errors.js';

const M = DEFAULT_SEVERITY_MAPPING;

function alert(labels: Record<string, string>, status: Alert['status'] = 'firing', summary?: string): Alert {
  return {
    fingerprint: JSON.stringify(labels),
    status,
    name: labels.alertname ?? 'x',
    labels,
    annotations: {},
    startsAt: '2024-05-01T10:00:00.000Z',
    ...(summary ? { summary } : {}),
  };
}

describe('severity mapping', () => {
  it.each([
    ['critical', 'SEV1'],
    ['PAGE', 'SEV1'],
    ['p1', 'SEV1'],
    ['error', 'SEV2'],
    ['High', 'SEV2'],
    ['major', 'SEV2'],
    ['P2', 'SEV2'],
    ['warning', 'SEV3'],
    ['medium', 'SEV3'],
    ['minor', 'SEV3'],
    ['p3', 'SEV3'],
    ['info', 'SEV4'],
    ['low', 'SEV4'],
    ['none', 'SEV4'],
    ['p4', 'SEV4'],
    ['sev1', 'SEV1'],
    [' SEV4 ', 'SEV4'],
  ])('maps %s to %s by default', (word, sev) => {
    expect(mapSeverityWord(word, M)).toBe(sev);
  });

  it('knows nothing of other words, nor of Object.prototype', () => {
    expect(mapSeverityWord('catastrophic', M)).toBeUndefined();
    expect(mapSeverityWord('constructor', M)).toBeUndefined();
    expect(mapSeverityWord(undefined, M)).toBeUndefined();
  });

  it('reads severity from labels, then annotations, then priority', () => {
    expect(alertSeverity({ labels: { severity: 'warning' }, annotations: { severity: 'critical' } }, M)).toBe(
      'SEV3',
    );
    expect(alertSeverity({ labels: { severity: '??' }, annotations: { severity: 'critical' } }, M)).toBe(
      'SEV1',
    );
    expect(alertSeverity({ labels: { priority: 'P2' }, annotations: {} }, M)).toBe('SEV2');
    expect(alertSeverity({ labels: {}, annotations: {} }, M)).toBeUndefined();
  });

  it('gives a batch the most severe firing alert’s severity, else the fallback', () => {
    const a = alert({ severity: 'warning' });
    const b = alert({ severity: 'critical' }, 'resolved');
    expect(batchSeverity([a, b], M)).toBe('SEV3');
    expect(batchSeverity([{ ...a, status: 'resolved' }, b], M)).toBe('SEV1');
    expect(batchSeverity([alert({})], M)).toBe('SEV3');
  });

  it('parses ALERT_SEVERITY_MAP over the defaults, case-insensitively, with default= for the fallback', () => {
    const m = parseSeverityMapping(' Critical=sev2 , disaster=SEV1,default=SEV4,');
    expect(m.values.critical).toBe('SEV2');
    expect(m.values.disaster).toBe('SEV1');
    expect(m.values.warning).toBe('SEV3');
    expect(m.fallback).toBe('SEV4');
    expect(parseSeverityMapping('')).toEqual(M);
  });

  it('rejects bad entries with one error naming each of them and showing the syntax', () => {
    let err: unknown;
    try {
      parseSeverityMapping('critical=SEV0,warning,=SEV1,info=SEV4');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('BAD_INPUT');
    expect((err as DomainError).message).toBe(
      'ALERT_SEVERITY_MAP has bad entries "critical=SEV0", "warning", "=SEV1"',
    );
    expect((err as DomainError).hint).toContain('critical=SEV1,warning=SEV3');
  });
});

describe('batch titles', () => {
  it('name one alert by alertname and its first distinguishing label', () => {
    expect(batchTitle([alert({ alertname: 'HighLatency', job: 'api', instance: 'i-1' })])).toBe(
      'HighLatency (job=api)',
    );
    expect(batchTitle([alert({ alertname: 'HighLatency', team: 'blue' })])).toBe('HighLatency');
  });

  it('name a group by the common labels and count other alert names', () => {
    const alerts = [
      alert({ alertname: 'A', service: 'checkout', instance: '1' }),
      alert({ alertname: 'A', service: 'checkout', instance: '2' }),
      alert({ alertname: 'B', service: 'checkout' }),
      alert({ alertname: 'C', service: 'checkout' }),
    ];
    expect(batchTitle(alerts, { service: 'checkout' })).toBe('A (service=checkout) and 2 more');
  });

  it('lead with a firing alert when some are resolved', () => {
    expect(batchTitle([alert({ alertname: 'Old' }, 'resolved'), alert({ alertname: 'New' })])).toBe(
      'New and 1 more',
    );
  });

  it('fall back to the summary annotation without an alertname', () => {
    expect(batchTitle([alert({}, 'firing', 'Checkout is slow')])).toBe('Checkout is slow');
  });

  it('are at most 200 characters, cut on a code point', () => {
    const t = batchTitle([alert({ alertname: '🔥'.repeat(300) })]);
    expect(Array.from(t)).toHaveLength(200);
    expect(t.endsWith('🔥…')).toBe(true);
  });
});
