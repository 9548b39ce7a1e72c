import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Alert,
  type AlertBatch,
  alertSeverityAsk,
  DEFAULT_SEVERITY_MAPPING,
  parseSeverityMapping,
  severityAsk,
  withSeverityAsk,
} from '../../src/core/alert.js';
import {
  type AlertAsk,
  type AlertStates,
  correlate,
  raiseReason,
  topAsk,
} from '../../src/core/correlation.js';
import { isMoreSevere, Severity } from '../../src/core/incident-model.js';
import { postmortemView } from '../../src/core/postmortem/index.js';
import { confirmationFor, timelineLine } from '../../src/slack/render.js';

const M = DEFAULT_SEVERITY_MAPPING;
const T0 = '2024-05-01T10:00:00.000Z';
const T1 = '2024-05-01T10:20:00.000Z';
const T2 = '2024-05-01T11:00:00.000Z';

function alert(fingerprint: string, status: Alert['status'], severity?: string, startsAt = T0): Alert {
  const labels: Record<string, string> = { alertname: 'HighErrorRate', instance: fingerprint };
  if (severity) labels.severity = severity;
  const a: Alert = { fingerprint, status, name: 'HighErrorRate', labels, annotations: {}, startsAt };
  if (status === 'resolved') a.endsAt = T1;
  return withSeverityAsk(a, M);
}

function batch(alerts: Alert[], extra: Partial<AlertBatch> = {}): AlertBatch {
  return {
    source: 'alertmanager',
    groupKey: '{}:{alertname="HighErrorRate"}',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    title: 'HighErrorRate',
    severity: 'SEV3',
    alerts,
    receivedAt: '2024-05-01T12:00:00.000Z',
    ...extra,
  };
}

/** Feeds batches one after another, as the store would, returning each step's asks (`fp:SEVn`). */
function asksOf(...batches: AlertBatch[]): string[][] {
  let states: AlertStates = {};
  return batches.map((b) => {
    const c = correlate(b, states);
    states = c.next;
    return c.asks.map((a) => `${a.fingerprint}:${a.severity}`);
  });
}

describe('severity comparison', () => {
  it('orders SEV1 as the most severe and is strict', () => {
    expect(isMoreSevere('SEV1', 'SEV2')).toBe(true);
    expect(isMoreSevere('SEV2', 'SEV4')).toBe(true);
    expect(isMoreSevere('SEV3', 'SEV1')).toBe(false);
    for (const s of Severity.options) expect(isMoreSevere(s, s)).toBe(false);
  });
});

describe('what an alert asks for', () => {
  it('names the field and the word that asked, from labels, then annotations, then priority', () => {
    expect(alertSeverityAsk({ labels: { severity: 'Critical ' }, annotations: {} }, M)).toEqual({
      severity: 'SEV1',
      because: 'severity=Critical',
    });
    expect(
      alertSeverityAsk(
        { labels: { severity: 'bogus', priority: 'P2' }, annotations: { severity: 'warning' } },
        M,
      ),
    ).toEqual({ severity: 'SEV3', because: 'severity=warning' });
    expect(alertSeverityAsk({ labels: { priority: 'p2' }, annotations: {} }, M)).toEqual({
      severity: 'SEV2',
      because: 'priority=p2',
    });
    expect(alertSeverityAsk({ labels: { severity: 'bogus' }, annotations: {} }, M)).toBeUndefined();
  });

  it('skips unknown and missing words, and follows an overridden mapping', () => {
    const mapping = parseSeverityMapping('disaster=SEV1');
    expect(
      severityAsk(
        [
          ['severity', undefined],
          ['severity', null],
          ['severity', 'disaster'],
        ],
        mapping,
      ),
    ).toEqual({ severity: 'SEV1', because: 'severity=disaster' });
    expect(severityAsk([['severity', 'disaster']], M)).toBeUndefined();
  });

  it('leaves an alert without a known word without an ask (the fallback is not an ask)', () => {
    expect(alert('a', 'firing').severityAsk).toBeUndefined();
    expect(alert('a', 'firing', 'critical').severityAsk).toEqual({
      severity: 'SEV1',
      because: 'severity=critical',
    });
  });
});

