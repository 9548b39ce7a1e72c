import { z } from 'zod';
import { DomainError } from './errors.js';
import { Severity } from './incident-model.js';

/** Where an alert batch came from; each has its own webhook route and wire format. */
export const AlertSource = z.enum(['alertmanager', 'grafana', 'pagerduty', 'generic']);
export type AlertSource = z.infer<typeof AlertSource>;

/** Whether an alert (or a whole batch) is firing or resolved. */
export const AlertStatus = z.enum(['firing', 'resolved']);
export type AlertStatus = z.infer<typeof AlertStatus>;

/** A string map of labels or annotations, values kept literally (no escaping, no trimming). */
export const StringMap = z.record(z.string(), z.string());
export type StringMap = z.infer<typeof StringMap>;

/** A link shown with an alert (dashboard, silence, runbook, ...). */
export const AlertLink = z.object({ title: z.string(), url: z.string() });
export type AlertLink = z.infer<typeof AlertLink>;

const UtcDateTime = z.iso.datetime();

/**
 * The severity one alert asks the incident to have, and the field and word that say so
 * (`severity=critical`, `priority=P1`, `urgency=high`), for the timeline's reason.
 */
export const SeverityAsk = z.object({ severity: Severity, because: z.string() });
export type SeverityAsk = z.infer<typeof SeverityAsk>;

/**
 * One alert, normalized from any source. `fingerprint` identifies the alert within its group;
 * times are ISO 8601 UTC. `endsAt` is set only for resolved alerts (a firing alert's `endsAt` on
 * the wire is the sender's expiry estimate, not an end).
 */
export const Alert = z.object({
  fingerprint: z.string().min(1),
  status: AlertStatus,
  name: z.string(),
  labels: StringMap,
  annotations: StringMap,
  startsAt: UtcDateTime,
  endsAt: UtcDateTime.optional(),
  generatorURL: z.string().optional(),
  runbookUrl: z.string().optional(),
  summary: z.string().optional(),
  description: z.string().optional(),
  /** Source-specific links (Grafana silence/dashboard/panel, generic `links`). */
  links: z.array(AlertLink).optional(),
  /** The severity this alert asks for, set by the parser with the mapping; absent when no known word says. */
  severityAsk: SeverityAsk.optional(),
});
export type Alert = z.infer<typeof Alert>;

/**
 * One webhook delivery, normalized: a group of alerts that belong to one incident. `groupKey` is
 * the sender's own group identity (Alertmanager `groupKey`, PagerDuty incident id, generic
 * `dedupKey`, ...); `receivedAt` is when the bot received it (ISO 8601 UTC).
 */
export const AlertBatch = z.object({
  source: AlertSource,
  groupKey: z.string().min(1),
  status: AlertStatus,
  title: z.string().min(1),
  severity: Severity,
  alerts: z.array(Alert).min(1),
  receivedAt: UtcDateTime,
  externalUrl: z.string().optional(),
  /**
   * True for a delivery that only updates the severity its alerts ask for (PagerDuty
   * `incident.priority_updated`): it may raise the severity of the group's open incident, but
   * never fires, resolves, declares or records an alert the group does not have firing.
   */
  severityOnly: z.literal(true).optional(),
});
export type AlertBatch = z.infer<typeof AlertBatch>;

/**
 * How severity words on alerts map to incident severities: `values` keys are lower-case words
 * (`critical`, `p2`, ...), `fallback` applies when no alert carries a known word.
 */
export const SeverityMapping = z.object({
  values: z.record(z.string(), Severity),
  fallback: Severity,
});
export type SeverityMapping = z.infer<typeof SeverityMapping>;

/**
 * Default severity words: critical|page|p1 → SEV1, error|high|major|p2 → SEV2,
 * warning|medium|minor|p3 → SEV3, info|low|none|p4|p5 → SEV4; anything else → SEV3.
 * `high`/`low` also cover PagerDuty urgency; `p1`..`p5` cover PagerDuty priorities.
 */
