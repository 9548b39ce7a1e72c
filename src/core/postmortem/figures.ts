/** An incident's numbers for reports across incidents, with the postmortem's own definitions. */
import { differenceInSeconds } from 'date-fns';
import type { EntryOf, TimelineEntry } from '../timeline.js';
import { UTCDate } from '../utc.js';
import { collectHypotheses, type HypothesisTrail } from './hypotheses.js';
import { type MetricKey, metricSpans } from './metrics.js';
import { foldWithSources } from './provenance.js';
import { incidentStart } from './summary.js';

/** An incident's numbers for reports across incidents: the same definitions as the postmortem's metrics and misleading paths. */
export interface IncidentFigures {
  /** Seconds per metric; absent when one end is missing or the end came first (shown as n/a in the draft). */
  seconds: Partial<Record<MetricKey, number>>;
  /** Seconds spent on hypotheses that were ruled out (suspected → ruled out), summed. */
  misleadingSeconds: number;
  /** The hypotheses ruled out: category and text. */
  ruledOut: { category: string; text: string }[];
}

/** The figures of one incident from its timeline (any order; throws when the first entry is not `declared`), as the postmortem's metrics section measures them. */
export function incidentFigures(entries: readonly TimelineEntry[]): IncidentFigures {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  const { inc, sourceOf } = foldWithSources(sorted);
  const declared = sorted[0] as EntryOf<'declared'>;
  const fired = sorted.filter((e): e is EntryOf<'alert_fired'> => e.kind === 'alert_fired');
  const seconds: Partial<Record<MetricKey, number>> = {};
  for (const s of metricSpans(inc, sourceOf, declared.seq, incidentStart(declared, fired), fired)) {
    if (!s.from || !s.to) continue;
    const secs = differenceInSeconds(new UTCDate(s.to.at), new UTCDate(s.from.at));
    if (secs >= 0) seconds[s.key] = secs;
  }
  let misleadingSeconds = 0;
  const ruledOut: IncidentFigures['ruledOut'] = [];
  for (const h of collectHypotheses(sorted)) {
    const spent = ruledOutSpent(h);
    if (spent === undefined) continue;
    ruledOut.push({ category: h.suspected.category, text: h.suspected.text });
    if (spent >= 0) misleadingSeconds += spent;
  }
  return { seconds, misleadingSeconds, ruledOut };
}

/** Seconds from suspecting a hypothesis to ruling it out (negative when recorded the other way round); undefined unless ruled out. */
export function ruledOutSpent(h: HypothesisTrail): number | undefined {
  if (h.settled?.kind !== 'hypothesis_ruled_out') return undefined;
  return differenceInSeconds(new UTCDate(h.settled.at), new UTCDate(h.suspected.at));
}
