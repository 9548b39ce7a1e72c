import { z } from 'zod';
import {
  type Alert,
  type AlertBatch,
  type AlertStatus,
  severityAsk,
  toUtcIso,
  truncate,
} from '../core/alert.js';
import { type Ignored, type ToBatchOptions, WireDateTime, WireOptionalUrl } from './wire.js';

const Reference = z.object({ id: z.string(), summary: z.string().nullish(), html_url: WireOptionalUrl });

/**
 * `event.data` of the incident event types (`data.type: incident`); unknown fields are dropped.
 * Format: PagerDuty/developer-docs `docs/webhooks/01-Overview.md`, "Event Data Types".
 */
export const PagerDutyIncident = z.object({
  id: z.string().min(1),
  type: z.literal('incident'),
  html_url: WireOptionalUrl,
  number: z.number().int().optional(),
  // Not read: the event type says what happened; a new PagerDuty status must not make us 400.
  status: z.string(),
  incident_key: z.string().nullish(),
  created_at: WireDateTime,
  reopened_at: WireDateTime.nullish(),
  title: z.string(),
  urgency: z.string().nullish(),
  priority: z.object({ summary: z.string().nullish() }).nullish(),
  service: Reference.nullish(),
});
export type PagerDutyIncident = z.infer<typeof PagerDutyIncident>;

/**
 * Event types that carry incident state, and the alert status each means: acknowledging does not
 * end an incident, so it (and unacknowledging) reads as still firing.
 */
export const PAGERDUTY_STATE_EVENTS = {
  'incident.triggered': 'firing',
  'incident.reopened': 'firing',
  'incident.acknowledged': 'firing',
  'incident.unacknowledged': 'firing',
  'incident.resolved': 'resolved',
} as const satisfies Record<string, AlertStatus>;
export type PagerDutyStateEvent = keyof typeof PAGERDUTY_STATE_EVENTS;

const isStateEvent = (t: string): t is PagerDutyStateEvent => Object.hasOwn(PAGERDUTY_STATE_EVENTS, t);

/**
 * Event types that only change the severity an incident asks for: they may raise the severity of
 * the bot's open incident for it, and never open, fire or resolve anything.
 */
export const PAGERDUTY_SEVERITY_EVENTS = ['incident.priority_updated'] as const;
export type PagerDutySeverityEvent = (typeof PAGERDUTY_SEVERITY_EVENTS)[number];

const isSeverityEvent = (t: string): t is PagerDutySeverityEvent =>
  (PAGERDUTY_SEVERITY_EVENTS as readonly string[]).includes(t);

/** The `event` envelope of a v3 webhook; `data` is checked only for the state-bearing event types. */
export const PagerDutyEvent = z.object({
  id: z.string(),
  event_type: z.string().min(1),
  resource_type: z.string(),
  occurred_at: WireDateTime,
  data: z.record(z.string(), z.unknown()),
});
export type PagerDutyEvent = z.infer<typeof PagerDutyEvent>;

/**
 * PagerDuty v3 webhook body `{ event: { event_type, data, ... } }`. Parses to
 * `{ kind: 'state', eventType, occurredAt, incident }` for the event types in
 * {@link PAGERDUTY_STATE_EVENTS}, `{ kind: 'severity', ... }` for those in
 * {@link PAGERDUTY_SEVERITY_EVENTS}, else `{ kind: 'other', eventType }`.
 * Format: PagerDuty/developer-docs `docs/webhooks/01-Overview.md` ("Webhook Payload", "Event Types").
 */
