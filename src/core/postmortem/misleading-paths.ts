/** The "Misleading paths" section: hypotheses ruled out, with the evidence and the time they cost. */
import type { EntryOf } from '../timeline.js';
import { byUser, checkFinding, sourced } from './facts.js';
import { ruledOutSpent } from './figures.js';
import { HINT } from './hints.js';
import { type HypothesisTrail, hypothesisName, rulingOut } from './hypotheses.js';
import { humanDuration, markdownText, utc } from './text.js';
import type { FactList, MisleadingPath, SourcedFact } from './view.js';

/** Ruled-out hypotheses with their evidence and time spent, plus those never settled. */
export function misleadingPaths(
  hypotheses: HypothesisTrail[],
  checks: EntryOf<'check_result'>[],
): FactList<MisleadingPath> & { unsettled: SourcedFact[] } {
  const paths: MisleadingPath[] = [];
  for (const h of hypotheses) {
    const out = h.settled;
    if (out?.kind !== 'hypothesis_ruled_out') continue;
    const evidence: SourcedFact[] = [];
    if (out.evidence) evidence.push(sourced(markdownText(out.evidence), [out.seq]));
    for (const c of rulingOut(h, checks)) evidence.push(sourced(checkFinding(c.result), [c.seq]));
    const spent = ruledOutSpent(h)!;
    paths.push({
      hypothesis: markdownText(h.suspected.text),
      category: h.suspected.category,
      suspected: {
        ...sourced('suspected', [h.suspected.seq]),
        time: utc(h.suspected.at),
        basis: `suspected${byUser(h.suspected)}`,
      },
      ruledOut: { ...sourced('ruled out', [out.seq]), time: utc(out.at), basis: `ruled out${byUser(out)}` },
      timeSpent: spent >= 0 ? humanDuration(spent) : 'n/a — ruled out before it was suspected',
      evidence,
    });
  }
  const unsettled = hypotheses
    .filter((h) => !h.settled)
    .map((h) =>
      sourced(`${hypothesisName(h)}, suspected ${utc(h.suspected.at)}, never ruled out or confirmed`, [
        h.suspected.seq,
      ]),
    );
  const missing =
    paths.length > 0
      ? null
      : hypotheses.length === 0
        ? HINT.hypotheses
        : `None of the ${hypotheses.length} recorded hypotheses was ruled out.`;
  return { items: paths, missing, unsettled };
}
