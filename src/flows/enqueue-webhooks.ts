import type { IncidentId } from '../core/incident-model.js';
import { webhookReceivers } from '../outbound/webhook.js';
import type { Deps } from './deps.js';

/**
 * Queues one `outgoing-webhook` job per receiver for a new timeline entry (`seq`): one job chain per
 * receiver, so a receiver that is down holds up no other. Tries and backoff: OUTGOING_WEBHOOK_ATTEMPTS,
 * exponential from OUTGOING_WEBHOOK_BACKOFF_MS (`only`: just that receiver). No-op without OUTGOING_WEBHOOK_URLS.
 */
export async function enqueueWebhooks(deps: Deps, id: IncidentId, seq: number, only?: string): Promise<void> {
  const c = deps.config;
  const receivers = webhookReceivers(c.OUTGOING_WEBHOOK_URLS ?? []).filter((r) => !only || r.id === only);
  // In parallel: the web process does this before it answers Slack.
  await Promise.all(
    receivers.map((r) =>
      deps.jobs.enqueue(
        'outgoing-webhook',
        { incidentId: id, receiver: r.id },
        {
          jobId: `webhook-${r.id}-${id}-${seq}`,
          attempts: c.OUTGOING_WEBHOOK_ATTEMPTS,
          backoff: { type: 'exponential', delay: c.OUTGOING_WEBHOOK_BACKOFF_MS },
        },
      ),
    ),
  );
}