describe('severity asks from correlation', () => {
  it('asks once when a group goes from warning to critical, and not again on re-sends or a later warning', () => {
    const warn = alert('w', 'firing', 'warning');
    const crit = alert('c', 'firing', 'critical', T1);
    expect(
      asksOf(
        batch([warn]),
        batch([warn, crit]),
        batch([warn, crit]),
        batch([warn, { ...crit, status: 'resolved', endsAt: T2 }]),
        batch([warn]),
      ),
    ).toEqual([['w:SEV3'], ['c:SEV1'], [], [], []]);
  });

  it('asks when the same still-firing alert is sent again with a more severe word, never for a less severe one', () => {
    // The generic format: one dedupKey, its severity changing while it fires.
    expect(
      asksOf(
        batch([alert('k', 'firing', 'warning')]),
        batch([alert('k', 'firing', 'critical', T1)]),
        batch([alert('k', 'firing', 'warning', T2)]),
        batch([alert('k', 'firing', 'critical', T2)]),
      ),
    ).toEqual([['k:SEV3'], ['k:SEV1'], [], []]);
  });

  it('records the ask of the episode with the state, and keeps the episode start for the claim', () => {
    const c1 = correlate(batch([alert('k', 'firing', 'warning')]), {});
    expect(c1.next.k).toEqual({ status: 'firing', startsAt: T0, severity: 'SEV3' });
    const c2 = correlate(batch([alert('k', 'firing', 'critical', T1)]), c1.next);
    expect(c2.next.k).toEqual({ status: 'firing', startsAt: T0, severity: 'SEV1' });
    expect(c2.asks).toEqual([
      {
        fingerprint: 'k',
        name: 'HighErrorRate',
        startsAt: T0,
        severity: 'SEV1',
        because: 'severity=critical',
      },
    ]);
    expect(c2.changes).toEqual([]);
  });

  it('asks nothing for resolved alerts, late deliveries of older episodes, or retries from before a resolve', () => {
    const first = alert('a', 'firing', 'warning', T1);
    expect(
      asksOf(
        batch([alert('r', 'resolved', 'critical')]),
        batch([first]),
        batch([alert('a', 'firing', 'critical', T0)]),
        batch([{ ...first, status: 'resolved', endsAt: T2 }]),
        batch([alert('a', 'firing', 'critical', T1)]),
      ),
    ).toEqual([[], ['a:SEV3'], [], [], []]);
  });

  it('asks again in a new firing episode', () => {
    const a = alert('a', 'firing', 'critical');
    expect(
      asksOf(batch([a]), batch([{ ...a, status: 'resolved', endsAt: T1 }]), batch([{ ...a, startsAt: T2 }])),
    ).toEqual([['a:SEV1'], [], ['a:SEV1']]);
  });

  it('lets a severity-only batch raise an alert the group has firing, and change or record nothing else', () => {
    const warn = alert('a', 'firing', 'warning');
    const only = { severityOnly: true as const };
    let c = correlate(batch([alert('x', 'firing', 'critical')], only), {});
    expect(c).toMatchObject({ changes: [], asks: [], next: {} });
    c = correlate(batch([warn]), {});
    const firing = c.next;
    c = correlate(
      batch([alert('a', 'firing', 'critical'), alert('new', 'firing', 'critical')], only),
      firing,
    );
    expect(c.changes).toEqual([]);
    expect(c.asks.map((a) => `${a.fingerprint}:${a.severity}`)).toEqual(['a:SEV1']);
    expect(Object.keys(c.next)).toEqual(['a']);
    const resolved = correlate(batch([{ ...warn, status: 'resolved', endsAt: T1 }]), firing).next;
    c = correlate(batch([alert('a', 'firing', 'critical')], only), resolved);
    expect(c).toMatchObject({ changes: [], asks: [] });
    expect(c.next).toEqual(resolved);
  });

  it('never asks twice for the same batch fed again, whatever the batches (property)', () => {
    const sev = fc.constantFrom('critical', 'error', 'warning', 'info', 'bogus', undefined);
    const one = fc.record({
      fp: fc.constantFrom('a', 'b', 'c'),
      status: fc.constantFrom('firing' as const, 'resolved' as const),
      sev,
      start: fc.constantFrom(T0, T1, T2),
    });
    fc.assert(
      fc.property(
        // Fingerprints are unique within a delivery, as every sender makes them.
        fc.array(fc.uniqueArray(one, { minLength: 1, maxLength: 3, selector: (x) => x.fp }), {
          maxLength: 8,
        }),
        (steps) => {
          let states: AlertStates = {};
          for (const step of steps) {
            const b = batch(step.map((x) => alert(x.fp, x.status, x.sev, x.start)));
            const c = correlate(b, states);
            for (const a of c.asks) {
              expect(b.alerts.some((x) => x.fingerprint === a.fingerprint && x.status === 'firing')).toBe(
                true,
              );
            }
            states = c.next;
            expect(correlate(b, states).asks).toEqual([]);
          }
        },
      ),
    );
  });
});

