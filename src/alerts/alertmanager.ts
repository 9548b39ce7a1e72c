import { z } from 'zod';
import {
  type Alert,
  type AlertBatch,
  AlertStatus,
  annotationFields,
  batchSeverity,
  batchTitle,
  isZeroTime,
  toUtcIso,
  withSeverityAsk,
} from '../core/alert.js';
import { type ToBatchOptions, WireDateTime, WireOptionalUrl, WireStringMap } from './wire.js';

/**
 * One alert of an Alertmanager webhook (`alerts[]`); unknown fields are dropped.
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
export const AlertmanagerAlert = z.object({
  status: AlertStatus,
  labels: WireStringMap,
  annotations: WireStringMap,
  startsAt: WireDateTime,
  endsAt: WireDateTime.nullish(),
  generatorURL: WireOptionalUrl,
  fingerprint: z.string().min(1),
});
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>;

/**
 * The Alertmanager webhook body (`"version": "4"`); `version` is not checked, since Grafana's
 * unified alerting sends the same shape as `"1"`.
 * https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
 */
export const AlertmanagerWebhook = z.object({
  version: z.string().optional(),
  groupKey: z.string().min(1),
  truncatedAlerts: z.number().int().nonnegative().optional(),
  status: AlertStatus,
  receiver: z.string().optional(),
  groupLabels: WireStringMap,
  commonLabels: WireStringMap,
  commonAnnotations: WireStringMap,
  externalURL: WireOptionalUrl,
  alerts: z.array(AlertmanagerAlert).min(1),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhook>;

/**
 * Normalizes one Alertmanager-shaped alert. `endsAt` is kept only when resolved: on a firing alert
 * it is Go's zero time or Prometheus' expiry estimate (now + a few evaluation intervals), not an end.
 */
export function toAlert(a: AlertmanagerAlert, now: Date): Alert {
  const alert: Alert = {
    fingerprint: a.fingerprint,
    status: a.status,
    name: a.labels.alertname ?? a.fingerprint,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: toUtcIso(a.startsAt),
    ...annotationFields(a.annotations),
  };
  if (a.status === 'resolved') {
    alert.endsAt = a.endsAt && !isZeroTime(a.endsAt) ? toUtcIso(a.endsAt) : now.toISOString();
  }
  if (a.generatorURL) alert.generatorURL = a.generatorURL;
  return alert;
}

/** Alertmanager webhook → AlertBatch: group key, status and alerts as sent; title and severity per core/alert. */
export function toAlertBatch(payload: AlertmanagerWebhook, opts: ToBatchOptions): AlertBatch {
  return groupBatch(
    'alertmanager',
    payload,
    payload.alerts.map((a) => toAlert(a, opts.now)),
    opts,
  );
}

/**
 * The batch of an Alertmanager-shaped group (Alertmanager, Grafana unified alerting) from its
 * already-mapped alerts, each given the severity its labels ask for.
 */
export function groupBatch(
  source: 'alertmanager' | 'grafana',
  payload: Pick<AlertmanagerWebhook, 'groupKey' | 'status' | 'commonLabels' | 'externalURL'>,
  mapped: AlertBatch['alerts'],
  { now, mapping }: ToBatchOptions,
): AlertBatch {
  const alerts = mapped.map((a) => withSeverityAsk(a, mapping));
  const batch: AlertBatch = {
    source,
    groupKey: payload.groupKey,
    status: payload.status,
    title: batchTitle(alerts, payload.commonLabels),
    severity: batchSeverity(alerts, mapping),
    alerts,
    receivedAt: now.toISOString(),
  };
  if (payload.externalURL) batch.externalUrl = payload.externalURL;
  return batch;
}
