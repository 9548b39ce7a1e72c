import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AlertSource, DEFAULT_SEVERITY_MAPPING, parseSeverityMapping } from '../core/alert.js';
import { type AlertDelivery, alertDeliveryId, DELIVERY_TTL_S } from '../flows/ingest-alert.js';
import { QUEUE_OF } from '../jobs/queues.js';
import type { Metrics } from '../metrics.js';
import type { Runtime } from '../runtime.js';
import { type Route, sendJson } from '../server.js';
import {
  BodyTooLargeError,
  handleAlertWebhook,
  headerAuthError,
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
 * Counts an answer (requests by source and status; 400/401/413 also as rejected, by reason) and
 * sends it. A module function, not a closure made per request.
 */
function answer(
  metrics: Metrics,
  source: AlertSource,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  metrics.requests.inc({ kind: `alert_${source}`, status: String(status) });
  const reason = REASON[status];
  if (reason) metrics.rejected.inc({ endpoint: `alerts/${source}`, reason });
  sendJson(res, status, body, headers);
}

/**
 * Whether the `ingest-alert` job `jobId` failed for good (is in the queue's failed set). The
 * questions asked in one turn of the event loop go to Redis as one `ZMSCORE` (Redis ≥ 6.2), not
 * one command each: under a storm that is one command for many deliveries.
 */
function failedCheck(rt: Runtime): (jobId: string) => Promise<boolean> {
  const failedKey = rt.jobs.queues[QUEUE_OF['ingest-alert']].toKey('failed');
  let pending: { jobId: string; resolve: (failed: boolean) => void; reject: (err: Error) => void }[] = [];
  const flush = async () => {
    const asked = pending;
    pending = [];
    try {
      const scores = await rt.redis.zmscore(failedKey, ...asked.map((p) => p.jobId));
      for (const [i, p] of asked.entries()) p.resolve(scores[i] !== null && scores[i] !== undefined);
    } catch (err) {
      for (const p of asked) p.reject(err as Error);
    }
  };
  return (jobId) =>
    new Promise<boolean>((resolve, reject) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ jobId, resolve, reject });
    });
}

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
  const alerts = rt.jobs.queues[QUEUE_OF['ingest-alert']];
  const isFailed = failedCheck(rt);

  const auth = { token: rt.config.ALERT_WEBHOOK_TOKEN, pagerdutySecret: rt.config.PAGERDUTY_WEBHOOK_SECRET };
  const handle = async (source: AlertSource, req: IncomingMessage, res: ServerResponse) => {
    // The token is in the headers: a sender without it never gets to make us read (up to 1 MiB of) its body.
    const refused = headerAuthError(source, req.headers, auth);
    if (refused) return answer(metrics, source, res, 401, { error: refused }, { connection: 'close' });
    let rawBody: Buffer;
    try {
      rawBody = await readBody(req, MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        const r = payloadTooLarge(err.limitBytes);
        return answer(metrics, source, res, r.status, r.body, { connection: 'close' });
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
    if (result.status !== 202) return answer(metrics, source, res, result.status, result.body);

    const deliveryId = alertDeliveryId(result.groupId, rawBody);
    const delivery: AlertDelivery = { source, groupId: result.groupId, batch: result.batch };
    try {
      await withTimeout(
        (async () => {
          // NX: the first copy's receive time wins; the job id makes the enqueue idempotent, and a
          // crash between the two is healed by the sender's retry (same body, same ids).
          await rt.store.saveDelivery(deliveryId, delivery, DELIVERY_TTL_S);
          const jobId = `ingest-${deliveryId}`;
          // A job that failed for good keeps its id for days and would swallow every re-send of the
          // same body: the sender retrying is the signal to run it again. The add (a no-op for an
          // existing id) and the look into the failed set go out together.
          const [, failed] = await Promise.all([
            rt.jobs.enqueue('ingest-alert', { deliveryId }, { jobId }),
            isFailed(jobId),
          ]);
          if (failed) await (await alerts.getJob(jobId))?.retry('failed').catch(() => {});
        })(),
        STORE_TIMEOUT_MS,
      );
    } catch (err) {
      rt.log.warn({ err: (err as Error).message, source, deliveryId }, 'alert not stored: Redis unavailable');
      metrics.rejected.inc({ endpoint: `alerts/${source}`, reason: 'redis' });
      return answer(
        metrics,
        source,
        res,
        503,
        { error: 'incident-bot cannot store alerts right now (Redis unavailable); retry later' },
        { 'retry-after': '5' },
      );
    }
    answer(metrics, source, res, 202, { ...result.body, deliveryId });
  };

  return ALERT_SOURCES.map((source) => ({
    method: 'POST' as const,
    path: `/alerts/${source}`,
    handler: (req: IncomingMessage, res: ServerResponse) => handle(source, req, res),
  }));
}
