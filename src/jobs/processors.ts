import { UnrecoverableError } from 'bullmq';
import { DomainError } from '../core/errors.js';
import { DeliveryBusy, deliver } from '../flows/deliver.js';
import type { Deps } from '../flows/deps.js';
import { draftPostmortem } from '../flows/draft-postmortem.js';
import { processReminder } from '../flows/reminders.js';
import { setupChannel } from '../flows/setup-channel.js';
import { recordMessage } from '../slack/app.js';
import { type JobName, type JobPayload, JobPayloads } from './queues.js';

type Processor<N extends JobName> = (deps: Deps, payload: JobPayload<N>) => Promise<unknown>;
const processors: { [N in JobName]?: Processor<N> } = {};

/** Registers the processor of a job name (one per name; modules for alerts, diagnostics and postmortems add theirs). */
export function registerProcessor<N extends JobName>(name: N, fn: Processor<N>): void {
  (processors as Record<string, unknown>)[name] = fn;
}

registerProcessor('setup-channel', (deps, p) => setupChannel(deps, p.incidentId));
registerProcessor('deliver', (deps, p) => deliver(deps, p.incidentId));
registerProcessor('record-message', async (deps, p) => {
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
});

/** How a job failed for good: its last error and the attempts made (all of them, or fewer when not retryable). */
export interface FinalFailure {
  message: string;
  attemptsMade: number;
  /** False when BullMQ gave up early: an UnrecoverableError (invalid payload, a DomainError) or a job that kept stalling. */
  retryable: boolean;
}

type FailureHandler<N extends JobName> = (
  deps: Deps,
  payload: JobPayload<N>,
  failure: FinalFailure,
) => Promise<unknown>;
const failureHandlers: { [N in JobName]?: FailureHandler<N> } = {};

/** Registers what happens once a job of this name has failed for good (e.g. showing the failure to people). */
export function onFinalFailure<N extends JobName>(name: N, fn: FailureHandler<N>): void {
  (failureHandlers as Record<string, unknown>)[name] = fn;
}

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
 * Runs the final-failure handler of a job name, if any, with the validated payload (an invalid one has no
 * handler to run). Never rejects: a handler that fails (Redis down, Slack down) is logged and given up.
 */
export async function handleFinalFailure(
  deps: Deps,
  name: string,
  data: unknown,
  failure: FinalFailure,
): Promise<void> {
  const fn = failureHandlers[name as JobName] as FailureHandler<JobName> | undefined;
  const parsed = JobPayloads[name as JobName]?.safeParse(data);
  if (!fn || !parsed?.success) return;
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
  const schema = JobPayloads[name as JobName];
  const fn = processors[name as JobName] as Processor<JobName> | undefined;
  if (!schema || !fn) throw new UnrecoverableError(`no processor for job ${name}`);
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${name} payload: ${parsed.error.message}`);
  try {
    return await fn(deps, parsed.data as never);
  } catch (err) {
    if (err instanceof DomainError) throw new UnrecoverableError(`${err.code}: ${err.message}`);
    if (err instanceof DeliveryBusy) throw err;
    throw err;
  }
}

registerProcessor('reminder', (deps, p) => processReminder(deps, p));
registerProcessor('draft-postmortem', (deps, p) => draftPostmortem(deps, p.incidentId, p.requestedBy));
