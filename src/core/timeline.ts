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
  z.object({ ...Base, kind: z.literal('channel_created'), channelId: z.string(), channelName: z.string() }),
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
  z.object({ ...Base, kind: z.literal('closed'), resolution: z.string().optional() }),
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
