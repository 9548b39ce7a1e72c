/** The "Issue summary" section: when the incident started, how long it lasted, and its impact. */
import type { EntryOf, TimelineEntry } from '../timeline.js';
import { checkName, groupBy, sourced, uniq, windowText } from './facts.js';
import { count, markdownText, spanOrNa, utc } from './text.js';
import type { SourcedFact, SourcedTime } from './view.js';

/** When the incident started: its first alert if that came before the declaration, else the declaration. */
export function incidentStart(
  declared: EntryOf<'declared'>,
  fired: EntryOf<'alert_fired'>[],
): { at: string; view: SourcedTime } {
  const first = earliestAlert(fired);
  // An alert that starts after a person declared the incident does not move the start later.
  if (first && Date.parse(first.startsAt) <= Date.parse(declared.at)) {
    return {
      at: first.startsAt,
      view: {
        ...sourced('first alert', [first.seq]),
        time: utc(first.startsAt),
        basis: `first alert ${markdownText(first.name)}`,
      },
    };
  }
  return {
    at: declared.at,
    view: { ...sourced('declared', [declared.seq]), time: utc(declared.at), basis: 'incident declared' },
  };
}

/** The alert that started first, if any. */
export function earliestAlert(fired: EntryOf<'alert_fired'>[]): EntryOf<'alert_fired'> | undefined {
  let best: EntryOf<'alert_fired'> | undefined;
  for (const e of fired) if (!best || Date.parse(e.startsAt) < Date.parse(best.startsAt)) best = e;
  return best;
}

/** Start to end, or to `now` for an open incident, or `n/a — …`. */
export function totalDuration(start: string, end: string | undefined, now: string | undefined): string {
  if (end) return spanOrNa(start, end, 'the end is before the start');
  if (now) return `${spanOrNa(start, now, 'now is before the start')} so far (open as of ${utc(now)})`;
  return 'n/a — not resolved yet';
}

/** The impact: the recorded text, each alert, and the most 5xx any check saw. */
export function impactFacts(
  sorted: readonly TimelineEntry[],
  fired: EntryOf<'alert_fired'>[],
  checks: EntryOf<'check_result'>[],
): SourcedFact[] {
  const facts: SourcedFact[] = [];
  const impact = sorted.findLast((e): e is EntryOf<'impact_set'> => e.kind === 'impact_set');
  if (impact) facts.push(sourced(markdownText(impact.text), [impact.seq]));

  for (const group of groupBy(fired, (e) => e.name).values()) {
    const first = group[0]!;
    const about = first.annotations.summary ?? first.annotations.description;
    const sev = first.labels.severity ? ` (severity ${markdownText(first.labels.severity)})` : '';
    const n = new Set(group.map((e) => e.fingerprint)).size;
    const count = n > 1 ? `, ${n} series` : '';
    facts.push(
      sourced(
        `Alert ${markdownText(first.name)}${sev}${count}${about ? `: ${markdownText(about)}` : ''}`,
        uniq(group.map((e) => e.seq)),
      ),
    );
  }

  // Repeated runs of one check see overlapping windows: report the run that saw the most 5xx.
  const worst = new Map<string, { e: EntryOf<'check_result'>; total: number }>();
  for (const e of checks) {
    const total = e.result.servers.reduce((n, s) => n + (s.errors5xx ?? 0), 0);
    const key = `${e.result.checkId}/${e.result.target}`;
    if (total > 0 && total > (worst.get(key)?.total ?? 0)) worst.set(key, { e, total });
  }
  for (const { e, total } of worst.values()) {
    const r = e.result;
    const per = r.servers
      .filter((s) => (s.errors5xx ?? 0) > 0)
      .map((s) => `${markdownText(s.server)} ${count(s.errors5xx ?? 0)}`)
      .join(', ');
    facts.push(sourced(`${checkName(r)} saw ${count(total)} 5xx responses${windowText(r)}: ${per}`, [e.seq]));
  }
  return facts;
}
