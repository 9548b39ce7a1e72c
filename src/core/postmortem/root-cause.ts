/** The "Root cause and resolution" section (whose root cause the summary repeats). */
import type { Incident } from '../incident.js';
import type { EntryOf, TimelineEntry } from '../timeline.js';
import { byUser, checkFinding, sourced } from './facts.js';
import { type HypothesisTrail, hypothesisName } from './hypotheses.js';
import { markdownText, percent, utc } from './text.js';
import type { SourcedFact } from './view.js';

/** The root cause: the recorded text and every confirmed hypothesis with its evidence. */
export function rootCauseFacts(
  sorted: readonly TimelineEntry[],
  hypotheses: HypothesisTrail[],
): SourcedFact[] {
  const set = sorted.findLast((e): e is EntryOf<'root_cause_set'> => e.kind === 'root_cause_set');
  const facts: SourcedFact[] = [];
  if (set) facts.push(sourced(markdownText(set.text), [set.seq]));
  for (const h of hypotheses) {
    if (h.settled?.kind !== 'hypothesis_confirmed') continue;
    const evidence = h.settled.evidence ? `: ${markdownText(h.settled.evidence)}` : '';
    facts.push(
      sourced(`Confirmed hypothesis: ${hypothesisName(h)}${evidence}`, [h.suspected.seq, h.settled.seq]),
    );
  }
  return facts;
}
/** Check findings that support a confirmed hypothesis (fail/warn, or any result whose `bears` supports its category). */
export function supportingEvidence(
  hypotheses: HypothesisTrail[],
  checks: EntryOf<'check_result'>[],
): SourcedFact[] {
  const confirmed = new Set(
    hypotheses.filter((h) => h.settled?.kind === 'hypothesis_confirmed').map((h) => h.suspected.category),
  );
  const facts: SourcedFact[] = [];
  for (const c of checks) {
    const r = c.result;
    if (!r.bears.some((b) => b.effect === 'supports' && confirmed.has(b.hypothesis))) continue;
    facts.push(sourced(checkFinding(r), [c.seq]));
    for (const s of r.servers) {
      if (s.observedShare === undefined) continue;
      const expected = s.expectedShare !== undefined ? `, expected ${percent(s.expectedShare)}` : '';
      const weight = s.weight !== undefined ? ` (weight ${s.weight})` : '';
      facts.push(
        sourced(`${markdownText(s.server)}${weight}: ${percent(s.observedShare)} of requests${expected}`, [
          c.seq,
        ]),
      );
    }
  }
  return facts;
}

/** What was done: notes between identification and resolution, status moves, the resolution at close; empty when nothing says what. */
export function resolutionFacts(sorted: readonly TimelineEntry[], inc: Incident): SourcedFact[] {
  const facts: SourcedFact[] = [];
  let saysWhatWasDone = false;
  // Notes between identification and resolution are where teams describe the fix.
  const fixFrom = inc.identifiedAt ? Date.parse(inc.identifiedAt) : Number.POSITIVE_INFINITY;
  const fixTo = inc.resolvedAt ? Date.parse(inc.resolvedAt) : Number.POSITIVE_INFINITY;
  for (const e of sorted) {
    if (e.kind === 'note' && Date.parse(e.at) >= fixFrom && Date.parse(e.at) <= fixTo) {
      facts.push(sourced(`${utc(e.at)}: ${markdownText(e.text)}${byUser(e)}`, [e.seq]));
      saysWhatWasDone = true;
    } else if (e.kind === 'status_changed' && (e.to === 'monitoring' || e.to === 'resolved')) {
      facts.push(sourced(`${utc(e.at)}: status ${e.to}${byUser(e)}`, [e.seq]));
    } else if (e.kind === 'closed' && e.resolution) {
      facts.push(sourced(`Resolution at close: ${markdownText(e.resolution)}`, [e.seq]));
      saysWhatWasDone = true;
    }
  }
  // Status changes alone say when, not what: without a note or a resolution text, report it missing.
  return saysWhatWasDone ? facts : [];
}
