import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AlertSource, DEFAULT_SEVERITY_MAPPING, parseSeverityMapping } from '../core/alert.js';
import { type AlertDelivery, alertDeliveryId, DELIVERY_TTL_S } from '../flows/ingest-alert.js';
import type { Metrics } from '../metrics.js';
import type { Runtime } from '../runtime.js';
import { type Route, sendJson } from '../server.js';
import {
  BodyTooLargeError,
  handleAlertWebhook,
  MAX_BODY_BYTES,
  payloadTooLarge,
  readBody,
} from './intake.js';

/** The webhook sources, each at `POST /alerts/<source>`. */
export const ALERT_SOURCES: readonly AlertSource[] = ['alertmanager', 'grafana', 'pagerduty', 'generic'];

/** Redis work of one request must finish well inside Alertmanager's and Grafana's 10 s+ timeouts. */
const STORE_TIMEOUT_MS = 3000;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

const REASON: Record<number, string> = { 400: 'malformed', 401: 'auth', 413: 'too_large' };

/**
 * `POST /alerts/<source>`: reads the body (1 MiB limit → 413), checks auth (401) and format (400
 * naming the field) with the pure intake, then stores the normalized batch under
 * `keys.delivery(<groupId>-<body hash>)` (SET NX, 7 days) and enqueues `ingest-alert` with job id
 * `ingest-<deliveryId>`, answering 202. No Slack call here. Redis down → 503 + Retry-After, so
 * Alertmanager retries; nothing is written for 4xx answers.
 */
export function alertRoutes(rt: Runtime, metrics: Metrics): Route[] {
  // Checked once at start-up: a bad ALERT_SEVERITY_MAP fails the web process with its message.
  const mapping = rt.config.ALERT_SEVERITY_MAP
    ? parseSeverityMapping(rt.config.ALERT_SEVERITY_MAP)
    : DEFAULT_SEVERITY_MAPPING;

  const handle = async (source: AlertSource, req: IncomingMessage, res: ServerResponse) => {
    const kind = `alert_${source}`;
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      metrics.requests.inc({ kind, status: String(status) });
      const reason = REASON[status];
      if (reason) metrics.rejected.inc({ endpoint: `alerts/${source}`, reason });
      sendJson(res, status, body, headers);
    };
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        const r = payloadTooLarge(err.limitBytes);
        return answer(r.status, r.body, { connection: 'close' });
      }
      rt.log.debug({ err: (err as Error).message, source }, 'alert webhook body not received');
      return;
    }
    const result = handleAlertWebhook(
      source,
      { headers: req.headers, rawBody },
      {
        token: rt.config.ALERT_WEBHOOK_TOKEN,
        pagerdutySecret: rt.config.PAGERDUTY_WEBHOOK_SECRET,
        mapping,
        now: rt.deps.now(),
      },
    );
    if (result.status !== 202) return answer(result.status, result.body);

    const deliveryId = alertDeliveryId(result.groupId, rawBody);
    const delivery: AlertDelivery = { source, groupId: result.groupId, batch: result.batch };
    try {
      await withTimeout(
        (async () => {
          // NX: the first copy's receive time wins; the job id makes the enqueue idempotent, and a
          // crash between the two is healed by the sender's retry (same body, same ids).
          await rt.store.saveDelivery(deliveryId, delivery, DELIVERY_TTL_S);
          const jobId = `ingest-${deliveryId}`;
          await rt.jobs.enqueue('ingest-alert', { deliveryId }, { jobId });
          // A job that failed for good keeps its id for days and would swallow every re-send of the
          // same body: the sender retrying is the signal to run it again.
          const queue = rt.jobs.queues.alerts;
          if ((await queue.getJobState(jobId)) === 'failed') {
            await (await queue.getJob(jobId))?.retry('failed').catch(() => {});
          }
        })(),
        STORE_TIMEOUT_MS,
      );
    } catch (err) {
      rt.log.warn({ err: (err as Error).message, source, deliveryId }, 'alert not stored: Redis unavailable');
      metrics.rejected.inc({ endpoint: `alerts/${source}`, reason: 'redis' });
      metrics.requests.inc({ kind, status: '503' });
      return sendJson(
        res,
        503,
        { error: 'incident-bot cannot store alerts right now (Redis unavailable); retry later' },
        { 'retry-after': '5' },
      );
    }
    answer(202, { ...result.body, deliveryId });
  };

  return ALERT_SOURCES.map((source) => ({
    method: 'POST' as const,
    path: `/alerts/${source}`,
    handler: (req: IncomingMessage, res: ServerResponse) => handle(source, req, res),
  }));
}
