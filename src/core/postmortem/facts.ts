/** Small helpers shared by the draft's sections: sourced facts, references, grouping, check wording. */
import type { CheckResult } from '../check.js';
import type { TimelineEntry } from '../timeline.js';
import { markdownText, utc } from './text.js';
import type { FactList, SourcedFact } from './view.js';

/** A fact with its source entries and their `[#n]` reference. */
export function sourced(text: string, seqs: number[]): SourcedFact {
  return { text, seqs, ref: refOf(seqs) };
}

/** A list section: `missing` is the hint when there are no items, else null. */
export function list<T>(items: T[], missing: string): FactList<T> {
  return { items, missing: items.length > 0 ? null : missing };
}

/** The reference of entries, `[#3, #7]` (sorted). */
export function refOf(seqs: readonly number[]): string {
  return `[${[...seqs]
    .sort((a, b) => a - b)
    .map((s) => `#${s}`)
    .join(', ')}]`;
}

/** Distinct seqs, ascending. */
export function uniq(seqs: readonly number[]): number[] {
  return [...new Set(seqs)].sort((a, b) => a - b);
}
/** ` by <user>` for a person's entry, empty for the bot or an alert. */
export function byUser(e: TimelineEntry): string {
  return e.actor.type === 'user' ? ` by ${markdownText(e.actor.id)}` : '';
}

/** What an entry that set a lifecycle time was, in a few words. */
export function describe(e: TimelineEntry): string {
  switch (e.kind) {
    case 'declared':
      return e.actor.type === 'user' ? 'declared by a person' : 'incident declared';
    case 'status_changed':
      return `status ${e.to}`;
    case 'hypothesis_confirmed':
      return 'hypothesis confirmed';
    case 'closed':
      return 'incident closed';
    default:
      return `first response (${e.kind.replace(/_/g, ' ')})`;
  }
}

/** `<check> check on <target>`, Markdown-safe. */
export function checkName(r: CheckResult): string {
  return `${markdownText(r.checkId)} check on ${markdownText(r.target)}`;
}

/** A check result in one line: name, verdict, summary and evidence. */
export function checkFinding(r: CheckResult): string {
  const evidence = r.evidence.length > 0 ? ` (${r.evidence.map(markdownText).join('; ')})` : '';
  return `${checkName(r)}: ${r.verdict}, ${markdownText(r.summary)}${evidence}`;
}

/** ` between <from> and <to>` for a check with a time window, else empty. */
export function windowText(r: CheckResult): string {
  return r.window ? ` between ${utc(r.window.from)} and ${utc(r.window.to)}` : '';
}

/** Items grouped by key, groups and items in first-seen order. */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** Groups ordered by their earliest `time`, then by first `seq` (entries are already in seq order). */
export function sortedGroups<T>(items: readonly T[], key: (t: T) => string, time: (t: T) => string): T[][] {
  return [...groupBy(items, key).values()]
    .map((g) => [...g].sort((a, b) => Date.parse(time(a)) - Date.parse(time(b))))
    .sort((a, b) => Date.parse(time(a[0]!)) - Date.parse(time(b[0]!)));
}
