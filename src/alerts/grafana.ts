import { z } from 'zod';
import {
  type Alert,
  type AlertBatch,
  type AlertLink,
  batchSeverity,
  truncate,
  withSeverityAsk,
} from '../core/alert.js';
import { AlertmanagerAlert, AlertmanagerWebhook, groupBatch, toAlert } from './alertmanager.js';
import { type Ignored, type ToBatchOptions, WireOptionalUrl, WireStringMap } from './wire.js';

/**
 * One alert of a Grafana unified-alerting webhook: Alertmanager's alert plus Grafana's links.
 * https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 */
export const GrafanaAlert = AlertmanagerAlert.extend({
  silenceURL: WireOptionalUrl,
  dashboardURL: WireOptionalUrl,
  panelURL: WireOptionalUrl,
  imageURL: WireOptionalUrl,
});
export type GrafanaAlert = z.infer<typeof GrafanaAlert>;

/**
 * Grafana unified alerting (Grafana ≥ 8) webhook body, `"version": "1"`: Alertmanager's shape
 * plus `orgId` and the deprecated `title`/`state`/`message` (read by nobody here).
 * https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
 */
export const GrafanaUnifiedWebhook = AlertmanagerWebhook.extend({
  orgId: z.number().int().optional(),
  title: z.string().optional(),
  state: z.string().optional(),
  message: z.string().optional(),
  alerts: z.array(GrafanaAlert).min(1),
});
export type GrafanaUnifiedWebhook = z.infer<typeof GrafanaUnifiedWebhook>;

/** Legacy (dashboard) alert states; see {@link toAlertBatch} for which become alert state. */
export const GrafanaLegacyState = z.enum(['alerting', 'ok', 'no_data', 'paused', 'pending']);
export type GrafanaLegacyState = z.infer<typeof GrafanaLegacyState>;

/**
 * Legacy (dashboard) alerting webhook body, Grafana ≤ 8 and `[alerting] enabled` later:
 * one rule per delivery, no `alerts` array, no timestamps.
 * Example: grafana/oncall `docs/sources/configure/jinja2-templating/_index.md` (same as Grafana's old
 * alerting notifications doc).
 */
export const GrafanaLegacyWebhook = z.object({
  title: z.string().optional(),
  ruleId: z.number().int().optional(),
  ruleName: z.string().min(1),
  ruleUrl: WireOptionalUrl,
  state: GrafanaLegacyState,
  message: z.string().nullish(),
  evalMatches: z
    .array(z.object({ value: z.number().nullable(), metric: z.string(), tags: WireStringMap }))
    .nullish(),
  tags: WireStringMap,
  imageUrl: WireOptionalUrl,
  orgId: z.number().int().optional(),
  dashboardId: z.number().int().optional(),
  panelId: z.number().int().optional(),
});
export type GrafanaLegacyWebhook = z.infer<typeof GrafanaLegacyWebhook>;

const isLegacy = (v: unknown) =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  !('alerts' in v) &&
  ('ruleName' in v || 'evalMatches' in v);

/**
 * Either Grafana webhook body, told apart by shape (legacy has `ruleName`/`evalMatches` and no
 * `alerts`); parses to `{ format, payload }` with the issues of the matching format only.
 */
export const GrafanaWebhook = z.unknown().transform((v, ctx) => {
  const fail = (error: z.ZodError) => {
    for (const i of error.issues)
      ctx.issues.push({ code: 'custom', message: i.message, path: i.path, input: v });
    return z.NEVER;
  };
  if (isLegacy(v)) {
    const r = GrafanaLegacyWebhook.safeParse(v);
    return r.success ? { format: 'legacy' as const, payload: r.data } : fail(r.error);
  }
  const r = GrafanaUnifiedWebhook.safeParse(v);
  return r.success ? { format: 'unified' as const, payload: r.data } : fail(r.error);
});
export type GrafanaWebhook = z.output<typeof GrafanaWebhook>;