export const PagerDutyWebhook = z.object({ event: PagerDutyEvent }).transform((body, ctx) => {
  const { event } = body;
  const eventType = event.event_type;
  if (!isStateEvent(eventType) && !isSeverityEvent(eventType)) return { kind: 'other' as const, eventType };
  const r = PagerDutyIncident.safeParse(event.data);
  if (!r.success) {
    for (const i of r.error.issues) {
      ctx.issues.push({
        code: 'custom',
        message: i.message,
        path: ['event', 'data', ...i.path],
        input: body,
      });
    }
    return z.NEVER;
  }
  if (isSeverityEvent(eventType)) {
    return { kind: 'severity' as const, eventType, occurredAt: event.occurred_at, incident: r.data };
  }
  return { kind: 'state' as const, eventType, occurredAt: event.occurred_at, incident: r.data };
});
export type PagerDutyWebhook = z.output<typeof PagerDutyWebhook>;

/**
 * The incident id when a PagerDuty incident was opened by incident-bot's own page (src/flows/page.ts sends
 * `dedup_key` = the incident id, which PagerDuty keeps as `incident_key`, and summary `INC-7 SEV2: <title>`,
 * which becomes the incident's title); else undefined. Such an incident coming back through the webhook is
 * the page itself, not a new alert.
 */
export function ownPage(incidentKey: string | null | undefined, title: string): string | undefined {
  if (!incidentKey || !/^INC-\d+$/.test(incidentKey)) return undefined;
  return new RegExp(`^${incidentKey} SEV[1-4]: `).test(title) ? incidentKey : undefined;
}

/**
 * PagerDuty v3 webhook → AlertBatch with one alert per incident: group key and fingerprint = the
 * incident id; startsAt = `reopened_at` when reopened, else `created_at` (so a reopen fires again);
 * severity from the priority name (`P1`…, or the account's own priority names through the
 * mapping), else urgency (`high`/`low`). `incident.priority_updated` → a firing `severityOnly`
 * batch (it can only raise the open incident's severity). Other event types (notes, responders,
 * services, ...) → ignored, and so is an incident opened by incident-bot's own page ({@link ownPage}).
 */
export function toAlertBatch(
  parsed: PagerDutyWebhook,
  { now, mapping }: ToBatchOptions,
): AlertBatch | Ignored {
  if (parsed.kind === 'other') {
    return { ignored: `PagerDuty event ${parsed.eventType} does not change alert state` };
  }
  const { incident } = parsed;
  const own = ownPage(incident.incident_key, incident.title);
  if (own) {
    return {
      ignored: `PagerDuty incident ${incident.id} comes from incident-bot's own page of ${own} (dedup_key ${own}): not a new alert`,
    };
  }
  const status: AlertStatus =
    parsed.kind === 'severity' ? 'firing' : PAGERDUTY_STATE_EVENTS[parsed.eventType];
  const startsAt = toUtcIso(incident.reopened_at ?? incident.created_at);
  const labels: Record<string, string> = {};
  if (incident.service?.summary) labels.service = incident.service.summary;
  if (incident.urgency) labels.urgency = incident.urgency;
  if (incident.priority?.summary) labels.priority = incident.priority.summary;
  if (incident.number !== undefined) labels.incident_number = String(incident.number);
  if (incident.incident_key) labels.incident_key = incident.incident_key;
  const alert: Alert = {
    fingerprint: incident.id,
    status,
    name: incident.title,
    labels,
    annotations: { summary: incident.title },
    startsAt,
    summary: incident.title,
  };
  if (status === 'resolved') alert.endsAt = toUtcIso(parsed.occurredAt);
  if (incident.html_url) alert.generatorURL = incident.html_url;
  const ask = severityAsk(
    [
      ['priority', incident.priority?.summary],
      ['urgency', incident.urgency],
    ],
    mapping,
  );
  if (ask) alert.severityAsk = ask;
  const batch: AlertBatch = {
    source: 'pagerduty',
    groupKey: incident.id,
    status,
    title: truncate(incident.title.trim() || `PagerDuty incident ${incident.id}`),
    severity: ask?.severity ?? mapping.fallback,
    alerts: [alert],
    receivedAt: now.toISOString(),
  };
  if (incident.html_url) batch.externalUrl = incident.html_url;
  if (parsed.kind === 'severity') batch.severityOnly = true;
  return batch;
}
