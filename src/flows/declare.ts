import type { Actor, EntrySource, IncidentId, Severity } from '../core/incident-model.js';
import type { CorrelationClaim, Deps } from './deps.js';

/** What it takes to declare an incident. */
export interface Declaration {
  title: string;
  severity: Severity;
  summary?: string;
  actor: Actor;
  source: EntrySource;
  /** Idempotency key: the Slack trigger id or view id, so a retried request declares once. */
  claimKey?: string;
  alertGroupId?: string;
  relatedIncidentId?: IncidentId;
  /** An alert's correlation key: join the open incident holding it instead of declaring, or take it. */
  correlation?: CorrelationClaim;
  /** A private incident: private channel, nothing public but "a private incident was declared". */
  private?: boolean;
}

/**
 * Declares an incident: one atomic Redis step creates `INC-<n>` and its declared entry (once per
 * claim key or alert group), then the channel setup is queued for the worker. With `correlation`,
 * the same step binds the alert group to the open incident holding that key instead (`joined`).
 */
export async function declareIncident(
  deps: Deps,
  d: Declaration,
): Promise<{ id: IncidentId; created: boolean; joined?: boolean }> {
  const at = deps.now().toISOString();
  const res = await deps.store.declare(
    {
      kind: 'declared',
      at,
      actor: d.actor,
      source: d.source,
      title: d.title,
      severity: d.severity,
      summary: d.summary,
      alertGroupId: d.alertGroupId,
      relatedIncidentId: d.relatedIncidentId,
      ...(d.private ? { private: true } : {}),
    },
    { claimKey: d.claimKey, alertGroupId: d.alertGroupId, correlation: d.correlation },
  );
  if (res.joined) return res;
  deps.checkpoint('declare:recorded');
  // Enqueued even when not created: a crash between declare and enqueue must not strand the incident.
  await deps.jobs.enqueue('setup-channel', { incidentId: res.id }, { jobId: `setup-${res.id}` });
  return res;
}
