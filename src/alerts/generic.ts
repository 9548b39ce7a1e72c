/**
 * The generic alert webhook: a small JSON format for senders that are not Alertmanager, Grafana
 * or PagerDuty (cron jobs, CI, your own checks). POST it with `Authorization: Bearer <token>`.
 *
 * ```jsonc
 * {
 *   "title": "Checkout error rate above 5%",   // required, non-empty
 *   "status": "firing",                         // required: "firing" | "resolved"
 *   "dedupKey": "checkout-error-rate",          // required: same key = same alert = same incident
 *   "severity": "critical",                     // optional: a word of the severity mapping
 *                                               //   (critical, warning, p2, ...) or SEV1..SEV4
 *   "labels": { "service": "checkout" },        // optional, string values
 *   "annotations": { "runbook_url": "https://runbooks.example/checkout" }, // optional, string values
 *   "description": "5xx ratio 7.2% over 5 min", // optional
 *   "startedAt": "2024-05-01T10:00:00Z",        // optional ISO 8601; default: time received
 *   "endedAt": "2024-05-01T10:20:00Z",          // optional, for "resolved"; default: time received
 *   "links": [{ "title": "Dashboard", "url": "https://grafana.example/d/abc" }] // optional
 * }
 * ```
 *
 * Send `"status": "resolved"` with the same `dedupKey` to resolve. A re-sent `firing` is a no-op;
 * a `firing` after `resolved` fires again. The title, labels and texts are shown literally
 * (escaped for Slack, never interpreted). Unknown fields are ignored.
 * @module
 */
import { z } from 'zod';
import {
  type Alert,
  type AlertBatch,
  AlertLink,
  AlertStatus,
  annotationFields,
  severityAsk,
  toUtcIso,
  truncate,
} from '../core/alert.js';
import { type ToBatchOptions, WireDateTime, WireStringMap } from './wire.js';

/** The generic webhook body; see the module doc for the format. */
export const GenericWebhook = z.object({
  title: z.string().refine((s) => s.trim() !== '', 'expected a non-empty title'),
  status: AlertStatus,
  dedupKey: z.string().min(1, 'expected a non-empty dedupKey'),
  severity: z.string().nullish(),
  labels: WireStringMap,
  annotations: WireStringMap,
  description: z.string().nullish(),
  startedAt: WireDateTime.nullish(),
  endedAt: WireDateTime.nullish(),
  links: z.array(AlertLink).nullish(),
});
export type GenericWebhook = z.infer<typeof GenericWebhook>;

/**
 * Generic webhook → AlertBatch with one alert: group key and fingerprint = `dedupKey`; severity
 * from `severity` (else labels/annotations `severity`, else the fallback); a link titled
 * "runbook" (any case) becomes the runbook URL unless an annotation gives one.
 */
export function toAlertBatch(payload: GenericWebhook, { now, mapping }: ToBatchOptions): AlertBatch {
  const nowIso = now.toISOString();
  const links = payload.links ?? [];
  const alert: Alert = {
    fingerprint: payload.dedupKey,
    status: payload.status,
    name: payload.title,
    labels: payload.labels,
    annotations: payload.annotations,
    startsAt: payload.startedAt ? toUtcIso(payload.startedAt) : nowIso,
    ...annotationFields(payload.annotations),
  };
  if (payload.status === 'resolved') alert.endsAt = payload.endedAt ? toUtcIso(payload.endedAt) : nowIso;
  if (payload.description) alert.description = payload.description;
  const runbook = links.find((l) => l.title.trim().toLowerCase() === 'runbook');
  if (runbook && !alert.runbookUrl) alert.runbookUrl = runbook.url;
  if (links.length > 0) alert.links = links;
  const ask = severityAsk(
    [
      ['severity', payload.severity],
      ['severity', payload.labels.severity],
      ['severity', payload.annotations.severity],
    ],
    mapping,
  );
  if (ask) alert.severityAsk = ask;
  const batch: AlertBatch = {
    source: 'generic',
    groupKey: payload.dedupKey,
    status: payload.status,
    title: truncate(payload.title),
    severity: ask?.severity ?? mapping.fallback,
    alerts: [alert],
    receivedAt: nowIso,
  };
  if (links[0]) batch.externalUrl = links[0].url;
  return batch;
}