describe('the raise an incident gets', () => {
  const ask = (fingerprint: string, severity: Severity): AlertAsk => ({
    fingerprint,
    name: 'HighErrorRate',
    startsAt: T0,
    severity,
    because: 'severity=x',
  });

  it('is the most severe ask, the first of equals', () => {
    expect(topAsk([ask('a', 'SEV3'), ask('b', 'SEV1'), ask('c', 'SEV1')])?.fingerprint).toBe('b');
    expect(topAsk([])).toBeUndefined();
  });

  it('says which alert asked, with which word, from where', () => {
    const a = { ...ask('a', 'SEV1'), because: 'severity=critical' };
    expect(raiseReason(a, 'alertmanager')).toBe(
      'raised by alert HighErrorRate (severity=critical) from alertmanager',
    );
  });

  it('shows the reason escaped in the channel confirmation and the timeline', () => {
    const e = {
      kind: 'severity_changed' as const,
      seq: 7,
      incidentId: 'INC-3',
      at: T1,
      actor: { type: 'alert' as const, source: 'generic' },
      source: 'alert' as const,
      from: 'SEV3' as const,
      to: 'SEV1' as const,
      reason: 'raised by alert <!channel> & co (severity=critical) from generic',
    };
    expect(confirmationFor(e)?.text).toBe(
      ':red_circle: Severity: *SEV3* → *SEV1* (by alert (generic)) — raised by alert &lt;!channel&gt; &amp; co (severity=critical) from generic',
    );
    expect(timelineLine(e)).toContain(
      'severity SEV3 → SEV1, raised by alert &lt;!channel&gt; &amp; co (severity=critical) from generic',
    );
    const declared = {
      kind: 'declared' as const,
      seq: 1,
      incidentId: 'INC-3',
      at: T0,
      actor: { type: 'alert' as const, source: 'generic' },
      source: 'alert' as const,
      title: 't',
      severity: 'SEV3' as const,
    };
    const rows = postmortemView([declared, e]).timeline.items;
    expect(JSON.stringify(rows.find((r) => r.label === 'Severity'))).toContain(
      'SEV3 → SEV1, raised by alert &lt;!channel&gt; & co (severity=critical) from generic',
    );
    const { reason: _, ...human } = e;
    expect(confirmationFor({ ...human, actor: { type: 'user', id: 'U1' }, source: 'slash' })?.text).toBe(
      ':red_circle: Severity: *SEV3* → *SEV1* (by <@U1>)',
    );
  });
});
