import { DomainError, RetryLater } from '../core/errors.js';
import { applyEntry, foldTimeline } from '../core/incident.js';
import { outgoingEvent } from '../core/outgoing-event.js';
import type { JobPayload } from '../jobs/queues.js';
import { postWebhook, receiverLabel, webhookReceivers } from '../outbound/webhook.js';
import type { Deps } from './deps.js';

export { enqueueWebhooks } from './enqueue-webhooks.js';

import { type JobFailure, recordJobFailure } from './job-failure.js';

/** Thrown when another worker is sending this receiver's events of the incident: it sends ours too. */
export class WebhookBusy extends RetryLater {
  override name = 'WebhookBusy';
}

/**
 * Job `outgoing-webhook`: sends the incident's events not yet sent to this receiver, in timeline
 * order, one at a time, and moves the receiver's cursor after each 2xx (at least once: a crash
 * between the answer and the cursor sends that event again, with the same `id`). One sender per
 * incident and receiver (a lock); a job that meets it is delayed. The first event the receiver
 * refuses throws, naming its seq (`#<seq>`), and the job is retried with backoff.
 */
export async function sendWebhooks(deps: Deps, p: JobPayload<'outgoing-webhook'>): Promise<{ sent: number }> {
  const receiver = webhookReceivers(deps.config.OUTGOING_WEBHOOK_URLS ?? []).find((r) => r.id === p.receiver);
  // Removed from the settings since the job was queued: nobody to send to.
  if (!receiver) return { sent: 0 };
  const secret = deps.config.OUTGOING_WEBHOOK_SECRET;
  if (!secret)
    throw new DomainError(
      'BAD_INPUT',
      'OUTGOING_WEBHOOK_SECRET is not set; events are never sent unsigned',
      'Set OUTGOING_WEBHOOK_SECRET (at least 16 random characters).',
    );
  const lock = { kind: 'webhook', incidentId: p.incidentId, receiver: p.receiver } as const;
  // Longer than one delivery may wait for its answer, so a slow receiver's event is not sent twice at once.
  const ttl = Math.max(
    2000,
    deps.config.JOB_LOCK_SECONDS * 1000,
    deps.config.OUTGOING_WEBHOOK_TIMEOUT_MS + 5000,
  );
  const token = await deps.store.acquireLock(lock, ttl);
  if (!token)
    throw new WebhookBusy(`${p.incidentId}: webhook ${p.receiver} in progress`, Math.min(ttl, 1000));
  let sent = 0;
  try {
    for (;;) {
      const cursor = await deps.store.webhookCursor(p.incidentId, p.receiver);
      const entries = await deps.store.entries(p.incidentId);
      if (entries.length <= cursor) return { sent };
      // The incident as of each event: the fold, entry by entry.
      const inc = foldTimeline(entries.slice(0, 1));
      for (const e of entries) {
        if (e.seq > 1) applyEntry(inc, e);
        if (e.seq <= cursor) continue;
        const event = outgoingEvent(e, inc);
        if (event) {
          try {
            await postWebhook(
              receiver,
              event,
              JSON.stringify(event),
              secret,
              deps.now().getTime(),
              deps.config.OUTGOING_WEBHOOK_TIMEOUT_MS,
            );
          } catch (err) {
            throw new Error(`#${e.seq} ${event.type}: ${(err as Error).message}`);
          }
          sent++;
        }
        await deps.store.advanceWebhookCursor(p.incidentId, p.receiver, e.seq);
        if (!(await deps.store.renewLock(lock, token, ttl))) return { sent };
      }
    }
  } finally {
    await deps.store.releaseLock(lock, token);
  }
}

/**
 * Final failure of an `outgoing-webhook` job: the receiver refused event `#<seq>` through every try.
 * Records it on the timeline (`job_failed`, once per receiver and event) and moves the receiver's
 * cursor past it, so its later events are still sent, in order (the entry itself queues them).
 */
export async function recordWebhookFailure(
  deps: Deps,
  p: JobPayload<'outgoing-webhook'>,
  f: JobFailure,
): Promise<unknown> {
  const receiver = webhookReceivers(deps.config.OUTGOING_WEBHOOK_URLS ?? []).find((r) => r.id === p.receiver);
  const seq = Number(/^#(\d+) /.exec(f.message)?.[1] ?? 0);
  const label = receiver ? receiverLabel(receiver.url) : `receiver ${p.receiver}`;
  if (seq > 0) await deps.store.advanceWebhookCursor(p.incidentId, p.receiver, seq);
  return recordJobFailure(
    deps,
    'outgoing-webhook',
    p.incidentId,
    // One entry per receiver and event, however many of its jobs gave up on it.
    { ...f, jobId: `webhook-${p.receiver}-${p.incidentId}-event-${seq}` },
    `event #${seq} to ${label}`,
  );
}