export const DEFAULT_SEVERITY_MAPPING: SeverityMapping = {
  values: {
    critical: 'SEV1',
    page: 'SEV1',
    p1: 'SEV1',
    error: 'SEV2',
    high: 'SEV2',
    major: 'SEV2',
    p2: 'SEV2',
    warning: 'SEV3',
    medium: 'SEV3',
    minor: 'SEV3',
    p3: 'SEV3',
    info: 'SEV4',
    low: 'SEV4',
    none: 'SEV4',
    p4: 'SEV4',
    p5: 'SEV4',
  },
  fallback: 'SEV3',
};

const MAPPING_HINT = 'use comma-separated word=SEVn pairs, e.g. critical=SEV1,warning=SEV3,default=SEV3';

/**
 * Parses `ALERT_SEVERITY_MAP` (`critical=SEV1,warning=SEV3`; `default=SEVn` sets the fallback)
 * over `base`; words are case-insensitive. Throws DomainError `BAD_INPUT` naming every bad entry.
 */
export function parseSeverityMapping(
  text: string,
  base: SeverityMapping = DEFAULT_SEVERITY_MAPPING,
): SeverityMapping {
  const values = { ...base.values };
  let fallback = base.fallback;
  const bad: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const eq = entry.indexOf('=');
    const word = (eq > 0 ? entry.slice(0, eq) : '').trim().toLowerCase();
    const sev = Severity.safeParse((eq > 0 ? entry.slice(eq + 1) : '').trim().toUpperCase());
    if (word === '' || !sev.success) {
      bad.push(`"${entry}"`);
      continue;
    }
    if (word === 'default') fallback = sev.data;
    else values[word] = sev.data;
  }
  if (bad.length > 0) {
    throw new DomainError('BAD_INPUT', `ALERT_SEVERITY_MAP has bad entries ${bad.join(', ')}`, MAPPING_HINT);
  }
  return { values, fallback };
}

/** Maps one severity word (`critical`, `P2`, `SEV1`, ...) to a Severity; undefined when unknown. */
export function mapSeverityWord(word: string | undefined, mapping: SeverityMapping): Severity | undefined {
  if (word === undefined) return undefined;
  const key = word.trim().toLowerCase();
  // A literal SEV1-SEV4; checked by hand: a failing zod parse builds an error object per label (alert storms).
  const upper = key.toUpperCase();
  if ((Severity.options as readonly string[]).includes(upper)) return upper as Severity;
  return Object.hasOwn(mapping.values, key) ? mapping.values[key] : undefined;
}

/**
 * The first `[field, word]` whose word the mapping knows, as an ask (`because: "severity=critical"`,
 * the word trimmed); undefined when none is known.
 */
export function severityAsk(
  candidates: ReadonlyArray<readonly [field: string, word: string | null | undefined]>,
  mapping: SeverityMapping,
): SeverityAsk | undefined {
  for (const [field, word] of candidates) {
    const severity = mapSeverityWord(word ?? undefined, mapping);
    if (severity && word) return { severity, because: `${field}=${word.trim()}` };
  }
  return undefined;
}

/**
 * What one alert asks for: the first known word among labels `severity`, annotations `severity`,
 * labels `priority`, annotations `priority`; undefined when none is known.
 */
export function alertSeverityAsk(
  alert: Pick<Alert, 'labels' | 'annotations'>,
  mapping: SeverityMapping,
): SeverityAsk | undefined {
  return severityAsk(
    [
      ['severity', alert.labels.severity],
      ['severity', alert.annotations.severity],
      ['priority', alert.labels.priority],
      ['priority', alert.annotations.priority],
    ],
    mapping,
  );
}

/** The severity one alert asks for (see {@link alertSeverityAsk}); undefined when none is known. */
export function alertSeverity(
  alert: Pick<Alert, 'labels' | 'annotations'>,
  mapping: SeverityMapping,
): Severity | undefined {
  return alertSeverityAsk(alert, mapping)?.severity;
}

