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
