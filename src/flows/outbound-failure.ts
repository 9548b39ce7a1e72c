import { DomainError, RetryLater } from '../core/errors.js';
import type { IncidentId } from '../core/incident-model.js';
import { OutboundError, type OutboundService, whatToFix } from '../core/outbound.js';
import type { Deps } from './deps.js';
import { mutate } from './record.js';

/** Prefix of a job error whose refusal is already on the timeline (the final-failure handler adds nothing). */
const REFUSED = 'OUTBOUND_REFUSED';

/** Records an `outbound_failed` entry once per `claimKey` (also on a closed incident). */
async function recordFailure(
  deps: Deps,
  id: IncidentId,
  e: { service: OutboundService; subject: string; error: string; retryInS?: number },
  claimKey: string,
): Promise<void> {
  await mutate(
    deps,
    id,
    () => [
      {
        kind: 'outbound_failed',
        incidentId: id,
        at: deps.now().toISOString(),
        actor: { type: 'bot' },
        source: 'bot',
        ...e,
      },
    ],
    { claimKey, allowClosed: true },
  );
}

/**
 * Turns a failed request of an outbound job into what the job does next, telling the channel:
 * rate limited → an `outbound_failed` line "retrying in N s" (once per follow-up/page and 10
 * minutes) and RetryLater after Retry-After (no attempt spent); refused for good (401/403/404/4xx)
 * → the line with what to fix, then a DomainError (not retried); anything else (5xx, timeout,
 * network) → a plain Error, retried with backoff, and told by the final-failure handler if it never works.
 */
export async function handleOutboundError(
  deps: Deps,
  id: IncidentId,
  err: unknown,
  ctx: { subject: string; where: string; claimBase: string },
): Promise<never> {
  if (!(err instanceof OutboundError)) throw err;
  const line = whatToFix(err, ctx.where);
  if (err.problem === 'rate-limited') {
    const wait = err.retryAfterS ?? 60;
    const bucket = Math.floor(deps.now().getTime() / 600_000);
    await recordFailure(
      deps,
      id,
      { service: err.service, subject: ctx.subject, error: line, retryInS: wait },
      `${ctx.claimBase}-ratelimited-${bucket}`,
    );
    throw new RetryLater(`${err.service} rate limited: ${err.message}`, Math.max(1000, wait * 1000));
  }
  if (!err.retryable) {
    await recordFailure(
      deps,
      id,
      { service: err.service, subject: ctx.subject, error: line },
      `${ctx.claimBase}-refused-${err.status ?? err.problem}`,
    );
    throw new DomainError(REFUSED, `${err.service} refused ${ctx.subject}: ${err.message}`);
  }
  throw new Error(line);
}

/**
 * Final-failure handler of an outbound job: after its last attempt (5xx, timeouts) the channel is
 * told the bot gave up and what is kept; a refusal was told already when it happened.
 */
export async function recordOutboundGaveUp(
  deps: Deps,
  id: IncidentId,
  service: OutboundService,
  subject: string,
  next: string,
  f: { jobId: string; message: string; attemptsMade: number },
): Promise<void> {
  if (f.message.startsWith(`${REFUSED}:`)) return;
  await recordFailure(
    deps,
    id,
    {
      service,
      subject,
      error: `gave up after ${f.attemptsMade} attempt${f.attemptsMade === 1 ? '' : 's'}: ${f.message} ${next}`,
    },
    `gave-up-${f.jobId}`,
  );
}
