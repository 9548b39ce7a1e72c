import { describe, expect, it } from 'vitest';
import { buildReport, percentile, reportCsv, reportTable, SinceArg } from '../../src/core/report.js';
import type { NewEntry, TimelineEntry } from '../../src/core/timeline.js';

const U = { type: 'user', id: 'U0ALICE01' } as const;
const ALERT = { type: 'alert', source: 'alertmanager' } as const;

type Raw = NewEntry extends infer E ? (E extends NewEntry ? Omit<E, 'incidentId'> : never) : never;

/** A timeline from entries without seq/incidentId (seq in order). */
function tl(id: string, entries: Raw[]): TimelineEntry[] {
  return entries.map((e, i) => ({ ...e, seq: i + 1, incidentId: id }) as TimelineEntry);
}
const slash = (at: string) => ({ at, actor: U, source: 'slash' as const });

// SEV1, across midnight: first alert 23:45, declared by the alert 23:50, acknowledged 23:55,
// database suspected 00:00 and ruled out 00:30, identified 00:40, monitoring 01:00, resolved 01:15.
const acrossMidnight = tl('INC-1', [
  {
    kind: 'declared',
    at: '2024-05-01T23:50:00.000Z',
    actor: ALERT,
    source: 'alert',
    title: 'Checkout 5xx',
    severity: 'SEV1',
    alertGroupId: 'g1',
  },
  {
    kind: 'alert_fired',
    at: '2024-05-01T23:45:00.000Z',
    actor: ALERT,
    source: 'alert',
    alertGroupId: 'g1',
    fingerprint: 'f',
    name: 'HighErrorRate',
    labels: {},
    annotations: {},
    startsAt: '2024-05-01T23:45:00.000Z',
  },
  { kind: 'note', ...slash('2024-05-01T23:55:00.000Z'), text: 'looking' },
  {
    kind: 'hypothesis_suspected',
    ...slash('2024-05-02T00:00:00.000Z'),
    hypothesisId: 'H1',
    text: 'db overloaded',
    category: 'database',
  },
  { kind: 'hypothesis_ruled_out', ...slash('2024-05-02T00:30:00.000Z'), hypothesisId: 'H1' },
  { kind: 'status_changed', ...slash('2024-05-02T00:40:00.000Z'), from: 'investigating', to: 'identified' },
  { kind: 'status_changed', ...slash('2024-05-02T01:00:00.000Z'), from: 'identified', to: 'monitoring' },
  { kind: 'status_changed', ...slash('2024-05-02T01:15:00.000Z'), from: 'monitoring', to: 'resolved' },
  { kind: 'closed', ...slash('2024-05-02T01:30:00.000Z') },
]);

// SEV1, declared by a person at 10:00: database 10:05–10:25 and traffic surge 10:10–10:20 ruled
// out, load balancer confirmed 10:40, monitoring 10:50, resolved 11:00.
const declaredByPerson = tl('INC-2', [
  { kind: 'declared', ...slash('2024-05-03T10:00:00.000Z'), title: 'Slow pages', severity: 'SEV1' },
  {
    kind: 'hypothesis_suspected',
    ...slash('2024-05-03T10:05:00.000Z'),
    hypothesisId: 'H1',
    text: 'db',
    category: 'database',
  },
  {
    kind: 'hypothesis_suspected',
    ...slash('2024-05-03T10:10:00.000Z'),
    hypothesisId: 'H2',
    text: 'ddos',
    category: 'traffic-surge',
  },
  { kind: 'hypothesis_ruled_out', ...slash('2024-05-03T10:20:00.000Z'), hypothesisId: 'H2' },
  { kind: 'hypothesis_ruled_out', ...slash('2024-05-03T10:25:00.000Z'), hypothesisId: 'H1' },
  {
    kind: 'hypothesis_suspected',
    ...slash('2024-05-03T10:30:00.000Z'),
    hypothesisId: 'H3',
    text: 'weights',
    category: 'load-balancer',
  },
  { kind: 'hypothesis_confirmed', ...slash('2024-05-03T10:40:00.000Z'), hypothesisId: 'H3' },
  { kind: 'status_changed', ...slash('2024-05-03T10:50:00.000Z'), from: 'identified', to: 'monitoring' },
  { kind: 'status_changed', ...slash('2024-05-03T11:00:00.000Z'), from: 'monitoring', to: 'resolved' },
  { kind: 'closed', ...slash('2024-05-03T11:05:00.000Z') },
]);

