import { z } from 'zod';
import { foldTimeline } from './incident.js';
import { Severity } from './incident-model.js';
import { humanDuration, incidentFigures, METRIC_KEYS, type MetricKey } from './postmortem/index.js';
import type { TimelineEntry } from './timeline.js';

/** `30d`, `12h`, `2w` (days, hours, weeks) → milliseconds; the report's `--since`. */
export const SinceArg = z
  .string()
  .trim()
  .regex(/^\d{1,4}[hdw]$/i, 'since must be a number of hours, days or weeks like 12h, 30d or 2w')
  .transform((s) => {
    const n = Number(s.slice(0, -1));
    const unit = s.at(-1)!.toLowerCase();
    return n * (unit === 'h' ? 3_600_000 : unit === 'd' ? 86_400_000 : 7 * 86_400_000);
  })
  .refine((ms) => ms > 0, 'since must be more than 0');

/** Median and 90th percentile of one duration (seconds) over `count` incidents that have it (nearest-rank). */
export interface DurationStats {
  count: number;
  median: number | null;
  p90: number | null;
}

/** One row of the report: a severity, or `all`. */
export interface ReportRow {
  severity: Severity | 'all';
  /** Closed incidents (declined and merged ones are counted apart, not here). */
  count: number;
  declined: number;
  merged: number;
  metrics: Record<MetricKey, DurationStats>;
  /** Seconds on ruled-out hypotheses per incident (all closed incidents, 0 for none). */
  misleading: DurationStats & { totalSeconds: number };
}

/** Reports across incidents: per severity and overall, and the hypotheses most often ruled out. */
export interface Report {
  /** The window (ISO 8601 UTC): incidents closed in it. */
  from: string;
  to: string;
  rows: ReportRow[];
  /** Hypothesis categories most often ruled out: times, and in how many incidents. */
  ruledOut: { category: string; times: number; incidents: number }[];
  /** Open incidents, not in the figures (they have no end yet). */
  openExcluded: number;
}

/** Nearest-rank percentile `p` (0-1] of sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

function stats(values: number[]): DurationStats {
  const s = [...values].sort((a, b) => a - b);
  return { count: s.length, median: percentile(s, 0.5), p90: percentile(s, 0.9) };
}

/**
 * Builds the report from the timelines of the incidents closed within [from, to] (ISO 8601 UTC) and
 * the number of incidents still open (excluded). Declined and merged incidents are counted apart and
 * feed no figures. Durations use the postmortem's metric definitions (`incidentFigures`).
 */
export function buildReport(
  closedTimelines: readonly (readonly TimelineEntry[])[],
  window: { from: string; to: string },
  openExcluded: number,
): Report {
  type Acc = {
    count: number;
    declined: number;
    merged: number;
    m: Record<MetricKey, number[]>;
    mis: number[];
  };
  const acc = new Map<Severity | 'all', Acc>();
  const get = (k: Severity | 'all') => {
    let a = acc.get(k);
    if (!a) {
      a = {
        count: 0,
        declined: 0,
        merged: 0,
        m: { detect: [], acknowledge: [], identify: [], mitigate: [], resolve: [] },
        mis: [],
      };
      acc.set(k, a);
    }
    return a;
  };
  const ruled = new Map<string, { times: number; incidents: number }>();
  for (const entries of closedTimelines) {
    const inc = foldTimeline([...entries].sort((a, b) => a.seq - b.seq));
    if (inc.status !== 'closed') continue;
    const targets = [get(inc.severity), get('all')];
    if (inc.closedAs) {
      for (const a of targets) a[inc.closedAs]++;
      continue;
    }
    const f = incidentFigures(entries);
    for (const a of targets) {
      a.count++;
      for (const k of METRIC_KEYS) if (f.seconds[k] !== undefined) a.m[k].push(f.seconds[k]!);
      a.mis.push(f.misleadingSeconds);
    }
    const seen = new Set<string>();
    for (const h of f.ruledOut) {
      const r = ruled.get(h.category) ?? { times: 0, incidents: 0 };
      r.times++;
      if (!seen.has(h.category)) r.incidents++;
      seen.add(h.category);
      ruled.set(h.category, r);
    }
  }
  const rows: ReportRow[] = [];
  for (const sev of [...Severity.options, 'all'] as const) {
    const a = acc.get(sev);
    if (!a && sev !== 'all') continue;
    const x = a ?? get('all');
    const metrics = Object.fromEntries(METRIC_KEYS.map((k) => [k, stats(x.m[k])])) as Record<
      MetricKey,
      DurationStats
    >;
    rows.push({
      severity: sev,
      count: x.count,
      declined: x.declined,
      merged: x.merged,
      metrics,
      misleading: { ...stats(x.mis), totalSeconds: x.mis.reduce((n, v) => n + v, 0) },
    });
  }
  const ruledOut = [...ruled.entries()]
    .map(([category, r]) => ({ category, ...r }))
    .sort((a, b) => b.times - a.times || b.incidents - a.incidents || (a.category < b.category ? -1 : 1));
  return { from: window.from, to: window.to, rows, ruledOut, openExcluded };
}

const dur = (s: number | null) => (s === null ? '-' : humanDuration(s));
const REPORT_METRICS: readonly MetricKey[] = ['acknowledge', 'identify', 'mitigate', 'resolve'];

/** The report as a plain-text table (for a terminal, or a Slack code block). */
export function reportTable(r: Report): string {
  const head = [
    'severity',
    'count',
    'declined',
    'merged',
    ...REPORT_METRICS.flatMap((k) => [`${k} p50`, `${k} p90`]),
    'misleading p50',
    'misleading total',
  ];
  const body = r.rows.map((row) => [
    row.severity,
    String(row.count),
    String(row.declined),
    String(row.merged),
    ...REPORT_METRICS.flatMap((k) => [dur(row.metrics[k].median), dur(row.metrics[k].p90)]),
    dur(row.misleading.median),
    dur(row.misleading.totalSeconds),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [
    `Incidents closed ${r.from} – ${r.to} (UTC); ${r.openExcluded} open incident${r.openExcluded === 1 ? '' : 's'} not counted`,
    line(head),
    ...body.map(line),
    '',
    r.ruledOut.length
      ? `Most often ruled out: ${r.ruledOut.map((x) => `${x.category} ${x.times}× in ${x.incidents} incident${x.incidents === 1 ? '' : 's'}`).join(', ')}`
      : 'Most often ruled out: none recorded',
  ];
  return out.join('\n');
}

/** The report as CSV (RFC 4180): one line per severity row, durations in seconds (empty when none). */
export function reportCsv(r: Report): string {
  const head = [
    'severity',
    'count',
    'declined',
    'merged',
    ...METRIC_KEYS.flatMap((k) => [`${k}_median_s`, `${k}_p90_s`, `${k}_n`]),
    'misleading_median_s',
    'misleading_total_s',
  ];
  const n = (v: number | null) => (v === null ? '' : String(v));
  const rows = r.rows.map((row) =>
    [
      row.severity,
      row.count,
      row.declined,
      row.merged,
      ...METRIC_KEYS.flatMap((k) => [n(row.metrics[k].median), n(row.metrics[k].p90), row.metrics[k].count]),
      n(row.misleading.median),
      row.misleading.totalSeconds,
    ].join(','),
  );
  return `${[head.join(','), ...rows].join('\r\n')}\r\n`;
}