function grafanaLinks(a: GrafanaAlert): AlertLink[] {
  const links: AlertLink[] = [];
  if (a.dashboardURL) links.push({ title: 'Dashboard', url: a.dashboardURL });
  if (a.panelURL) links.push({ title: 'Panel', url: a.panelURL });
  if (a.silenceURL) links.push({ title: 'Silence', url: a.silenceURL });
  if (a.imageURL) links.push({ title: 'Image', url: a.imageURL });
  return links;
}

function unifiedBatch(payload: GrafanaUnifiedWebhook, opts: ToBatchOptions): AlertBatch {
  const alerts = payload.alerts.map((a): Alert => {
    const links = grafanaLinks(a);
    return links.length > 0 ? { ...toAlert(a, opts.now), links } : toAlert(a, opts.now);
  });
  return groupBatch('grafana', payload, alerts, opts);
}

const LEGACY_IGNORED: Record<Exclude<GrafanaLegacyState, 'alerting' | 'ok'>, string> = {
  no_data:
    'Grafana legacy state "no_data" is not an alert state (set the rule\'s "If no data" to Alerting to page on it)',
  paused: 'Grafana legacy state "paused" is not an alert state',
  pending: 'Grafana legacy state "pending" is not an alert state (the rule has not fired yet)',
};

function legacyBatch(payload: GrafanaLegacyWebhook, { now, mapping }: ToBatchOptions): AlertBatch | Ignored {
  if (payload.state !== 'alerting' && payload.state !== 'ok')
    return { ignored: LEGACY_IGNORED[payload.state] };
  // Rule ids are unique per Grafana; id 0 is the "Test" button, which has no rule behind it.
  const key = payload.ruleId
    ? `legacy-rule/${payload.orgId ?? 1}/${payload.ruleId}`
    : `legacy-rule-name/${payload.ruleName}`;
  const nowIso = now.toISOString();
  const annotations: Record<string, string> = {};
  if (payload.message) annotations.message = payload.message;
  const matches = (payload.evalMatches ?? []).map((m) => `${m.metric}=${m.value ?? 'null'}`);
  if (matches.length > 0) annotations.eval_matches = matches.join(', ');
  const status = payload.state === 'alerting' ? 'firing' : 'resolved';
  // Legacy deliveries carry no times: the receive time stands in for startsAt (and endsAt).
  const alert: Alert = {
    fingerprint: key,
    status,
    name: payload.ruleName,
    labels: { ...payload.tags, alertname: payload.ruleName },
    annotations,
    startsAt: nowIso,
  };
  if (status === 'resolved') alert.endsAt = nowIso;
  if (payload.message) alert.description = payload.message;
  if (payload.ruleUrl) alert.generatorURL = payload.ruleUrl;
  if (payload.imageUrl) alert.links = [{ title: 'Image', url: payload.imageUrl }];
  const batch: AlertBatch = {
    source: 'grafana',
    groupKey: key,
    status,
    title: truncate(payload.ruleName),
    severity: batchSeverity([alert], mapping),
    alerts: [withSeverityAsk(alert, mapping)],
    receivedAt: nowIso,
  };
  if (payload.ruleUrl) batch.externalUrl = payload.ruleUrl;
  return batch;
}

/**
 * Grafana webhook → AlertBatch. Unified: as Alertmanager, plus dashboard/panel/silence/image links.
 * Legacy: `alerting` → firing, `ok` → resolved, `no_data`/`paused`/`pending` → ignored; one alert
 * per rule, group key from the rule id (rule name for the Test button), times = receive time.
 */
export function toAlertBatch(parsed: GrafanaWebhook, opts: ToBatchOptions): AlertBatch | Ignored {
  return parsed.format === 'legacy' ? legacyBatch(parsed.payload, opts) : unifiedBatch(parsed.payload, opts);
}
