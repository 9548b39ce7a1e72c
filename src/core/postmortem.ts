import { differenceInSeconds, format } from 'date-fns';
import type { CheckResult, HypothesisCategory } from './check.js';
import { applyEntry, foldTimeline, type Incident } from './incident.js';
import { attemptsText, jobActivity } from './job-activity.js';
import type { EntryOf, TimelineEntry } from './timeline.js';
import { UTCDate } from './utc.js';

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
  owner: string | null;
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

/** Where a section with no data tells the reader to add it. Kept in one place so they track the command names. */
const HINT = {
  impact: 'No impact recorded: set it with `/incident impact <text>`.',
  rootCause:
    'No root cause recorded: confirm a hypothesis with `/incident confirm <hypothesis>` or set it with `/incident rootcause <text>`.',
  resolution:
    'No resolution recorded: close with `/incident close <resolution>` or add a `/incident note` describing the fix.',
  hypotheses:
    'No hypotheses recorded: add them with `/incident suspect <text>` so the draft shows each investigation path.',
  followups: 'No follow-ups recorded: add them with `/incident followup <text> [@owner]`.',
} as const;

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
      followups: list(
        sorted
          .filter((e): e is EntryOf<'followup_added'> => e.kind === 'followup_added')
          .map((e) => ({
            ...sourced(markdownText(e.text), [e.seq]),
            owner: e.owner ? markdownText(e.owner) : null,
          })),
        HINT.followups,
      ),
      suggestions: suggestions(checks),
    },
    metrics: metrics(inc, sourceOf, declared.seq, start, fired),
    mermaid: mermaidGantt(inc, start.at, hypotheses, fired),
  };
}

/** A span as people say it: `45 s`, `12 min`, `4 h 30 min`, `1 d 4 h` (two largest units, rounded down); throws if `seconds` < 0. */
export function humanDuration(seconds: number): string {
  if (seconds < 0 || !Number.isFinite(seconds))
    throw new RangeError(`duration must be ≥ 0 s, got ${seconds}`);
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  return `${minutes} min`;
}

/**
 * Escapes user text for Markdown (CommonMark/GFM): HTML `<` `>` become entities, emphasis, link,
 * code, table and strikethrough characters get a backslash, a leading block marker is escaped, and
 * line breaks collapse to spaces, so text can neither inject HTML nor break the surrounding line
 * (https://spec.commonmark.org/0.31.2/#backslash-escapes).
 */
