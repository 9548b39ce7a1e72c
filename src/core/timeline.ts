import { z } from 'zod';
import { CheckResult, HypothesisCategory } from './check.js';
import { Actor, EntrySource, IncidentId, Role, Severity, Status } from './incident-model.js';

const Labels = z.record(z.string(), z.string());

/** Fields every timeline entry has: sequence number within the incident (1-based), UTC time, actor and source. */
const Base = {
  seq: z.number().int().positive(),
  incidentId: IncidentId,
  /** When it happened (ISO 8601 UTC); for a recorded message, when the message was posted. */
  at: z.iso.datetime(),
  actor: Actor,
  source: EntrySource,
};

/**
 * The timeline entry union, discriminated by `kind`. The timeline is the source of truth: an
 * incident's state is `foldTimeline(entries)`.
 */
export const TimelineEntry = z.discriminatedUnion('kind', [
  z.object({
    ...Base,
    kind: z.literal('declared'),
    title: z.string(),
    severity: Severity,
    summary: z.string().optional(),
    /** Alert group that opened it, when an alert did. */
    alertGroupId: z.string().optional(),
    /** Earlier incident of the same alert group, when that one was already closed. */
    relatedIncidentId: IncidentId.optional(),
    /** Declared private: a private channel, and kept out of every public listing (absent = public). */
    private: z.boolean().optional(),
  }),
  z.object({
    ...Base,
    kind: z.literal('channel_created'),
    channelId: z.string(),
    channelName: z.string(),
    /** Set when Slack refused a channel of its own and the incident is worked in this thread of INCIDENT_FALLBACK_CHANNEL. */
    threadTs: z.string().optional(),
  }),
  z.object({ ...Base, kind: z.literal('summary_posted'), channelId: z.string(), ts: z.string() }),
  z.object({ ...Base, kind: z.literal('note'), text: z.string() }),
  z.object({
    ...Base,
    kind: z.literal('message_recorded'),
    channelId: z.string(),
    messageTs: z.string(),
    author: z.string(),
    text: z.string(),
    /** Who asked for it to be recorded (the author is in `author`). */
    recordedBy: z.string(),
  }),
  z.object({ ...Base, kind: z.literal('status_changed'), from: Status, to: Status }),
  z.object({
    ...Base,
    kind: z.literal('severity_changed'),
    from: Severity,
    to: Severity,
    /** Why, when the bot changed it (`raised by alert HighErrorRate (severity=critical) from alertmanager`). */
    reason: z.string().optional(),
  }),
  z.object({ ...Base, kind: z.literal('role_assigned'), role: Role, userId: z.string() }),
  z.object({
    ...Base,
    kind: z.literal('alert_fired'),
    alertGroupId: z.string(),
    fingerprint: z.string(),
    name: z.string(),
    labels: Labels,
    annotations: Labels,
    startsAt: z.iso.datetime(),
    generatorURL: z.string().optional(),
    /** Set on the alerts of a group that joined an open incident by correlation: `joined INC-3: same service=checkout`. */
    joined: z.string().optional(),
  }),
  z.object({
    ...Base,
    kind: z.literal('alert_resolved'),
    alertGroupId: z.string(),
    fingerprint: z.string(),
    name: z.string(),
    labels: Labels,
    endsAt: z.iso.datetime(),
  }),
  z.object({ ...Base, kind: z.literal('check_result'), result: CheckResult }),
  z.object({
    ...Base,
    kind: z.literal('checklist_item'),
    itemId: z.string(),
    label: z.string(),
    checked: z.boolean(),
  }),
  z.object({
    ...Base,
    kind: z.literal('hypothesis_suspected'),
    hypothesisId: z.string(),
    text: z.string(),
    category: HypothesisCategory,
  }),
  z.object({
    ...Base,
    kind: z.literal('hypothesis_ruled_out'),
    hypothesisId: z.string(),
    evidence: z.string().optional(),
  }),
  z.object({
    ...Base,
    kind: z.literal('hypothesis_confirmed'),
    hypothesisId: z.string(),
    evidence: z.string().optional(),
  }),
  z.object({ ...Base, kind: z.literal('impact_set'), text: z.string() }),
  z.object({ ...Base, kind: z.literal('root_cause_set'), text: z.string() }),
  z.object({
    ...Base,
    kind: z.literal('followup_added'),
    followupId: z.string(),
    text: z.string(),
    owner: z.string().optional(),
  }),
  z.object({ ...Base, kind: z.literal('escalated'), userIds: z.array(z.string()), reason: z.string() }),
  z.object({ ...Base, kind: z.literal('reminder_sent'), text: z.string() }),
  z.object({
    ...Base,
    kind: z.literal('closed'),
    resolution: z.string().optional(),
    /** How it closed when not as a fixed problem: `declined` (a false alarm) or `merged` (into `mergedInto`); neither gets a postmortem. */
    as: z.enum(['declined', 'merged']).optional(),
    mergedInto: IncidentId.optional(),
    /** The channel of `mergedInto`, so the merged incident's channel can link to it. */
    mergedIntoChannelId: z.string().optional(),
  }),
  z.object({ ...Base, kind: z.literal('postmortem_drafted'), path: z.string() }),
  /** A job of the incident that BullMQ gave up on (attempts used up, or not retryable): recorded once per job. */
  z.object({
    ...Base,
    kind: z.literal('job_failed'),
    /** The job name (`draft-postmortem`, `setup-channel`, …); see `jobActivity` for what it was doing. */
    job: z.string(),
    /** The job's last error message (at most 500 characters). */
    error: z.string(),
    /** Tries made; fewer than configured when the error was not retryable. */
    attempts: z.number().int().nonnegative(),
    /** What the job was about beyond the incident (`escalation`, `message 1712000000.000100`). */
    detail: z.string().optional(),
  }),
  /** The tracker issue of a follow-up (issue 14): created once per follow-up, its link shown in the channel and the draft. */
  z.object({
    ...Base,
    kind: z.literal('followup_issue_created'),
    followupId: z.string(),
    tracker: z.enum(['github', 'jira']),
    /** `acme/shop#12` or `OPS-7`. */
    key: z.string(),
    url: z.string(),
    /** The tracker account it was assigned to (GitHub login, Jira accountId). */
    assignee: z.string().optional(),
    /** Why it is unassigned when the follow-up has an owner (no mapping, account not assignable). */
    unassigned: z.string().optional(),
    /** True when an earlier try's issue was found by its marker instead of creating one. */
    found: z.boolean().optional(),
  }),
  /** GitHub, Jira or PagerDuty refused or failed a request: what to fix, and whether the bot retries. */
  z.object({
    ...Base,
    kind: z.literal('outbound_failed'),
    service: z.enum(['github', 'jira', 'pagerduty']),
    /** What it was for: `follow-up F1`, `page to checkout`. */
    subject: z.string(),
    /** The vendor's answer and what to fix, as people read it. */
    error: z.string(),
    /** Seconds until the bot tries again (rate limited); absent when it gave up. */
    retryInS: z.number().nonnegative().optional(),
  }),
  /** A PagerDuty Events API v2 event the bot sent for this incident (dedup_key = the incident id). */
  z.object({
    ...Base,
    kind: z.literal('page_sent'),
    service: z.string(),
    action: z.enum(['trigger', 'resolve']),
    dedupKey: z.string(),
    /** Why, when the bot paged by itself (`escalation`). */
    reason: z.string().optional(),
  }),
  /** Issue 14: a structured stakeholder update (`/incident update`), posted to the channel and the announce channel. */
  z.object({
    ...Base,
    kind: z.literal('stakeholder_update'),
    text: z.string(),
    status: Status,
    severity: Severity,
    /** The impact recorded when the update was posted, if any. */
    impact: z.string().optional(),
    /** When the next update is due (ISO 8601 UTC), from REMINDER_MINUTES; absent when that severity has no cadence. */
    nextUpdateDue: z.iso.datetime().optional(),
  }),
  /** Issue 14: a postmortem draft committed and pushed to the git destination. */
  z.object({
    ...Base,
    kind: z.literal('postmortem_pushed'),
    /** The repository with any credentials removed. */
    repo: z.string(),
    branch: z.string(),
    path: z.string(),
    commit: z.string(),
  }),
  /**
   * Another alert group now feeds this incident: by correlation (its firing alert matched the
   * incident's on ALERT_CORRELATE_BY, `correlation` = `service=checkout`) or moved here by
   * `/incident merge` (`fromIncidentId`).
   */
  z.object({
    ...Base,
    kind: z.literal('alert_group_joined'),
    alertGroupId: z.string(),
    via: z.enum(['correlation', 'merge']),
    correlation: z.string().optional(),
    fromIncidentId: IncidentId.optional(),
  }),
  /** `/incident merge`: on the surviving incident, the incident merged into it and the alert groups moved. */
  z.object({
    ...Base,
    kind: z.literal('incident_merged'),
    mergedId: IncidentId,
    alertGroupIds: z.array(z.string()),
    mergedChannelId: z.string().optional(),
    /**
     * The merged incident's alerts as they stood (their groups now point here), so their later resolves fold
     * onto known alerts and "every alert resolved" counts them. Absent on entries written before it existed.
     */
    alerts: z
      .array(
        z.object({
          alertGroupId: z.string(),
          fingerprint: z.string(),
          name: z.string(),
          status: z.enum(['firing', 'resolved']),
          startsAt: z.string(),
          endsAt: z.string().optional(),
          labels: Labels,
        }),
      )
      .optional(),
  }),
  /**
   * Slack refused something the bot tried for the incident (an invite, the announcement, the channel
   * itself): recorded once per action and target, said in the channel, and the rest goes on.
   */
  z.object({
    ...Base,
    kind: z.literal('slack_refused'),
    /** What was refused: inviting `target` (a user id), posting to the announce channel `target`, creating the channel named `target`. */
    action: z.enum(['invite', 'announce', 'create_channel']),
    target: z.string(),
    /** Slack's `error` code (`user_is_restricted`, `is_archived`, `restricted_action`, ...). */
    error: z.string(),
  }),
]);
export type TimelineEntry = z.infer<typeof TimelineEntry>;
export type EntryKind = TimelineEntry['kind'];
export type EntryOf<K extends EntryKind> = Extract<TimelineEntry, { kind: K }>;

/** An entry before the store assigns its `seq`: what flows hand to `append`. */
export type NewEntry = TimelineEntry extends infer E
  ? E extends TimelineEntry
    ? Omit<E, 'seq'>
    : never
  : never;

/**
 * Version of the timeline entry schema above, written with every exported entry
 * (`incident-bot export`); bump it when an entry kind changes shape in a way readers must know.
 */
export const TIMELINE_SCHEMA_VERSION = 1;
