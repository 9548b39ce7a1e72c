/**
 * The postmortem view model: {@link postmortemView} builds the draft as data from a timeline; each
 * section of the draft is built in its own file of this folder, and templates/postmortem.md renders it.
 */
import type { EntryOf, TimelineEntry } from '../timeline.js';
import { describe, list, sourced } from './facts.js';
import { HINT } from './hints.js';
import { collectHypotheses } from './hypotheses.js';
import { followups, suggestions } from './measures.js';
import { mermaidGantt } from './mermaid.js';
import { metrics } from './metrics.js';
import { misleadingPaths } from './misleading-paths.js';
import { foldWithSources, withNames } from './provenance.js';
import { resolutionFacts, rootCauseFacts, supportingEvidence } from './root-cause.js';
import { impactFacts, incidentStart, totalDuration } from './summary.js';
import { markdownText, utc } from './text.js';
import { spansOneUtcDay, timelineRows } from './timeline.js';
import type { PostmortemView, PostmortemViewOptions, SourcedTime } from './view.js';

export { type IncidentFigures, incidentFigures } from './figures.js';
export { METRIC_KEYS, type MetricKey } from './metrics.js';
export { humanDuration, markdownText, mermaidText } from './text.js';
export type * from './view.js';

/**
 * Builds the postmortem view model from an incident's timeline (any order; sorted by `seq`).
 * Pure and deterministic: the same entries (and `now`) always give the same view. Throws when the
 * first entry is not `declared`.
 */
export function postmortemView(
  entries: readonly TimelineEntry[],
  opts: PostmortemViewOptions = {},
): PostmortemView {
  const people = opts.people ?? {};
  const sorted = [...entries].sort((a, b) => a.seq - b.seq).map((e) => withNames(e, people));
  const { inc, sourceOf } = foldWithSources(sorted);
  const declared = sorted[0] as EntryOf<'declared'>;
  const fired = sorted.filter((e): e is EntryOf<'alert_fired'> => e.kind === 'alert_fired');
  const checks = sorted.filter((e): e is EntryOf<'check_result'> => e.kind === 'check_result');
  const hypotheses = collectHypotheses(sorted);

  const start = incidentStart(declared, fired);
  const endEntry = sourceOf.resolvedAt;
  const end: SourcedTime | null =
    inc.resolvedAt && endEntry
      ? {
          ...sourced(endEntry.kind === 'closed' ? 'closed' : 'resolved', [endEntry.seq]),
          time: utc(inc.resolvedAt),
          basis: describe(endEntry),
        }
      : null;

  const sameDay = spansOneUtcDay(sorted, fired);
  const rootCause = rootCauseFacts(sorted, hypotheses);

  return {
    incidentId: markdownText(inc.id),
    title: markdownText(inc.title),
    severity: inc.severity,
    status: inc.status,
    source: `${sorted.length} timeline entries (#${declared.seq}–#${sorted.at(-1)?.seq ?? declared.seq})`,
    summary: {
      duration: { start: start.view, end, total: totalDuration(start.at, inc.resolvedAt, opts.now) },
      impact: list(impactFacts(sorted, fired, checks), HINT.impact),
      rootCause: list(rootCause, HINT.rootCause),
    },
    timeline: { ...list(timelineRows(sorted, hypotheses, sameDay), 'No entries to show.'), date: sameDay },
    misleadingPaths: misleadingPaths(hypotheses, checks),
    rootCauseAndResolution: {
      rootCause: list(rootCause, HINT.rootCause),
      evidence: supportingEvidence(hypotheses, checks),
      resolution: list(resolutionFacts(sorted, inc), HINT.resolution),
    },
    measures: {
      followups: followups(sorted),
      suggestions: suggestions(checks),
    },
    metrics: metrics(inc, sourceOf, declared.seq, start, fired),
    mermaid: mermaidGantt(inc, start.at, hypotheses, fired),
  };
}
