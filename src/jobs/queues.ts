import { type JobsOptions, Queue } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { IncidentId } from '../core/incident-model.js';
import type { Logger } from '../logger.js';

/**
 * Queues and their job payloads. A payload holds ids, not objects, and is validated with zod when
 * consumed (an invalid one is an UnrecoverableError). Queue names are metric labels.
 */
export const JobPayloads = {
  'setup-channel': z.object({ incidentId: IncidentId }),
  deliver: z.object({ incidentId: IncidentId }),
  'record-message': z.object({
    incidentId: IncidentId,
    channelId: z.string(),
    ts: z.string(),
    by: z.string(),
    eventId: z.string().optional(),
  }),
  'ingest-alert': z.object({ deliveryId: z.string() }),
  'run-check': z.object({
    incidentId: IncidentId,
    checkId: z.string(),
    target: z.string(),
    requestedBy: z.string().optional(),
    /** Which diagnostics run of the incident this belongs to (1 = on open); part of the result's claim key. */
    run: z.number().int().positive().optional(),
  }),
  'run-diagnostics': z.object({
    incidentId: IncidentId,
    only: z.array(z.string()).optional(),
    requestedBy: z.string().optional(),
    /** Run number, allocated by whoever enqueues, so a retried job does not start a second run. */
    run: z.number().int().positive().optional(),
  }),
  /** Re-renders an incident's checklist message from the folded timeline (after a checkbox tick). */
  'render-checklist': z.object({ incidentId: IncidentId }),
  'draft-postmortem': z.object({
    incidentId: IncidentId,
    requestedBy: z.string().optional(),
    /** The draft a close owes (drafted once, clears the incident's `postmortem-owed` mark). */
    onClose: z.boolean().optional(),
  }),
  /** "Every alert of the group resolved" post with the Close button, once the resolves are in the channel. */
  'alert-notice': z.object({ incidentId: IncidentId, alertGroupId: z.string(), key: z.string() }),
  /** Finishes work a crash or an error left owed (src/flows/sweep.ts); run by a job scheduler. */
  sweep: z.object({}),
  reminder: z.object({
    incidentId: IncidentId,
    kind: z.enum(['status-update', 'escalation']),
    /** The last status update the reminder was scheduled from; a newer one makes it obsolete. */
    basis: z.iso.datetime(),
    /** The severity change the reminder was rescheduled for; one of an older change is obsolete. */
    severityAt: z.iso.datetime().optional(),
  }),
  /** Issue 14: creates the tracker issue of one follow-up, once (src/flows/followup-issue.ts). */
  'followup-issue': z.object({
    incidentId: IncidentId,
    followupId: z.string(),
    requestedBy: z.string().optional(),
  }),
  /** Issue 14: one PagerDuty Events API v2 event for a service (src/flows/page.ts). */
  page: z.object({
    incidentId: IncidentId,
    service: z.string(),
    action: z.enum(['trigger', 'resolve']),
    requestedBy: z.string().optional(),
    reason: z.string().optional(),
  }),
  /** Issue 14: commits the incident's stored postmortem draft to POSTMORTEM_GIT_REPO and pushes it. */
  'push-postmortem': z.object({ incidentId: IncidentId }),
  /** Issue 14: sends the incident's undelivered events, in order, to one outgoing webhook (`receiver`: its id). */
  'outgoing-webhook': z.object({ incidentId: IncidentId, receiver: z.string().regex(/^[0-9a-f]{12}$/) }),
  /** Archives a closed incident's channel ARCHIVE_AFTER_DAYS after the close (a delayed job; issue 13). */
  'archive-channel': z.object({ incidentId: IncidentId }),
  /** Publishes one viewer's App Home tab (views.publish), debounced per viewer (issue 13). */
  'refresh-home': z.object({ userId: z.string().min(1) }),
  /** Queues a Home refresh for every recent viewer after incidents changed (issue 13). */
  'home-fanout': z.object({}),
} as const;
export type JobName = keyof typeof JobPayloads;
export type JobPayload<N extends JobName> = z.infer<(typeof JobPayloads)[N]>;