/** The alert with `severityAsk` set from its labels and annotations ({@link alertSeverityAsk}), when they ask. */
export function withSeverityAsk(alert: Alert, mapping: SeverityMapping): Alert {
  const ask = alertSeverityAsk(alert, mapping);
  return ask ? { ...alert, severityAsk: ask } : alert;
}

/**
 * A batch's severity: the most severe one asked for by its firing alerts (by all alerts when none
 * is firing), else `mapping.fallback`.
 */
export function batchSeverity(alerts: readonly Alert[], mapping: SeverityMapping): Severity {
  const firing = alerts.filter((a) => a.status === 'firing');
  const asked = new Set((firing.length > 0 ? firing : alerts).map((a) => alertSeverity(a, mapping)));
  // Severity.options runs from most to least severe.
  return Severity.options.find((s) => asked.has(s)) ?? mapping.fallback;
}

/**
 * Labels that tell alerts of one name apart, in order of preference, for titles
 * (`HighErrorRate (service=checkout)`).
 */
export const DISTINGUISHING_LABELS = ['service', 'job', 'instance', 'cluster', 'namespace', 'pod'] as const;

const MAX_TITLE = 200;

/** Shortens text to `max` characters (code points), marking the cut with an ellipsis. */
export function truncate(text: string, max = MAX_TITLE): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

function nameWithLabel(name: string, labels: StringMap): string {
  const key = DISTINGUISHING_LABELS.find((k) => labels[k]);
  return key ? `${name} (${key}=${labels[key]})` : name;
}

/**
 * A batch title from its alerts: the `alertname` (common to the group, else of the first firing
 * alert) plus the first distinguishing label they share (`HighErrorRate (service=checkout)`),
 * `and N more` when other alert names are in the batch; without any `alertname`, the `summary`
 * annotation; else the first alert's name. At most 200 characters.
 */
export function batchTitle(alerts: readonly Alert[], commonLabels: StringMap = {}): string {
  const lead = alerts.find((a) => a.status === 'firing') ?? alerts[0];
  if (!lead) return 'Alert';
  const common = alerts.length === 1 ? lead.labels : commonLabels;
  const name = common.alertname ?? lead.labels.alertname;
  let title: string;
  if (name) {
    const others = new Set(alerts.map((a) => a.labels.alertname ?? a.name));
    others.delete(name);
    title = nameWithLabel(name, common);
    if (others.size > 0) title += ` and ${others.size} more`;
  } else {
    title = lead.summary ?? lead.name;
  }
  return truncate(title.trim() === '' ? `Alert ${lead.fingerprint}` : title);
}

/** Normalizes an ISO 8601 date-time (any offset, any fraction digits) to UTC `toISOString` form. */
export function toUtcIso(iso: string): string {
  return new Date(Date.parse(iso)).toISOString();
}

const ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

/** True for Go's zero time (`0001-01-01T00:00:00Z`), which Alertmanager and Grafana send for "no end". */
export function isZeroTime(iso: string): boolean {
  return Date.parse(iso) <= ZERO_TIME_MS;
}

/**
 * Fills the annotation-derived fields of an alert: `summary`, `description` (or `message`),
 * `runbookUrl` (from `runbook_url`, `runbook`, or `runbookURL`). Empty strings count as absent.
 */
export function annotationFields(
  annotations: StringMap,
): Pick<Alert, 'summary' | 'description' | 'runbookUrl'> {
  const pick = (...keys: string[]) =>
    keys.map((k) => annotations[k]).find((v) => v !== undefined && v !== '');
  const out: Pick<Alert, 'summary' | 'description' | 'runbookUrl'> = {};
  const summary = pick('summary');
  const description = pick('description', 'message');
  const runbookUrl = pick('runbook_url', 'runbook', 'runbookURL');
  if (summary !== undefined) out.summary = summary;
  if (description !== undefined) out.description = description;
  if (runbookUrl !== undefined) out.runbookUrl = runbookUrl;
  return out;
}
