/** Folding the timeline while noting which entry set each lifecycle time; display names for Slack ids. */
import { applyEntry, foldTimeline, type Incident } from '../incident.js';
import type { EntryOf, TimelineEntry } from '../timeline.js';

/** The incident times a metric can be measured to. */
export const LIFECYCLE = ['acknowledgedAt', 'identifiedAt', 'mitigatedAt', 'resolvedAt', 'closedAt'] as const;
/** One of {@link LIFECYCLE}. */
export type Lifecycle = (typeof LIFECYCLE)[number];
/** Which entry last set each lifecycle time. */
export type Sources = Partial<Record<Lifecycle, TimelineEntry>>;

/** Folds with the incident's own reducer and notes which entry last set each lifecycle time. */
export function foldWithSources(sorted: readonly TimelineEntry[]): { inc: Incident; sourceOf: Sources } {
  const inc = foldTimeline(sorted.slice(0, 1));
  const sourceOf: Sources = {};
  const first = sorted[0]!;
  for (const k of LIFECYCLE) if (inc[k]) sourceOf[k] = first;
  for (const e of sorted.slice(1)) {
    const before = LIFECYCLE.map((k) => inc[k]);
    applyEntry(inc, e);
    LIFECYCLE.forEach((k, i) => {
      if (inc[k] !== before[i]) sourceOf[k] = e;
    });
  }
  return { inc, sourceOf };
}
/** Replaces Slack user ids in an entry by display names, for reading; the ids stay in the timeline. */
export function withNames(e: TimelineEntry, people: Record<string, string>): TimelineEntry {
  if (Object.keys(people).length === 0) return e;
  const name = (id: string) => people[id] ?? id;
  const out = { ...e } as TimelineEntry & Record<string, unknown>;
  if (e.actor.type === 'user') out.actor = { type: 'user', id: name(e.actor.id) };
  if (e.kind === 'role_assigned') (out as EntryOf<'role_assigned'>).userId = name(e.userId);
  if (e.kind === 'followup_added' && e.owner) (out as EntryOf<'followup_added'>).owner = name(e.owner);
  if (e.kind === 'escalated') (out as EntryOf<'escalated'>).userIds = e.userIds.map(name);
  if (e.kind === 'slack_refused' && e.action === 'invite')
    (out as EntryOf<'slack_refused'>).target = name(e.target);
  if (e.kind === 'message_recorded') {
    (out as EntryOf<'message_recorded'>).author = name(e.author);
    (out as EntryOf<'message_recorded'>).recordedBy = name(e.recordedBy);
  }
  return out;
}
