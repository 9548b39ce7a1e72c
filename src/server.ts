import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { HTTPReceiver } from '@slack/bolt';
import { alertRoutes } from './alerts/routes.js';
import type { Metrics } from './metrics.js';
import type { Runtime } from './runtime.js';

/** A route on the web server besides Slack's: method, exact path, handler. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;
}

/** Writes a JSON response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * The one HTTP server of the web process: Slack requests at `/slack/events` (Bolt's
 * HTTPReceiver verifies signatures: 401 when forged, missing or older than 5 minutes), alert
 * webhooks, `GET /healthz` (Redis ping) and `GET /metrics` (Prometheus text format).
 */
export function createWebServer(rt: Runtime, metrics: Metrics, receiver?: HTTPReceiver): Server {
  const routes = [
    // The alert webhooks, `POST /alerts/<source>`.
    ...alertRoutes(rt, metrics),
    {
      method: 'GET',
      path: '/healthz',
      async handler(_req, res) {
        try {
          await rt.store.ping();
          sendJson(res, 200, { ok: true, redis: 'up' });
        } catch (err) {
          // The reason goes to the log only: Redis' error text names hosts, ports and sometimes users.
          rt.log.warn({ err: (err as Error).message }, '/healthz: Redis did not answer');
          sendJson(res, 503, { ok: false, redis: 'down' });
        }
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      async handler(_req, res) {
        const body = await metrics.registry.metrics();
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(body);
      },
    },
  ] satisfies Route[];

  const { headersTimeout, requestTimeout } = httpLimits(rt.config);
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      // Node checks both timeouts on this interval (default 30 s): keep it below the shorter one.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 2)),
    },
    (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (path === '/slack/events' && receiver && req.method === 'POST') {
        // The host's wall clock, as Bolt's own check of the past uses: the replay window is about
        // Slack's clock and ours, not the domain clock (`deps.now`, which the demo runs in the seeds' past).
        if (fromTheFuture(req, new Date())) {
          // Bolt refuses timestamps more than 5 minutes old, not ones ahead: a replayed request
          // signed with a clock set forward would stay valid until then.
          metrics.rejected.inc({ endpoint: 'slack', reason: 'signature' });
          res.writeHead(401, { connection: 'close' }).end();
          return;
        }
        res.once('finish', () => {
          if (res.statusCode === 401) metrics.rejected.inc({ endpoint: 'slack', reason: 'signature' });
          else if (res.statusCode === 413) metrics.rejected.inc({ endpoint: 'slack', reason: 'too_large' });
          else if (res.statusCode >= 400)
            metrics.requests.inc({ kind: 'slack', status: String(res.statusCode) });
        });
        receiver.requestListener(req, res);
        return;
      }
      const route = routes.find((r) => r.path === path && r.method === req.method);
      if (!route) {
        const known = routes.some((r) => r.path === path);
        sendJson(res, known ? 405 : 404, {
          error: known
            ? `use ${routes.find((r) => r.path === path)!.method} for ${path}`
            : `no route ${path}`,
        });
        return;
      }
      Promise.resolve(route.handler(req, res)).catch((err) => {
        rt.log.error({ err, path }, 'route failed');
        if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    },
  );
  server.maxConnections = rt.config.HTTP_MAX_CONNECTIONS ?? 1024;
  return server;
}

/** Slack's replay window, seconds (https://docs.slack.dev/authentication/verifying-requests-from-slack). */
const SLACK_WINDOW_S = 5 * 60;

/** True when the request's `X-Slack-Request-Timestamp` is more than 5 minutes ahead of `now`. */
export function fromTheFuture(req: IncomingMessage, now: Date): boolean {
  const ts = Number(req.headers['x-slack-request-timestamp']);
  return Number.isFinite(ts) && ts - now.getTime() / 1000 > SLACK_WINDOW_S;
}

/** The web server's timeouts in ms, from HTTP_HEADERS_TIMEOUT_SECONDS and HTTP_REQUEST_TIMEOUT_SECONDS (headers ≤ request, as Node requires). */
export function httpLimits(config: Runtime['config']): { headersTimeout: number; requestTimeout: number } {
  const requestTimeout = Math.round((config.HTTP_REQUEST_TIMEOUT_SECONDS ?? 30) * 1000);
  const headersTimeout = Math.min(
    requestTimeout,
    Math.round((config.HTTP_HEADERS_TIMEOUT_SECONDS ?? 10) * 1000),
  );
  return { headersTimeout, requestTimeout };
}
