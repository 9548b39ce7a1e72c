import { UnrecoverableError } from 'bullmq';
import { DomainError } from '../core/errors.js';
import { archiveIncidentChannel } from '../flows/archive.js';
import { renderChecklist } from '../flows/checklist.js';
import { deliver } from '../flows/deliver.js';
import type { Deps } from '../flows/deps.js';
import { draftPostmortem } from '../flows/draft-postmortem.js';
import { createFollowupIssue } from '../flows/followup-issue.js';
import { fanOutHome, refreshHome, requestHomeRefresh } from '../flows/home.js';
import { ingestAlert, postAllResolved } from '../flows/ingest-alert.js';
import {
  type JobFailure,
  recordAlertIngestFailure,
  recordDeliveryFailure,
  recordJobFailure,
  recordSetupChannelFailure,
} from '../flows/job-failure.js';
import { recordOutboundGaveUp } from '../flows/outbound-failure.js';
import { recordWebhookFailure, sendWebhooks } from '../flows/outgoing-webhook.js';
import { sendPage } from '../flows/page.js';
import { gitDestinationLabel, pushPostmortem } from '../flows/push-postmortem.js';
import { processReminder } from '../flows/reminders.js';
import {
  recordCheckJobFailure,
  recordDiagnosticsRunFailure,
  runCheckJob,
  runDiagnosticsJob,
} from '../flows/run-diagnostics.js';
import { setupChannel } from '../flows/setup-channel.js';
import { sweep } from '../flows/sweep.js';
import { recordMessage } from '../slack/app.js';
import { type JobName, type JobPayload, JobPayloads } from './queues.js';

/** Runs one job of name N with its validated payload. */
export type Processor<N extends JobName> = (deps: Deps, payload: JobPayload<N>) => Promise<unknown>;

/** Every job's processor, by name: the one table, wired at start-up (TypeScript rejects a job name without one). */
export const processors: { [N in JobName]: Processor<N> } = {
  'setup-channel': (deps, p) => setupChannel(deps, p.incidentId),
  deliver: async (deps, p) => {
    const res = await deliver(deps, p.incidentId);
    // Issue 13: an incident changed, so the App Home tabs showing it are refreshed (debounced).
    await requestHomeRefresh(deps);
    return res;
  },
  'record-message': async (deps, p) => {
    const slack = deps.slack!;
    const m = await slack.message(p.channelId, p.ts);
    if (!m) throw new UnrecoverableError(`message ${p.ts} not found in ${p.channelId}`);
    return recordMessage(deps, p.incidentId, {
      channelId: p.channelId,
      ts: p.ts,
      author: m.user,
      text: m.text,
      by: p.by,
      source: 'reaction',
    });
  },
  'ingest-alert': (deps, p) => ingestAlert(deps, p.deliveryId),
  'run-check': (deps, p) => runCheckJob(deps, p),
  'run-diagnostics': (deps, p) => runDiagnosticsJob(deps, p),
  'render-checklist': (deps, p) => renderChecklist(deps, p.incidentId),
  'draft-postmortem': (deps, p) => draftPostmortem(deps, p.incidentId, p.requestedBy, { onClose: p.onClose }),
  'alert-notice': (deps, p) => postAllResolved(deps, p),
  reminder: (deps, p) => processReminder(deps, p),
  sweep: (deps) => sweep(deps),
  'followup-issue': (deps, p) => createFollowupIssue(deps, p),
  page: (deps, p) => sendPage(deps, p),
  'push-postmortem': (deps, p) => pushPostmortem(deps, p.incidentId),
  'outgoing-webhook': (deps, p) => sendWebhooks(deps, p),
  'archive-channel': (deps, p) => archiveIncidentChannel(deps, p.incidentId),
  'refresh-home': (deps, p) => refreshHome(deps, p.userId),
  'home-fanout': (deps) => fanOutHome(deps),
};

/** How a job failed for good: job id, last error, the attempts made (all of them, or fewer when not retryable). */
export type FinalFailure = JobFailure;

/** Shows people that a job of name N failed for good (BullMQ will not run it again). */
export type FailureHandler<N extends JobName> = (
  deps: Deps,
  payload: JobPayload<N>,
  failure: FinalFailure,
) => Promise<unknown>;

/**
 * Every job's final-failure handler, by name (TypeScript rejects a job name without one), so nothing
 * fails silently after its last attempt: a check's item shows `error` instead of pending, and every
 * other job records a `job_failed` entry (once per job id) whose delivery tells the channel.
 */
