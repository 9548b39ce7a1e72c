/** Each hypothesis's trail (suspected, then ruled out or confirmed) and the checks that ruled it out. */
import type { EntryOf, TimelineEntry } from '../timeline.js';
import { markdownText } from './text.js';

/** A hypothesis's trail: when it was suspected, and the entry that ruled it out or confirmed it. */
export interface HypothesisTrail {
  id: string;
  suspected: EntryOf<'hypothesis_suspected'>;
  settled?: EntryOf<'hypothesis_ruled_out'> | EntryOf<'hypothesis_confirmed'>;
}

/** Every hypothesis of the timeline, in order of suspicion, with how it was settled. */
export function collectHypotheses(sorted: readonly TimelineEntry[]): HypothesisTrail[] {
  const byId = new Map<string, HypothesisTrail>();
  for (const e of sorted) {
    if (e.kind === 'hypothesis_suspected' && !byId.has(e.hypothesisId)) {
      byId.set(e.hypothesisId, { id: e.hypothesisId, suspected: e });
    } else if (e.kind === 'hypothesis_ruled_out' || e.kind === 'hypothesis_confirmed') {
      const h = byId.get(e.hypothesisId);
      if (h) h.settled = e;
    }
  }
  return [...byId.values()];
}

/** `<text> (<category>)`, Markdown-safe. */
export function hypothesisName(h: HypothesisTrail): string {
  return `${markdownText(h.suspected.text)} (${h.suspected.category})`;
}
/** Check results whose `bears` rule out the hypothesis's category, in timeline order. */
export function rulingOut(h: HypothesisTrail, entries: readonly TimelineEntry[]): EntryOf<'check_result'>[] {
  return entries.filter(
    (e): e is EntryOf<'check_result'> =>
      e.kind === 'check_result' &&
      e.result.bears.some((b) => b.hypothesis === h.suspected.category && b.effect === 'rules-out'),
  );
}
