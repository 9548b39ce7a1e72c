import { DelayedError, type Job, Worker } from 'bullmq';
import { RetryLater } from '../core/errors.js';
import type { Deps } from '../flows/deps.js';
import type { Metrics } from '../metrics.js';
import { createRedis } from '../redis/connection.js';
import { bullPrefix } from '../redis/store.js';
import { handleFinalFailure, isFinalFailure, processJob } from './processors.js';
import { QUEUE_NAMES } from './queues.js';

/** A Worker whose close() also waits for the final-failure handlers it started (they write to Redis and Slack). */
class BotWorker extends Worker {
  readonly afterFailures = new Set<Promise<void>>();

  override async close(force = false): Promise<void> {
    await super.close(force);
    await Promise.allSettled([...this.afterFailures]);
  }
}

/**
 * Runs a job; one that cannot run yet (RetryLater: a lock held by another worker, a post it follows
 * not out yet) goes back to the delayed set for its delay without spending an attempt, as BullMQ's
 * manual delay pattern does (https://docs.bullmq.io/patterns/process-step-jobs#delaying).
 */
async function runJob(deps: Deps, job: Job, token: string | undefined): Promise<unknown> {
  try {
    return await processJob(deps, job.name, job.data);
  } catch (err) {
    if (!(err instanceof RetryLater) || !token) throw err;
    deps.log.debug({ job: job.name, jobId: job.id, delayMs: err.delayMs, why: err.message }, 'job delayed');
    await job.moveToDelayed(Date.now() + err.delayMs, token);
    throw new DelayedError();
  }
}

/** Starts one BullMQ Worker per queue on a waiting (worker-role) connection; returns them for shutdown. */
export function startWorkers(deps: Deps, metrics?: Metrics, opts: { concurrency?: number } = {}): Worker[] {
  const connection = createRedis(deps.config, 'worker', { protocol: deps.config.REDIS_PROTOCOL });
  return QUEUE_NAMES.map((queue) => {
    const w = new BotWorker(queue, (job, token) => runJob(deps, job, token), {
      connection,
      prefix: bullPrefix(deps.config.REDIS_PREFIX),
      concurrency: opts.concurrency ?? deps.config.WORKER_CONCURRENCY,
      // A crashed worker's jobs come back after the lock expires; keep it short so recovery is quick.
      lockDuration: deps.config.JOB_LOCK_SECONDS * 1000,
      stalledInterval: deps.config.JOB_LOCK_SECONDS * 500,
      // Issue 3: channel setup one at a time per worker (channels open in declaration order) and at
      // most CHANNEL_SETUPS_PER_WINDOW per window across all workers (Slack Tier 2), queued, not failed.
      // Evenly spaced (1 per window/N), because BullMQ's window is fixed: N at the end of one window
      // plus N at the start of the next would be a 2N burst, which Slack answers with 429.
      ...(queue === 'channels'
        ? {
            concurrency: 1,
            limiter: {
              max: 1,
              duration:
                (deps.config.CHANNEL_SETUP_WINDOW_SECONDS * 1000) / deps.config.CHANNEL_SETUPS_PER_WINDOW,
            },
          }
        : queue === 'home'
          ? // views.publish is Tier 4 (100+ per minute): at most 100 Home publishes a minute per worker process.
            { concurrency: 1, limiter: { max: 1, duration: 600 } }
          : {}),
    });
    w.on('completed', (job) => metrics?.jobs.inc({ queue, name: job.name, outcome: 'completed' }));
    w.on('failed', (job, err) => {
      const final = !job || isFinalFailure(job, err);
      metrics?.jobs.inc({ queue, name: job?.name ?? '?', outcome: final ? 'failed' : 'retried' });
      deps.log.warn(
        { queue, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade, final, err: err.message },
        'job failed',
      );
      if (!job || !final) return;
      // Its alerts may be on no timeline: worth an alert of its own, whether or not an incident is told.
      if (job.name === 'ingest-alert') metrics?.alertsLost.inc();
      // BullMQ will not run it again: its failure handler shows it (a check's item, a job_failed entry).
      const done = handleFinalFailure(deps, job.name, job.data, {
        // BullMQ always assigns an id; the fallback only keeps the claim key defined.
        jobId: job.id ?? `${job.name}-${job.timestamp}`,
        message: err.message,
        attemptsMade: job.attemptsMade,
        retryable: err.name !== 'UnrecoverableError',
      });
      w.afterFailures.add(done);
      void done.finally(() => w.afterFailures.delete(done));
    });
    w.on('error', (err) => deps.log.error({ queue, err: err.message }, 'worker error'));
    return w;
  });
}