export function markdownText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_[\]|~]/g, '\\$&')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/^([#+=-])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

/**
 * Escapes text for a Mermaid gantt label: `#`, `:`, `;`, `%`, backtick, quotes and angle brackets
 * become Mermaid entity codes (`#58;`), so the label neither ends early nor closes the Markdown fence
 * (https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters).
 */
export function mermaidText(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  // One pass: the codes themselves contain `#` and `;`, which must not be escaped again.
  return cut.replace(/[#:;%`"'<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

// ——— folding with provenance ———

const LIFECYCLE = ['acknowledgedAt', 'identifiedAt', 'mitigatedAt', 'resolvedAt', 'closedAt'] as const;
type Lifecycle = (typeof LIFECYCLE)[number];
type Sources = Partial<Record<Lifecycle, TimelineEntry>>;

/** Folds with the incident's own reducer and notes which entry last set each lifecycle time. */
function foldWithSources(sorted: readonly TimelineEntry[]): { inc: Incident; sourceOf: Sources } {
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

// ——— hypotheses ———

interface HypothesisTrail {
  id: string;
  suspected: EntryOf<'hypothesis_suspected'>;
  settled?: EntryOf<'hypothesis_ruled_out'> | EntryOf<'hypothesis_confirmed'>;
}

function collectHypotheses(sorted: readonly TimelineEntry[]): HypothesisTrail[] {
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

function hypothesisName(h: HypothesisTrail): string {
  return `${markdownText(h.suspected.text)} (${h.suspected.category})`;
}

// ——— issue summary ———

function incidentStart(
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

function earliestAlert(fired: EntryOf<'alert_fired'>[]): EntryOf<'alert_fired'> | undefined {
  let best: EntryOf<'alert_fired'> | undefined;
  for (const e of fired) if (!best || Date.parse(e.startsAt) < Date.parse(best.startsAt)) best = e;
  return best;
}

function totalDuration(start: string, end: string | undefined, now: string | undefined): string {
  if (end) return spanOrNa(start, end, 'the end is before the start');
  if (now) return `${spanOrNa(start, now, 'now is before the start')} so far (open as of ${utc(now)})`;
  return 'n/a — not resolved yet';
}

function impactFacts(
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

function rootCauseFacts(sorted: readonly TimelineEntry[], hypotheses: HypothesisTrail[]): SourcedFact[] {
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

// ——— timeline ———

function timelineRows(
  sorted: readonly TimelineEntry[],
  hypotheses: HypothesisTrail[],
  sameDay: string | null,
): TimelineRow[] {
  const rows: { at: string; seq: number; label: string; text: string; seqs: number[] }[] = [];
  const add = (at: string, label: string, text: string, seqs: number[]) =>
    rows.push({ at, seq: seqs[0]!, label, text, seqs });
  const names = new Map(hypotheses.map((h) => [h.id, hypothesisName(h)]));
  const byId = new Map(hypotheses.map((h) => [h.id, h]));

  const fired = sorted.filter((e): e is EntryOf<'alert_fired'> => e.kind === 'alert_fired');
  let detected = false;
  for (const group of sortedGroups(
    fired,
    (e) => e.name,
    (e) => e.startsAt,
  )) {
    const first = group[0]!;
    add(
      first.startsAt,
      detected ? 'Alert' : 'Detected',
      `${detected ? '' : 'alert '}${markdownText(first.name)} fired`,
      uniq(group.map((e) => e.seq)),
    );
    detected = true;
  }
  const resolved = sorted.filter((e): e is EntryOf<'alert_resolved'> => e.kind === 'alert_resolved');
  for (const group of groupBy(resolved, (e) => e.name).values()) {
    const last = group.reduce((a, b) => (Date.parse(b.endsAt) >= Date.parse(a.endsAt) ? b : a));
    add(last.endsAt, 'Recovery', `alert ${markdownText(last.name)} resolved`, uniq(group.map((e) => e.seq)));
  }

  const channel = sorted.find((e): e is EntryOf<'channel_created'> => e.kind === 'channel_created');
  for (const e of sorted) {
    switch (e.kind) {
      case 'declared': {
        const by = e.actor.type === 'user' ? ` by ${markdownText(e.actor.id)}` : ' from an alert';
        const ch = channel ? `; channel #${markdownText(channel.channelName)} opened` : '';
        add(
          e.at,
          'Notified',
          `incident declared (${e.severity})${by}${ch}`,
          channel ? [e.seq, channel.seq] : [e.seq],
        );
        break;
      }
      case 'hypothesis_suspected':
        add(e.at, 'Investigation', `suspected ${names.get(e.hypothesisId)}${byUser(e)}`, [e.seq]);
        break;
      case 'check_result':
        if (e.result.verdict === 'fail' || e.result.verdict === 'warn') {
          add(
            e.at,
            'Check',
            `${checkName(e.result)}: ${e.result.verdict}, ${markdownText(e.result.summary)}`,
            [e.seq],
          );
        }
        break;
      case 'escalated':
        add(e.at, 'Escalated', `to ${e.userIds.map(markdownText).join(', ')}: ${markdownText(e.reason)}`, [
          e.seq,
        ]);
        break;
      case 'hypothesis_ruled_out':
        if (names.has(e.hypothesisId)) {
          const ev = e.evidence ? `: ${markdownText(e.evidence)}` : '';
          // Passing checks have no row of their own: they are cited where they ruled something out.
          const checks = rulingOut(byId.get(e.hypothesisId)!, sorted).map((c) => c.seq);
          add(e.at, 'Ruled out', `${names.get(e.hypothesisId)}${ev}`, uniq([e.seq, ...checks]));
        }
        break;
      case 'hypothesis_confirmed':
        if (names.has(e.hypothesisId)) {
          const ev = e.evidence ? `: ${markdownText(e.evidence)}` : '';
          add(e.at, 'Finding', `confirmed ${names.get(e.hypothesisId)}${ev}`, [e.seq]);
        }
        break;
      case 'status_changed':
        add(e.at, STATUS_LABEL[e.to], `status ${e.from} → ${e.to}${byUser(e)}`, [e.seq]);
        break;
      case 'severity_changed':
        add(
          e.at,
          'Severity',
          `${e.from} → ${e.to}${byUser(e)}${e.reason ? `, ${markdownText(e.reason)}` : ''}`,
          [e.seq],
        );
        break;
      case 'note':
        add(e.at, 'Note', `${markdownText(e.text)}${byUser(e)}`, [e.seq]);
        break;
      case 'message_recorded':
        add(e.at, 'Message', `${markdownText(e.author)}: ${markdownText(e.text)}`, [e.seq]);
        break;
      case 'closed':
        add(e.at, 'Closed', `incident closed${e.resolution ? `: ${markdownText(e.resolution)}` : ''}`, [
          e.seq,
        ]);
        break;
      case 'job_failed':
        // Work the bot owed and never did (a reminder, the channel, an alert) is part of the story.
        add(
          e.at,
          'Bot error',
          `incident-bot gave up on ${jobActivity(e.job)}${e.detail ? ` (${markdownText(e.detail)})` : ''} after ${attemptsText(e.attempts)}: ${markdownText(e.error)}`,
          [e.seq],
        );
        break;
      case 'slack_refused':
        // Who could not be brought in, and where nobody was told, is part of the story too.
        add(
          e.at,
          'Slack refused',
          e.action === 'invite'
            ? `inviting ${markdownText(e.target)}: ${e.error}`
            : e.action === 'announce'
              ? `the announcement in ${markdownText(e.target)}: ${e.error}`
              : `creating the channel ${markdownText(e.target)}: ${e.error}`,
          [e.seq],
        );
        break;
      default:
        // Roles, reminders, summaries, checklist ticks, impact/root cause/follow-ups (own sections) and
        // the draft itself are not events in the story of the outage.
        break;
    }
  }
  rows.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.seq - b.seq);
  return rows.map((r) => ({
    time: sameDay ? `${format(new UTCDate(r.at), 'HH:mm')} UTC` : utc(r.at),
    label: r.label,
    ...sourced(r.text, r.seqs),
  }));
}

const STATUS_LABEL: Record<EntryOf<'status_changed'>['to'], string> = {
  investigating: 'Investigation',
  identified: 'Fix',
  monitoring: 'Fix',
  resolved: 'Recovery',
  closed: 'Closed',
};

/** The UTC date (`yyyy-MM-dd`) when every time the timeline shows falls on it, else null. */
function spansOneUtcDay(sorted: readonly TimelineEntry[], fired: EntryOf<'alert_fired'>[]): string | null {
  const days = new Set<string>();
  for (const e of sorted) days.add(utcDay(e.at));
  for (const e of fired) days.add(utcDay(e.startsAt));
  for (const e of sorted) if (e.kind === 'alert_resolved') days.add(utcDay(e.endsAt));
  return days.size === 1 ? [...days][0]! : null;
}

// ——— misleading paths, root cause, resolution ———

function misleadingPaths(
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
    const spent = differenceInSeconds(new UTCDate(out.at), new UTCDate(h.suspected.at));
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

/** Check results whose `bears` rule out the hypothesis's category, in timeline order. */
function rulingOut(h: HypothesisTrail, entries: readonly TimelineEntry[]): EntryOf<'check_result'>[] {
  return entries.filter(
    (e): e is EntryOf<'check_result'> =>
      e.kind === 'check_result' &&
      e.result.bears.some((b) => b.hypothesis === h.suspected.category && b.effect === 'rules-out'),
  );
}

/** Check findings that support a confirmed hypothesis (fail/warn, or any result whose `bears` supports its category). */
function supportingEvidence(hypotheses: HypothesisTrail[], checks: EntryOf<'check_result'>[]): SourcedFact[] {
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

function resolutionFacts(sorted: readonly TimelineEntry[], inc: Incident): SourcedFact[] {
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

// ——— measures ———

interface SuggestionRule {
  key: string;
  text: string;
}

/** Measures suggested by a failing check, by check id; deduplicated across checks by `key`. */
const SUGGESTIONS: Record<string, readonly SuggestionRule[]> = {
  'traffic-distribution': [
    {
      key: 'validate-weights',
      text: 'Validate load-balancer weights against the intended split before each deploy.',
    },
    { key: 'share-alert', text: "Alert on each server's share of requests, not only on latency and errors." },
  ],
  routing: [
    {
      key: 'ci-config-check',
      text: 'Check load-balancer configuration in CI: fail when a route points at an empty pool.',
    },
    { key: 'rollback-plan', text: 'Keep a tested rollback plan for load-balancer configuration changes.' },
  ],
  'pool-health': [
    { key: 'health-alert', text: 'Alert when load-balancer health checks mark a server down.' },
  ],
  'recent-change': [
    { key: 'rollback-plan', text: 'Keep a tested rollback plan for load-balancer configuration changes.' },
  ],
};

function suggestions(checks: EntryOf<'check_result'>[]): Suggestion[] {
  const byKey = new Map<string, Suggestion>();
  for (const c of checks) {
    if (c.result.verdict !== 'fail' && c.result.verdict !== 'warn') continue;
    for (const rule of SUGGESTIONS[c.result.checkId] ?? []) {
      const had = byKey.get(rule.key);
      if (had) {
        had.seqs = uniq([...had.seqs, c.seq]);
        had.ref = refOf(had.seqs);
      } else {
        byKey.set(rule.key, {
          ...sourced(rule.text, [c.seq]),
          because: `${checkName(c.result)}: ${c.result.verdict}, ${markdownText(c.result.summary)}`,
        });
      }
    }
  }
  return [...byKey.values()];
}

// ——— metrics ———

interface Point {
  at: string;
  /** What happened then, e.g. `first alert HighErrorRate`. */
  what: string;
  seq: number;
}

function metrics(
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

// ——— mermaid ———

function mermaidGantt(
  inc: Incident,
  start: string,
  hypotheses: HypothesisTrail[],
  fired: EntryOf<'alert_fired'>[],
): string {
  // Mermaid reads these dates in the viewer's local zone and prints them back in it, so UTC wall
  // time in gives UTC wall time out.
  const t = (iso: string) => format(new UTCDate(iso), 'yyyy-MM-dd HH:mm:ss');
  const end = inc.resolvedAt;
  const multiDay = end !== undefined && utcDay(start) !== utcDay(end);
  const lines = [
    'gantt',
    // The title runs to the end of its line and older Mermaid versions do not decode entity codes
    // there, so characters that could start a comment or end the statement are dropped instead.
    `  title ${`${inc.id} ${inc.title}`
      .replace(/[#;%`<>"]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 80)}`,
    '  dateFormat YYYY-MM-DD HH:mm:ss',
    // A d3 time format, read to the end of the line: its colon needs no escaping.
    `  axisFormat ${multiDay ? '%d %b %H:%M' : '%H:%M'}`,
    '  todayMarker off',
  ];

  lines.push('  section Impact');
  const first = earliestAlert(fired);
  const basis = first && first.startsAt === start ? 'from first alert' : 'from declaration';
  if (end) lines.push(`  Impact ${basis} to resolved :crit, impact, ${t(start)}, ${t(end)}`);
  else lines.push(`  Impact start ${basis} :milestone, impact, ${t(start)}, 0d`);

  if (hypotheses.length > 0) {
    lines.push('  section Investigation');
    hypotheses.forEach((h, i) => {
      const name = mermaidText(h.suspected.text, 50);
      const id = `h${i + 1}`;
      if (h.settled?.kind === 'hypothesis_ruled_out') {
        lines.push(`  Ruled out - ${name} :done, ${id}, ${t(h.suspected.at)}, ${t(h.settled.at)}`);
      } else if (h.settled?.kind === 'hypothesis_confirmed') {
        lines.push(`  Confirmed - ${name} :active, ${id}, ${t(h.suspected.at)}, ${t(h.settled.at)}`);
      } else {
        lines.push(`  Suspected - ${name} :milestone, ${id}, ${t(h.suspected.at)}, 0d`);
      }
    });
  }

  lines.push('  section Response');
  const milestones: [string, string | undefined][] = [
    ['Declared', inc.declaredAt],
    ['Acknowledged', inc.acknowledgedAt],
    ['Identified', inc.identifiedAt],
    ['Mitigated', inc.mitigatedAt],
    ['Resolved', inc.resolvedAt],
    ['Closed', inc.closedAt],
  ];
  milestones.forEach(([label, at], i) => {
    if (at) lines.push(`  ${label} :milestone, m${i + 1}, ${t(at)}, 0d`);
  });
  return lines.join('\n');
}

// ——— small helpers ———

function sourced(text: string, seqs: number[]): SourcedFact {
  return { text, seqs, ref: refOf(seqs) };
}

function list<T>(items: T[], missing: string): FactList<T> {
  return { items, missing: items.length > 0 ? null : missing };
}

function refOf(seqs: readonly number[]): string {
  return `[${[...seqs]
    .sort((a, b) => a - b)
    .map((s) => `#${s}`)
    .join(', ')}]`;
}

function uniq(seqs: readonly number[]): number[] {
  return [...new Set(seqs)].sort((a, b) => a - b);
}

function utc(iso: string): string {
  return `${format(new UTCDate(iso), 'yyyy-MM-dd HH:mm')} UTC`;
}

function utcDay(iso: string): string {
  return format(new UTCDate(iso), 'yyyy-MM-dd');
}

function spanOrNa(from: string, to: string, whyNot: string): string {
  const secs = differenceInSeconds(new UTCDate(to), new UTCDate(from));
  return secs >= 0 ? humanDuration(secs) : `n/a — ${whyNot}`;
}

function byUser(e: TimelineEntry): string {
  return e.actor.type === 'user' ? ` by ${markdownText(e.actor.id)}` : '';
}

/** What an entry that set a lifecycle time was, in a few words. */
function describe(e: TimelineEntry): string {
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

function checkName(r: CheckResult): string {
  return `${markdownText(r.checkId)} check on ${markdownText(r.target)}`;
}

function checkFinding(r: CheckResult): string {
  const evidence = r.evidence.length > 0 ? ` (${r.evidence.map(markdownText).join('; ')})` : '';
  return `${checkName(r)}: ${r.verdict}, ${markdownText(r.summary)}${evidence}`;
}

function windowText(r: CheckResult): string {
  return r.window ? ` between ${utc(r.window.from)} and ${utc(r.window.to)}` : '';
}

function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
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
function sortedGroups<T>(items: readonly T[], key: (t: T) => string, time: (t: T) => string): T[][] {
  return [...groupBy(items, key).values()]
    .map((g) => [...g].sort((a, b) => Date.parse(time(a)) - Date.parse(time(b))))
    .sort((a, b) => Date.parse(time(a[0]!)) - Date.parse(time(b[0]!)));
}

/** Replaces Slack user ids in an entry by display names, for reading; the ids stay in the timeline. */
function withNames(e: TimelineEntry, people: Record<string, string>): TimelineEntry {
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
