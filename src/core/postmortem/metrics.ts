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

/** Time to detect, acknowledge, identify, mitigate and resolve, each with the entries it measures between. */
export function metrics(
  inc: Incident,
  sourceOf: Sources,
  declaredSeq: number,
  start: { at: string; view: SourcedTime },
  fired: EntryOf<'alert_fired'>[],
): Metric[] {
  const declared: Point = { at: inc.declaredAt, what: 'incident declared', seq: declaredSeq };
  const begin: Point = { at: start.at, what: start.view.basis, seq: start.view.seqs[0]! };
  const first = earliestAlert(fired);
  const measure = (name: string, from: Point | undefined, to: Point | undefined, missing: string): Metric => {
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
  };
  const point = (key: Lifecycle): Point | undefined => {
    const e = sourceOf[key];
    const at = inc[key];
    return e && at ? { at, what: describe(e), seq: e.seq } : undefined;
  };
  return [
    measure(
      'Time to detect',
      first && {
        at: first.startsAt,
        what: `first alert ${markdownText(first.name)} started`,
        seq: first.seq,
      },
      declared,
      'no alert recorded when the impact began',
    ),
    measure(
      'Time to acknowledge',
      declared,
      point('acknowledgedAt'),
      'nobody acted on the incident in Slack',
    ),
    measure(
      'Time to identify',
      begin,
      point('identifiedAt'),
      'no status identified and no confirmed hypothesis',
    ),
    measure('Time to mitigate', begin, point('mitigatedAt'), 'no status monitoring (fix in place)'),
    measure('Time to resolve', begin, point('resolvedAt'), 'not resolved yet'),
  ];
}
