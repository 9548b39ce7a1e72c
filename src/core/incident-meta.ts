import { z } from 'zod';

/**
 * Everything an incident has beyond its timeline, declared once: the bookkeeping the worker keeps
 * while it works the incident in Slack (channel set-up, reminders, checklist, alert notices, work
 * owed after a close). Stored as one Redis hash per incident (`{INC-n}:slack`, field names below),
 * read and written only through the store port. The timeline stays the truth; these fields only
 * say what the bot has already done about it, so a retried job does not do it twice.
 */
const Iso = z.iso.datetime({ offset: true });
const Count = z.string().regex(/^\d+$/, 'must be a whole number');
const JobId = z.string().min(1);

export const IncidentMetaFields = z
  .object({
    /** The channel name last asked of `conversations.create` (a retry adopts its own `name_taken`). */
    'channel-attempt': z.string(),
    /** When the announce channel was told about the incident. */
    announced: Iso,
    /** JSON of an "all alerts resolved" notice that arrived before the channel existed. */
    'pending-alert-notice': z.string(),
    /** The pending status-update nudge job, the status update it counts from, and its generation (a severity change). */
    'nudge-job': JobId,
    'nudge-basis': Iso,
    'nudge-sev': z.union([Iso, z.literal('')]),
    /** The pending escalation job and what it counts from; the severity change reminders were last rescheduled for. */
    'escalate-job': JobId,
    'escalate-basis': Iso,
    'sev-schedule': Iso,
    /** When the escalation was posted to the announce channel. */
    'escalation-announced': Iso,
    /** The checklist message (ts, channel), its template, the latest diagnostics run, and a render counter. */
    'checklist-ts': z.string(),
    'checklist-channel': z.string(),
    'checklist-name': z.string(),
    'checklist-run': Count,
    'checklist-version': Count,
    /** Set by the close transition: follow-up work (indexes, reminders, postmortem job) still owed. */
    'close-owed': Iso,
    /** Set by the close transition: the close's postmortem draft is owed (cleared once it is on the timeline). */
    'postmortem-owed': Iso,
    /** Set by the key-layout migration: pending reminder jobs were left in the old queue; the sweeper schedules them again. */
    'reschedule-reminders': Iso,
    /** When the incident channel was archived (ARCHIVE_AFTER_DAYS after close). */
    archived: Iso,
  })
  .partial();
export type IncidentMetaFields = z.infer<typeof IncidentMetaFields>;

/** Field families: `alert-notice-<key>` (a posted "all resolved" notice, ISO time) and `checklist-queued:<check>/<target>` (`<run>:<seq>`). */
const ALERT_NOTICE = 'alert-notice-';
const CHECK_QUEUED = 'checklist-queued:';
const QueuedMark = z.string().regex(/^\d+:\d+$/, 'must be <run>:<seq>');

/** A field name of the incident meta hash: a fixed field or one of the two families. */
export type IncidentMetaField =
  | keyof IncidentMetaFields
  | `${typeof ALERT_NOTICE}${string}`
  | `${typeof CHECK_QUEUED}${string}`;

/** The meta hash as read: the fixed fields, plus the families as maps (notice key → time, `check/target` → `run:seq`). */
export interface IncidentMeta extends IncidentMetaFields {
  alertNotices: Record<string, string>;
  checksQueued: Record<string, string>;
}

/** Field name of a posted "all resolved" notice. */
export const alertNoticeField = (key: string): IncidentMetaField => `${ALERT_NOTICE}${key}`;
/** Field name of a check's pending mark (`check/target`). */
export const checkQueuedField = (ref: string): IncidentMetaField => `${CHECK_QUEUED}${ref}`;

/**
 * Validates a raw meta hash (field → string) into IncidentMeta; throws a ZodError naming the field
 * when a stored value is malformed (a bug or a hand edit), and drops fields no release wrote.
 */
export function parseIncidentMeta(raw: Record<string, string>): IncidentMeta {
  const fixed: Record<string, string> = {};
  const alertNotices: Record<string, string> = {};
  const checksQueued: Record<string, string> = {};
  const known = IncidentMetaFields.keyof().options as readonly string[];
  for (const [field, value] of Object.entries(raw)) {
    if (field.startsWith(ALERT_NOTICE)) alertNotices[field.slice(ALERT_NOTICE.length)] = Iso.parse(value);
    else if (field.startsWith(CHECK_QUEUED))
      checksQueued[field.slice(CHECK_QUEUED.length)] = QueuedMark.parse(value);
    else if (known.includes(field)) fixed[field] = value;
  }
  return { ...IncidentMetaFields.parse(fixed), alertNotices, checksQueued };
}

/** Validates one field's value before it is written (same rules as reading); throws a ZodError. */
export function checkIncidentMetaValue(field: IncidentMetaField, value: string): void {
  if (field.startsWith(ALERT_NOTICE)) Iso.parse(value);
  else if (field.startsWith(CHECK_QUEUED)) QueuedMark.parse(value);
  else IncidentMetaFields.parse({ [field]: value });
}
