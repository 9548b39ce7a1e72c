import { DomainError, SlackRefused } from '../core/errors.js';
import type { IncidentId } from '../core/incident-model.js';
import type { EntryOf } from '../core/timeline.js';
import { escapeText, mention } from '../slack/escape.js';
import { confirmationFor } from '../slack/render.js';
import { type Deps, slackOf } from './deps.js';
import { AlertDelivery } from './ingest-alert.js';
import { mutate } from './record.js';
import { recordRefusal } from './refusals.js';

/** How a job failed for good: BullMQ will not run it again (attempts used up, or an UnrecoverableError). */
export interface JobFailure {
  /** The BullMQ job id; with the job name it is the claim key of the `job_failed` entry (once per job). */
  jobId: string;
  /** The last error's message. */
  message: string;
  /** Tries made, this one included. */
  attemptsMade: number;
  /** False when BullMQ gave up early: an UnrecoverableError (invalid payload, a DomainError) or a job that kept stalling. */
  retryable: boolean;
}

/** What recording a final failure did. */
export type JobFailureOutcome = 'recorded' | 'duplicate' | 'no-incident' | 'repeat';

const ERROR_MAX = 500;

/** The `job_failed` entry of a final failure (error cut to 500 characters). */
function failedEntry(
  deps: Deps,
  id: IncidentId,
  job: string,
  failure: JobFailure,
  detail: string | undefined,
): Omit<EntryOf<'job_failed'>, 'seq'> {
  const error =
    failure.message.length > ERROR_MAX ? `${failure.message.slice(0, ERROR_MAX - 1)}…` : failure.message;
  return {
    kind: 'job_failed',
    incidentId: id,
    at: deps.now().toISOString(),
    actor: { type: 'bot' },
    source: 'bot',
    job,
    error,
    attempts: failure.attemptsMade,
    ...(detail ? { detail } : {}),
  };
}

/**
 * Records that job `job` of incident `id` failed for good: one `job_failed` entry (claim key
 * `job-failed-<job>-<jobId>`, so a repeated call records nothing), also on a closed incident. Its
 * delivery tells the channel (`confirmationFor`: ":warning: incident-bot gave up on …"). An incident
 * that does not exist is logged and nothing is recorded.
 */
export async function recordJobFailure(
  deps: Deps,
  job: string,
  id: IncidentId,
  failure: JobFailure,
  detail?: string,
): Promise<JobFailureOutcome> {
  const context = { id, job, jobId: failure.jobId, attempts: failure.attemptsMade, err: failure.message };
  deps.log.error(context, 'job failed for good');
  try {
    const rec = await mutate(deps, id, () => [failedEntry(deps, id, job, failure, detail)], {
      claimKey: `job-failed-${job}-${failure.jobId}`,
      allowClosed: true,
    });
    return rec.duplicate ? 'duplicate' : 'recorded';
  } catch (err) {
    if (err instanceof DomainError && err.code === 'INCIDENT_NOT_FOUND') {
      deps.log.error(context, 'job failed for good for an incident that does not exist; nothing to record');
      return 'no-incident';
    }
    throw err;
  }
}

/**
 * Final failure of `setup-channel`. The entry is recorded as for any job; when the channel (or its
 * pinned summary) is what never came, delivery cannot post it there, so the failure goes to
 * INCIDENT_ANNOUNCE_CHANNEL (mentioning the declarer), or else to the declarer directly (a user id as
 * `channel` posts in the app's DM: https://docs.slack.dev/reference/methods/chat.postMessage).
 */
export async function recordSetupChannelFailure(
  deps: Deps,
  id: IncidentId,
  failure: JobFailure,
): Promise<JobFailureOutcome> {
  const outcome = await recordJobFailure(deps, 'setup-channel', id, failure);
  if (outcome !== 'recorded') return outcome;
  const inc = await deps.store.current(id);
  if (!inc || (inc.channelId && inc.summaryTs)) return outcome;
  // A private incident's trouble goes to its declarer only, never to the (public) announce channel.
  const announce = inc.private ? undefined : deps.config.INCIDENT_ANNOUNCE_CHANNEL;
  const to = announce ?? inc.declaredBy;
  if (!to) {
    deps.log.error({ id }, 'no channel to tell that the incident channel could not be opened');
    return outcome;
  }
  const said = confirmationFor({ ...failedEntry(deps, id, 'setup-channel', failure, undefined), seq: 0 });
  const who = announce && inc.declaredBy ? `${mention(inc.declaredBy)} ` : '';
  const channel = inc.channelId ? ` (channel <#${inc.channelId}>)` : '';
  const text = `${id} (${inc.severity}) “${escapeText(inc.title)}”${channel}: ${said!.text}`;
  try {
    await slackOf(deps).post(to, { text: `${who}${text}` });
  } catch (err) {
    // An announce channel that refuses (archived, gone) must not swallow this: tell the declarer.
    if (!(err instanceof SlackRefused) || to !== announce) throw err;
    await recordRefusal(deps, id, 'announce', announce, err.code);
    if (inc.declaredBy) await slackOf(deps).post(inc.declaredBy, { text });
  }
  return outcome;
}

/**
 * Final failure of `deliver`: recorded like any job, and recording it queues the next delivery,
 * which retries every post still owed. When that one fails for good too (Slack still refusing, the
 * channel archived), the timeline already ends with this failure and nothing else has happened, so
 * it is logged, not recorded again: a channel that stays broken does not grow an entry per minute;
 * the next change retries.
 */
export async function recordDeliveryFailure(
  deps: Deps,
  id: IncidentId,
  failure: JobFailure,
): Promise<JobFailureOutcome> {
  const inc = await deps.store.current(id);
  const [last] = inc ? await deps.store.entries(id, inc.entryCount) : [];
  if (last?.kind === 'job_failed' && last.job === 'deliver') {
    deps.log.error(
      { id, jobId: failure.jobId, attempts: failure.attemptsMade, err: failure.message },
      'delivery failed for good again; the failure is already the last timeline entry',
    );
    return 'repeat';
  }
  return recordJobFailure(deps, 'deliver', id, failure);
}

/**
 * Final failure of `ingest-alert` (the payload is a delivery id, not an incident): logged at error
 * (the worker counts it in `incident_bot_alert_deliveries_lost_total`), and recorded on the incident
 * the delivery's alert group is bound to, if any. The group comes from the stored delivery, or, once
 * that expired, from the id (`<groupId>-<16 hex>`, see `alertDeliveryId`).
 */
export async function recordAlertIngestFailure(
  deps: Deps,
  deliveryId: string,
  failure: JobFailure,
): Promise<JobFailureOutcome> {
  const stored = AlertDelivery.safeParse(await deps.store.delivery(deliveryId));
  const groupId = stored.success ? stored.data.groupId : /^(.+)-[0-9a-f]{16}$/.exec(deliveryId)?.[1];
  const id = groupId ? await deps.store.boundIncident(groupId) : undefined;
  deps.log.error(
    { deliveryId, groupId, incidentId: id, attempts: failure.attemptsMade, err: failure.message },
    'alert delivery failed for good; its alerts may be on no timeline',
  );
  if (!id) return 'no-incident';
  const from = stored.success ? ` from ${stored.data.source}` : '';
  return recordJobFailure(deps, 'ingest-alert', id, failure, `alert group ${groupId}${from}`);
}
