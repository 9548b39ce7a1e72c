/** The "Metrics" section: time to detect, acknowledge, identify, mitigate and resolve. */
import { differenceInSeconds } from 'date-fns';
import type { Incident } from '../incident.js';
import type { EntryOf } from '../timeline.js';
import { UTCDate } from '../utc.js';
import { describe, refOf, uniq } from './facts.js';
import type { Lifecycle, Sources } from './provenance.js';
import { earliestAlert } from './summary.js';
import { humanDuration, markdownText, utc } from './text.js';
import type { Metric, SourcedTime } from './view.js';

/** One end of a metric: when, what, and the entry. */
export interface Point {
  at: string;
  /** What happened then, e.g. `first alert HighErrorRate`. */
  what: string;
  seq: number;
}

/** The response metrics, in section order; shared by the postmortem and the reports across incidents. */
export const METRIC_KEYS = ['detect', 'acknowledge', 'identify', 'mitigate', 'resolve'] as const;
export type MetricKey = (typeof METRIC_KEYS)[number];

/** One time-to-X span of the metrics section, before formatting: its two ends (undefined when missing). */
export interface MetricSpan {
  key: MetricKey;
  name: string;
  from: Point | undefined;
  to: Point | undefined;
  missing: string;
}

/** The definitions of the metrics section, as spans between timeline points (one place for the draft and the reports). */
export function metricSpans(
  inc: Incident,
  sourceOf: Sources,
  declaredSeq: number,
  start: { at: string; view: SourcedTime },
  fired: EntryOf<'alert_fired'>[],
): MetricSpan[] {
  const declared: Point = { at: inc.declaredAt, what: 'incident declared', seq: declaredSeq };
  const begin: Point = { at: start.at, what: start.view.basis, seq: start.view.seqs[0]! };
  const first = earliestAlert(fired);
  const point = (key: Lifecycle): Point | undefined => {
    const e = sourceOf[key];
    const at = inc[key];
    return e && at ? { at, what: describe(e), seq: e.seq } : undefined;
  };
  return [
    {
      key: 'detect',
      name: 'Time to detect',
      from: first && {
        at: first.startsAt,
        what: `first alert ${markdownText(first.name)} started`,
        seq: first.seq,
      },
      to: declared,
      missing: 'no alert recorded when the impact began',
    },
    {
      key: 'acknowledge',
      name: 'Time to acknowledge',
      from: declared,
      to: point('acknowledgedAt'),
      missing: 'nobody acted on the incident in Slack',
    },
    {
      key: 'identify',
      name: 'Time to identify',
      from: begin,
      to: point('identifiedAt'),
      missing: 'no status identified and no confirmed hypothesis',
    },
    {
      key: 'mitigate',
      name: 'Time to mitigate',
      from: begin,
      to: point('mitigatedAt'),
      missing: 'no status monitoring (fix in place)',
    },
    {
      key: 'resolve',
      name: 'Time to resolve',
      from: begin,
      to: point('resolvedAt'),
      missing: 'not resolved yet',
    },
  ];
}

/** Time to detect, acknowledge, identify, mitigate and resolve, each with the entries it measures between. */
export function metrics(
  inc: Incident,
  sourceOf: Sources,
  declaredSeq: number,
  start: { at: string; view: SourcedTime },
  fired: EntryOf<'alert_fired'>[],
): Metric[] {
  return metricSpans(inc, sourceOf, declaredSeq, start, fired).map(({ name, from, to, missing }) => {
    const label = (p: Point | undefined) => (p ? `${utc(p.at)} ${p.what}` : null);
    const seqs = uniq([from?.seq, to?.seq].filter((s) => s !== undefined));
    if (!from || !to)
      return { name, value: `n/a — ${missing}`, from: label(from), to: label(to), ref: refOf(seqs) };
    const secs = differenceInSeconds(new UTCDate(to.at), new UTCDate(from.at));
    return {
      name,
      value: secs >= 0 ? humanDuration(secs) : `n/a — ${to.what} came before ${from.what}`,
      from: label(from),
      to: label(to),
      ref: refOf(seqs),
    };
  });
}