export const failureHandlers: { [N in JobName]: FailureHandler<N> } = {
  'setup-channel': (deps, p, f) => recordSetupChannelFailure(deps, p.incidentId, f),
  deliver: (deps, p, f) => recordDeliveryFailure(deps, p.incidentId, f),
  'record-message': (deps, p, f) =>
    recordJobFailure(deps, 'record-message', p.incidentId, f, `message ${p.ts}`),
  'ingest-alert': (deps, p, f) => recordAlertIngestFailure(deps, p.deliveryId, f),
  // A check job that failed for good shows as an error with the reason, not pending forever.
  'run-check': (deps, p, f) => recordCheckJobFailure(deps, p, f),
  // So does every check a diagnostics run marked pending but failed for good before queueing.
  'run-diagnostics': (deps, p, f) => recordDiagnosticsRunFailure(deps, p, f),
  'render-checklist': (deps, p, f) => recordJobFailure(deps, 'render-checklist', p.incidentId, f),
  'draft-postmortem': (deps, p, f) => recordJobFailure(deps, 'draft-postmortem', p.incidentId, f),
  'alert-notice': (deps, p, f) =>
    recordJobFailure(deps, 'alert-notice', p.incidentId, f, `alert group ${p.alertGroupId}`),
  reminder: (deps, p, f) =>
    recordJobFailure(
      deps,
      'reminder',
      p.incidentId,
      f,
      p.kind === 'escalation' ? 'escalation' : 'status-update nudge',
    ),
  'archive-channel': (deps, p, f) => recordJobFailure(deps, 'archive-channel', p.incidentId, f),
  // No incident to tell: the next change or open of the Home tab publishes it again.
  'refresh-home': async (deps, p, f) => {
    deps.log.error(
      { job: 'refresh-home', userId: p.userId, failure: f.message },
      'could not publish a Home tab',
    );
  },
  'home-fanout': async (deps, _p, f) => {
    deps.log.error({ job: 'home-fanout', failure: f.message }, 'could not queue Home tab refreshes');
  },
  // No incident to tell: the next sweep (a minute later) tries again; a failing one is logged.
  sweep: async (deps, _p, f) => {
    deps.log.error(
      { job: 'sweep', jobId: f.jobId, failure: f.message },
      'sweep failed; the next one retries',
    );
  },
  'followup-issue': (deps, p, f) =>
    recordOutboundGaveUp(
      deps,
      p.incidentId,
      deps.config.FOLLOWUP_GITHUB_REPO ? 'github' : 'jira',
      `follow-up ${p.followupId}`,
      `The follow-up is kept; try again with \`/incident issue ${p.followupId}\` once the tracker answers.`,
      f,
    ),
  page: (deps, p, f) =>
    recordOutboundGaveUp(
      deps,
      p.incidentId,
      'pagerduty',
      `${p.action === 'trigger' ? 'page to' : 'resolving the page to'} ${p.service}`,
      p.action === 'trigger'
        ? `Page them by hand, and try again with \`/incident page ${p.service}\`.`
        : 'Resolve the alert in PagerDuty by hand.',
      f,
    ),
  'push-postmortem': (deps, p, f) =>
    recordJobFailure(deps, 'push-postmortem', p.incidentId, f, gitDestinationLabel(deps)),
  'outgoing-webhook': (deps, p, f) => recordWebhookFailure(deps, p, f),
};

/**
 * True when BullMQ will not retry a job that just failed: its attempts are used up (`attemptsMade` already
 * counts this one when the worker emits `failed`) or the error is an UnrecoverableError (BullMQ's own rule).
 */
export function isFinalFailure(
  job: { attemptsMade: number; opts: { attempts?: number } },
  err: Error,
): boolean {
  return err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/**
 * Runs the final-failure handler of a job name with the validated payload; an unknown name or an invalid
 * payload (a bug: there is no incident to tell) is logged at error. Never rejects: a handler that fails
 * (Redis down, Slack down) is logged and given up.
 */
export async function handleFinalFailure(
  deps: Deps,
  name: string,
  data: unknown,
  failure: FinalFailure,
): Promise<void> {
  const known = Object.hasOwn(failureHandlers, name);
  const fn = known ? (failureHandlers[name as JobName] as FailureHandler<JobName>) : undefined;
  const parsed = known ? JobPayloads[name as JobName].safeParse(data) : undefined;
  if (!fn || !parsed?.success) {
    deps.log.error(
      { job: name, jobId: failure.jobId, failure: failure.message },
      'a job with an unknown name or an invalid payload failed for good; nobody can be told',
    );
    return;
  }
  try {
    await fn(deps, parsed.data as never, failure);
  } catch (err) {
    deps.log.error(
      { job: name, err: (err as Error).message, failure: failure.message },
      'could not record the final failure of a job',
    );
  }
}

/**
 * Runs one job: validates the payload (invalid → UnrecoverableError, never retried), then the
 * processor. Domain errors (a closed incident) are final too; anything else is retried with backoff.
 */
export async function processJob(deps: Deps, name: string, data: unknown): Promise<unknown> {
  if (!Object.hasOwn(processors, name)) throw new UnrecoverableError(`no processor for job ${name}`);
  const schema = JobPayloads[name as JobName];
  const fn = processors[name as JobName] as Processor<JobName>;
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${name} payload: ${parsed.error.message}`);
  try {
    return await fn(deps, parsed.data as never);
  } catch (err) {
    if (err instanceof DomainError) throw new UnrecoverableError(`${err.code}: ${err.message}`);
    throw err;
  }
}
