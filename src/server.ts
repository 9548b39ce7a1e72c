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
          sendJson(res, 503, { ok: false, redis: 'down', error: (err as Error).message });
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

  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/slack/events' && receiver && req.method === 'POST') {
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
        error: known ? `use ${routes.find((r) => r.path === path)!.method} for ${path}` : `no route ${path}`,
      });
      return;
    }
    Promise.resolve(route.handler(req, res)).catch((err) => {
      rt.log.error({ err, path }, 'route failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
}
