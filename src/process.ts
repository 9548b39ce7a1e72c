import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import type { IncidentId } from './core/incident-model.js';
import type { PostmortemView } from './core/postmortem/index.js';
import { postmortemView } from './core/postmortem/index.js';
import { diagnosticsSetup } from './diagnostics/setup.js';
import { startLogScanWarmup } from './diagnostics/sources/log-scan-warmup.js';
import { type ClosedFigures, closedIncidentFigures } from './flows/incident-figures.js';
import { startWorkers } from './jobs/workers.js';
import { createMetrics } from './metrics.js';
import { outboundPorts } from './outbound/index.js';
import { defaultTemplatesDir, loadPostmortemTemplate, renderPostmortem } from './postmortem/render.js';
import { closeAllConnections, waitReady } from './redis/connection.js';
import { migrateLegacyLayout } from './redis/migrate.js';
import { createRuntime, type Runtime } from './runtime.js';
import { createWebServer } from './server.js';
import { type Closer, shutdown } from './shutdown.js';
import { createSlackApp } from './slack/app.js';
import { boltLogger } from './slack/bolt-logger.js';
import { SlackGroupDirectory } from './slack/group-directory.js';
import { SlackNotifier } from './slack/notifier.js';

/** A running incident-bot process (web, worker or both). */
export interface BotProcess {
  rt: Runtime;
  /** The web server's port, when the web part runs. */
  port?: number;
  closers: Closer[];
  close(): Promise<void>;
}

/**
 * Starts the web part (Slack requests, alert webhooks, /healthz, /metrics) and/or the worker part
 * (BullMQ workers) with config from `env`; `close()` shuts down in order: receivers, workers,
 * queues, connections.
 */
export async function startBot(
  opts: {
    env?: NodeJS.ProcessEnv;
    web?: boolean;
    worker?: boolean;
    overrides?: Partial<Config>;
    now?: () => Date;
  } = {},
): Promise<BotProcess> {
  const rt = createRuntime(opts.env ?? process.env, opts.overrides);
  if (opts.now) rt.deps.now = opts.now;
  rt.deps.groups = new SlackGroupDirectory(
    rt.config.SLACK_BOT_TOKEN,
    rt.config.SLACK_API_URL,
    boltLogger(rt.log),
  );
  rt.deps.renderPostmortem = checkedPostmortemRenderer(rt.config.TEMPLATES_DIR);
  // The targets file is read once, now, so its problems are in the start-up log of every process;
  // a broken file never stops start-up (the checks that can run, run).
  const setup = await diagnosticsSetup(rt.deps);
  const figuresCache = new Map<IncidentId, ClosedFigures | null>();
  const metrics = createMetrics(
    () => rt.store.openCount(),
    () => closedIncidentFigures(rt.deps, figuresCache),
  );
  // Producers fail fast while disconnected, so give the first connection a moment; a Redis that
  // is down at start-up is reported by /healthz and by replies, not by refusing to start.
  await waitReady(rt.redis, 3000).catch((err) =>
    rt.log.warn({ err: err.message }, 'Redis not reachable yet; continuing'),
  );
  // Once per prefix, before anything reads the directory: keys of the layout before hash tags move.
  await migrateLegacyLayout(rt.redis, rt.config.REDIS_PREFIX, rt.log).catch((err) =>
    rt.log.warn(
      { err: (err as Error).message },
      'could not check the Redis key layout; the next start tries again',
    ),
  );
  const closers: Closer[] = [];
  let port: number | undefined;

  if (opts.web !== false) {
    const { app, receiver, socket } = createSlackApp(rt.deps, metrics);
    const server = createWebServer(rt, metrics, receiver);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(rt.config.PORT, '0.0.0.0', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    // Socket Mode: resolves once Slack said hello on the WebSocket.
    if (socket) await app.start();
    closers.push({
      name: 'web',
      close: async () => {
        // Bolt's stop() does not wait for the WebSocket to close; the client's disconnect() does.
        if (socket) await socket.client.disconnect();
        await new Promise<void>((r) => {
          server.close(() => r());
          server.closeIdleConnections();
        });
      },
    });
    rt.log.info({ port }, 'web listening');
  }
  if (opts.worker !== false) {
    const workerDeps = {
      ...rt.deps,
      slack: new SlackNotifier(rt.config.SLACK_BOT_TOKEN, rt.config.SLACK_API_URL, boltLogger(rt.log)),
      // Issue 14: the follow-up tracker and PagerDuty, worker-only like Slack.
      ...outboundPorts(rt.config),
    };
    const workers = startWorkers(workerDeps, metrics);
    closers.push({ name: 'workers', close: () => Promise.all(workers.map((w) => w.close())) });
    rt.log.info({ queues: workers.map((w) => w.name) }, 'workers started');
    // One schedule however many workers start it: finishes what crashes and Redis errors left owed.
    await rt.jobs
      .every('sweep', 'sweep', rt.config.SWEEP_SECONDS * 1000, {})
      .catch((err) => rt.log.warn({ err: (err as Error).message }, 'could not schedule the sweeper yet'));
    // Issue 12: V8 optimizes the HAProxy log scanner here, a second after the worker is ready, rather than in
    // the first diagnosis an incident waits for; a failure is only logged.
    if (
      rt.config.LOG_SCAN_WARMUP !== false &&
      setup.config?.loadBalancers.some((lb) => lb.kind === 'haproxy' && lb.log)
    ) {
      const warmup = startLogScanWarmup(rt.log);
      closers.push({ name: 'log-scan-warmup', close: warmup.stop });
    }
  }
  closers.push({ name: 'queues', close: () => rt.jobs.close() });
  closers.push({ name: 'redis', close: () => closeAllConnections() });
  return { rt, port, closers, close: () => shutdown(closers, rt.log) };
}

/**
 * Loads the postmortem template and renders a minimal incident with it, so a syntax error or an
 * unknown field fails start-up (TemplateError names the file and line) instead of the first close.
 */
export function checkedPostmortemRenderer(dir: string | undefined): (view: PostmortemView) => string {
  const template = loadPostmortemTemplate(dir ?? defaultTemplatesDir());
  const at = '2000-01-01T00:00:00.000Z';
  renderPostmortem(
    template,
    postmortemView([
      {
        seq: 1,
        incidentId: 'INC-1',
        kind: 'declared',
        at,
        actor: { type: 'bot' },
        source: 'cli',
        title: 'template check',
        severity: 'SEV4',
      },
      { seq: 2, incidentId: 'INC-1', kind: 'closed', at, actor: { type: 'bot' }, source: 'cli' },
    ]),
  );
  return (view) => renderPostmortem(template, view);
}
