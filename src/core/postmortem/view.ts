import type { HypothesisCategory } from '../check.js';

/** A fact for the draft: Markdown-safe `text` and the timeline entries it came from (`ref` is `[#3, #7]`). */
export interface SourcedFact {
  text: string;
  seqs: number[];
  ref: string;
}

/** A list section: its items, or (when there are none) `missing`, a sentence saying what is missing and how to add it. */
export interface FactList<T = SourcedFact> {
  items: T[];
  missing: string | null;
}

/** A point in time: `time` is `yyyy-MM-dd HH:mm UTC`, `basis` says which entry it is ("first alert HighErrorRate"). */
export interface SourcedTime extends SourcedFact {
  time: string;
  basis: string;
}

/** One condensed timeline line: `time` is `HH:mm UTC` (or `yyyy-MM-dd HH:mm UTC` when the incident spans UTC days). */
export interface TimelineRow extends SourcedFact {
  time: string;
  label: string;
}

/** A hypothesis the team ruled out: where it came from, what ruled it out, and how long it took (`timeSpent`). */
export interface MisleadingPath {
  hypothesis: string;
  category: HypothesisCategory;
  suspected: SourcedTime;
  ruledOut: SourcedTime;
  timeSpent: string;
  evidence: SourcedFact[];
}

/** A follow-up recorded with `followup_added`; `owner` is null when none was given. */
export interface Followup extends SourcedFact {
  /** `F1`, `F2`, … as in Slack. */
  id: string;
  owner: string | null;
  /** The tracker issue it became (issue 14), or null. */
  issue: { key: string; url: string } | null;
}

/** A measure the bot suggests from what a check found; `because` names the finding. */
export interface Suggestion extends SourcedFact {
  because: string;
}

/**
 * One time-to-X metric: `value` is like `4 h 30 min`, or `n/a — <what is missing>`; `from`/`to`
 * name the entries measured (`2024-02-27 10:00 UTC first alert X`), null when that end is missing.
 */
export interface Metric {
  name: string;
  value: string;
  from: string | null;
  to: string | null;
  ref: string;
}

/**
 * The postmortem draft as data: plain JSON, every string already Markdown-safe (user text escaped
 * with {@link markdownText}), every absent value `null` so a strict Handlebars template can test it.
 */
export interface PostmortemView {
  incidentId: string;
  title: string;
  severity: string;
  status: string;
  /** Which entries the draft was built from, e.g. `24 timeline entries (#1–#24)`. */
  source: string;
  summary: {
    duration: { start: SourcedTime; end: SourcedTime | null; total: string };
    impact: FactList;
    rootCause: FactList;
  };
  timeline: FactList<TimelineRow> & { date: string | null };
  misleadingPaths: FactList<MisleadingPath> & { unsettled: SourcedFact[] };
  rootCauseAndResolution: { rootCause: FactList; evidence: SourcedFact[]; resolution: FactList };
  measures: { followups: FactList<Followup>; suggestions: Suggestion[] };
  metrics: Metric[];
  /** Mermaid `gantt` source (without the code fence): impact, investigation paths, response milestones. */
  mermaid: string;
}

/** Options for {@link postmortemView}: `now` (ISO 8601) gives an open incident a running duration. */
export interface PostmortemViewOptions {
  now?: string;
  /** Display names by Slack user id (`{ U012: 'alice' }`); ids without a name are shown as they are. */
  people?: Record<string, string>;
}