// SEV2 closed after 30 minutes with no status changes (nothing identified).
const closedQuickly = tl('INC-3', [
  { kind: 'declared', ...slash('2024-05-04T12:00:00.000Z'), title: 'Blip', severity: 'SEV2' },
  { kind: 'closed', ...slash('2024-05-04T12:30:00.000Z') },
]);
const declined = tl('INC-4', [
  { kind: 'declared', ...slash('2024-05-04T13:00:00.000Z'), title: 'Flappy probe', severity: 'SEV2' },
  { kind: 'closed', ...slash('2024-05-04T13:05:00.000Z'), as: 'declined', resolution: 'false alarm' },
]);
const merged = tl('INC-5', [
  { kind: 'declared', ...slash('2024-05-04T14:00:00.000Z'), title: 'Dup', severity: 'SEV3' },
  { kind: 'closed', ...slash('2024-05-04T14:05:00.000Z'), as: 'merged', mergedInto: 'INC-3' },
]);

const WINDOW = { from: '2024-05-01T00:00:00.000Z', to: '2024-05-31T00:00:00.000Z' };

describe('reports across incidents', () => {
  const r = buildReport([acrossMidnight, declaredByPerson, closedQuickly, declined, merged], WINDOW, 2);
  const row = (s: string) => r.rows.find((x) => x.severity === s)!;

  it('gives per-severity counts, with declined and merged incidents counted apart and open ones excluded', () => {
    expect(r.rows.map((x) => [x.severity, x.count, x.declined, x.merged])).toEqual([
      ['SEV1', 2, 0, 0],
      ['SEV2', 1, 1, 0],
      ['SEV3', 0, 0, 1],
      ['all', 3, 1, 1],
    ]);
    expect(r.openExcluded).toBe(2);
  });

  it('measures with the postmortem’s definitions, across midnight, as nearest-rank median and p90', () => {
    expect(row('SEV1').metrics).toEqual({
      detect: { count: 1, median: 300, p90: 300 },
      acknowledge: { count: 2, median: 0, p90: 300 },
      identify: { count: 2, median: 2400, p90: 3300 },
      mitigate: { count: 2, median: 3000, p90: 4500 },
      resolve: { count: 2, median: 3600, p90: 5400 },
    });
    expect(row('SEV2').metrics.identify).toEqual({ count: 0, median: null, p90: null });
    expect(row('SEV2').metrics.resolve).toEqual({ count: 1, median: 1800, p90: 1800 });
    expect(row('all').metrics.resolve).toEqual({ count: 3, median: 3600, p90: 5400 });
    expect(row('all').metrics.acknowledge).toEqual({ count: 3, median: 0, p90: 300 });
  });

  it('adds up the time on misleading paths and ranks the hypotheses most often ruled out', () => {
    expect(row('SEV1').misleading).toEqual({ count: 2, median: 1800, p90: 1800, totalSeconds: 3600 });
    expect(row('all').misleading.totalSeconds).toBe(3600);
    expect(r.ruledOut).toEqual([
      { category: 'database', times: 2, incidents: 2 },
      { category: 'traffic-surge', times: 1, incidents: 1 },
    ]);
  });

  it('prints a table and CSV, and an empty table when there is nothing in the window', () => {
    const table = reportTable(r);
    expect(table).toContain('2 open incidents not counted');
    expect(table).toMatch(/^SEV1 +2 +0 +0 +0 s +5 min +40 min +55 min /m);
    expect(table).toContain(
      'Most often ruled out: database 2× in 2 incidents, traffic-surge 1× in 1 incident',
    );
    const csv = reportCsv(r).split('\r\n');
    expect(csv[0]).toMatch(/^severity,count,declined,merged,detect_median_s,detect_p90_s,detect_n,/);
    expect(csv[1]).toBe('SEV1,2,0,0,300,300,1,0,300,2,2400,3300,2,3000,4500,2,3600,5400,2,1800,3600');

    const empty = buildReport([], WINDOW, 0);
    expect(empty.rows).toEqual([
      expect.objectContaining({ severity: 'all', count: 0, declined: 0, merged: 0 }),
    ]);
    expect(reportTable(empty)).toContain('all       0');
    expect(reportTable(empty)).toContain('Most often ruled out: none recorded');
  });

  it('reads --since as hours, days or weeks and refuses anything else', () => {
    expect(SinceArg.parse('30d')).toBe(30 * 86_400_000);
    expect(SinceArg.parse('12h')).toBe(12 * 3_600_000);
    expect(SinceArg.parse('2W')).toBe(14 * 86_400_000);
    for (const bad of ['30', 'd', '-1d', '0d', '30 days', '1y'])
      expect(SinceArg.safeParse(bad).success).toBe(false);
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
  });
});