/** Which queue each job runs on: slow Slack work, alert ingestion, diagnostics, postmortems, timers. */
export const QUEUE_OF: Record<JobName, QueueName> = {
  // Its own queue so BullMQ's limiter can keep channel creation under Slack's Tier 2 (~20/min).
  'setup-channel': 'channels',
  deliver: 'slack',
  'record-message': 'slack',
  'ingest-alert': 'alerts',
  'run-check': 'diagnostics',
  'run-diagnostics': 'diagnostics',
  'render-checklist': 'slack',
  'draft-postmortem': 'postmortem',
  'alert-notice': 'slack',
  reminder: 'reminders',
  sweep: 'reminders',
  // Their own queue: a slow or rate-limited tracker or PagerDuty never holds up channel posts.
  'followup-issue': 'outbound',
  page: 'outbound',
  'push-postmortem': 'outbound',
  'outgoing-webhook': 'outbound',
  // Its own queue: a delayed job per closed incident for weeks, apart from the reminder timers.
  'archive-channel': 'housekeeping',
  'refresh-home': 'home',
  'home-fanout': 'home',
};
export const QUEUE_NAMES = [
  'channels',
  'slack',
  'alerts',
  'diagnostics',
  'postmortem',
  'reminders',
  // Issue 14: talks to other services (git remotes, webhook receivers); a slow one holds up nothing else.
  'outbound',
  'home',
  'housekeeping',
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

const DEFAULTS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** The producer side of every queue: `enqueue(name, payload, opts)` with deterministic job ids where given. */
export class Jobs {
  readonly queues: Record<QueueName, Queue>;

  constructor(connection: Redis | Cluster, bullPrefix: string, log?: Pick<Logger, 'debug'>) {
    this.queues = Object.fromEntries(
      QUEUE_NAMES.map((q) => {
        const queue = new Queue(q, { connection, prefix: bullPrefix, defaultJobOptions: DEFAULTS });
        // Without a listener BullMQ console.error()s every connection error of the queue (each
        // reconnect attempt of an outage, once per queue). The failing add/remove rejects to its
        // caller, which answers or retries; /healthz and the workers report the outage.
        queue.on('error', (err) => log?.debug({ queue: q, err: err.message }, 'queue connection error'));
        return [q, queue];
      }),
    ) as Record<QueueName, Queue>;
  }

  /** Adds a job; `jobId` (no `:`, not all digits) makes the add idempotent while that job exists. */
  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: JobsOptions = {}): Promise<void> {
    if (opts.jobId && (opts.jobId.includes(':') || /^\d+$/.test(opts.jobId))) {
      throw new Error(`job id ${opts.jobId} must not contain ':' or be all digits`);
    }
    await this.queues[QUEUE_OF[name]].add(name, JobPayloads[name].parse(payload), opts);
  }

  /** Removes a waiting or delayed job by id (no-op when it is gone or running). */
  async remove(name: JobName, jobId: string): Promise<void> {
    await this.queues[QUEUE_OF[name]].remove(jobId);
  }

  /** True while the job's queue holds it (waiting, delayed, active, or kept after it completed or failed). */
  async exists(name: JobName, jobId: string): Promise<boolean> {
    return (await this.queues[QUEUE_OF[name]].getJob(jobId)) !== undefined;
  }

  /**
   * Runs job `name` every `everyMs` through a BullMQ job scheduler (upserted: every process may call
   * it at start-up; one schedule exists per `schedulerId`) (https://docs.bullmq.io/guide/job-schedulers).
   */
  async every<N extends JobName>(
    name: N,
    schedulerId: string,
    everyMs: number,
    payload: JobPayload<N>,
  ): Promise<void> {
    await this.queues[QUEUE_OF[name]].upsertJobScheduler(
      schedulerId,
      { every: everyMs },
      {
        name,
        data: JobPayloads[name].parse(payload),
        opts: { attempts: 1, removeOnComplete: true, removeOnFail: { count: 100 } },
      },
    );
  }

  /** Closes every queue (their connection is closed by the connection factory). */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((q) => q.close()));
  }
}
