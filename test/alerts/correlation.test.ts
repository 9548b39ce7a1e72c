import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupId } from '../../src/alerts/group-id.js';
import type { Alert, AlertBatch } from '../../src/core/alert.js';
import { type AlertStates, correlate } from '../../src/core/correlation.js';

const T0 = '2024-05-01T10:00:00.000Z';
const T1 = '2024-05-01T10:20:00.000Z';
const T2 = '2024-05-01T11:00:00.000Z';

function alert(fingerprint: string, status: Alert['status'], startsAt = T0, endsAt?: string): Alert {
  return {
    fingerprint,
    status,
    name: 'HighErrorRate',
    labels: { alertname: 'HighErrorRate', instance: fingerprint },
    annotations: { summary: 's' },
    startsAt,
    ...(endsAt ? { endsAt } : {}),
    generatorURL: 'http://prometheus/graph',
  };
}

function batch(...alerts: Alert[]): AlertBatch {
  return {
    source: 'alertmanager',
    groupKey: '{}:{alertname="HighErrorRate"}',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    title: 'HighErrorRate',
    severity: 'SEV2',
    alerts,
    receivedAt: '2024-05-01T12:00:00.000Z',
  };
}

/** Feeds batches one after another, as the store would, returning each step's kinds. */
function run(...batches: AlertBatch[]) {
  let states: AlertStates = {};
  return batches.map((b) => {
    const c = correlate(b, states);
    states = c.next;
    return {
      kinds: c.changes.map((x) => `${x.kind}:${x.fingerprint}`),
      fullyResolved: c.fullyResolved,
      states,
    };
  });
}

describe('alert correlation', () => {
  it('records a new firing alert as alert_fired, in the timeline entry shape', () => {
    const c = correlate(batch(alert('a', 'firing')), {});
    expect(c.changes).toEqual([
      {
        kind: 'alert_fired',
        fingerprint: 'a',
        name: 'HighErrorRate',
        labels: { alertname: 'HighErrorRate', instance: 'a' },
        annotations: { summary: 's' },
        startsAt: T0,
        generatorURL: 'http://prometheus/graph',
      },
    ]);
    expect(c.next).toEqual({ a: { status: 'firing', startsAt: T0 } });
    expect(c.fullyResolved).toBe(false);
  });

  it('records nothing for a re-send of the same state', () => {
    const steps = run(batch(alert('a', 'firing')), batch(alert('a', 'firing')), batch(alert('a', 'firing')));
    expect(steps.map((s) => s.kinds)).toEqual([['alert_fired:a'], [], []]);
  });

  it('records nothing for a re-sent resolve', () => {
    const r = alert('a', 'resolved', T0, T1);
    const steps = run(batch(alert('a', 'firing')), batch(r), batch(r));
    expect(steps.map((s) => s.kinds)).toEqual([['alert_fired:a'], ['alert_resolved:a'], []]);
  });

  it('resolves with the alert’s end time, and is fully resolved once every known alert is', () => {
    const steps = run(
      batch(alert('a', 'firing'), alert('b', 'firing')),
      batch(alert('a', 'resolved', T0, T1), alert('b', 'firing')),
      batch(alert('b', 'resolved', T0, T1)),
    );
    expect(steps.map((s) => [s.kinds, s.fullyResolved])).toEqual([
      [['alert_fired:a', 'alert_fired:b'], false],
      [['alert_resolved:a'], false],
      [['alert_resolved:b'], true],
    ]);
    expect(steps[2]?.states.a).toEqual({ status: 'resolved', startsAt: T0, endsAt: T1 });
  });

  it('fires again when a resolved alert comes back with a new startsAt', () => {
    const steps = run(
      batch(alert('a', 'firing', T0)),
      batch(alert('a', 'resolved', T0, T1)),
      batch(alert('a', 'firing', T2)),
    );
    expect(steps.map((s) => [s.kinds, s.fullyResolved])).toEqual([
      [['alert_fired:a'], false],
      [['alert_resolved:a'], true],
      [['alert_fired:a'], false],
    ]);
  });

  it('ignores a late retry of the firing delivery that came before the resolve', () => {
    const steps = run(
      batch(alert('a', 'firing', T0)),
      batch(alert('a', 'resolved', T0, T1)),
      batch(alert('a', 'firing', T0)),
    );
    expect(steps.map((s) => s.kinds)).toEqual([['alert_fired:a'], ['alert_resolved:a'], []]);
    expect(steps[2]?.fullyResolved).toBe(true);
  });

  it('ignores a delivery about an older episode than the one recorded', () => {
    const steps = run(batch(alert('a', 'firing', T2)), batch(alert('a', 'resolved', T0, T1)));
    expect(steps.map((s) => s.kinds)).toEqual([['alert_fired:a'], []]);
  });

  it('records an alert first seen resolved without a change, and counts it as known', () => {
    const c = correlate(batch(alert('a', 'resolved', T0, T1)), {});
    expect(c.changes).toEqual([]);
    expect(c.fullyResolved).toBe(true);
    expect(c.next.a?.status).toBe('resolved');
  });

  it('stays unresolved while an alert absent from this batch is still firing', () => {
    const c = correlate(batch(alert('b', 'resolved', T0, T1)), { a: { status: 'firing', startsAt: T0 } });
    expect(c.fullyResolved).toBe(false);
  });

  it('records any sequence of deliveries at most once per real transition', () => {
    const delivery = fc.record({
      fp: fc.constantFrom('a', 'b'),
      status: fc.constantFrom('firing' as const, 'resolved' as const),
      startsAt: fc.constantFrom(T0, T1, T2),
    });
    fc.assert(
      fc.property(fc.array(delivery, { maxLength: 30 }), (deliveries) => {
        const steps = run(...deliveries.map((d) => batch(alert(d.fp, d.status, d.startsAt, d.startsAt))));
        const kinds = steps.flatMap((s) => s.kinds);
        for (const fp of ['a', 'b']) {
          // Per alert, fired and resolved alternate, starting with fired.
          const mine = kinds.filter((k) => k.endsWith(`:${fp}`)).map((k) => k.split(':')[0]);
          expect(mine).toEqual(mine.map((_, i) => (i % 2 === 0 ? 'alert_fired' : 'alert_resolved')));
        }
        // Sending the last batch again changes nothing.
        const last = deliveries.at(-1);
        if (last) {
          const again = correlate(
            batch(alert(last.fp, last.status, last.startsAt, last.startsAt)),
            steps.at(-1)!.states,
          );
          expect(again.changes).toEqual([]);
        }
      }),
    );
  });
});

describe('alert group ids', () => {
  it('are stable, short, source-scoped and safe for Redis keys and BullMQ job ids', () => {
    const key = '{}/{severity="critical"}:{alertname="HighErrorRate"}';
    expect(groupId('alertmanager', key)).toBe(groupId('alertmanager', key));
    expect(groupId('alertmanager', key)).not.toBe(groupId('grafana', key));
    fc.assert(
      fc.property(
        fc.constantFrom('alertmanager', 'grafana', 'pagerduty', 'generic' as const),
        fc.string(),
        (s, k) => {
          const id = groupId(s, k);
          return /^[a-z]+-[0-9a-f]{16}$/.test(id) && !id.includes(':') && !/^\d+$/.test(id);
        },
      ),
    );
  });
});
