import { firingCorrelationKeys } from '../core/correlation.js';
import { DomainError } from '../core/errors.js';
import type { IncidentId } from '../core/incident-model.js';
import { closeIncident, type Origin } from './change-status.js';
import type { Deps } from './deps.js';
import { mutate, type Recorded } from './record.js';

/** How long moved alert states are kept (s), as ingest-alert keeps them. */
const STATES_TTL_S = 30 * 24 * 3600;

/**
 * Closes a false alarm without a postmortem: a `closed` entry with `as: 'declined'` (shown and
 * reported as `declined`). Refused (INVALID_TRANSITION) once a hypothesis is confirmed as the cause.
 */
export function declineIncident(
  deps: Deps,
  id: IncidentId,
  reason: string | undefined,
  o: Origin,
): Promise<Recorded> {
  return closeIncident(deps, id, reason, o, {
    as: 'declined',
    check: (inc) => {
      const cause = inc.hypotheses.find((h) => h.state === 'confirmed');
      if (cause)
        throw new DomainError(
          'INVALID_TRANSITION',
          `${id} has a confirmed cause (${cause.id}: ${cause.text.slice(0, 100)}), so it is not a false alarm`,
          'Close it with `/incident close [resolution]` to get its postmortem.',
        );
    },
  });
}

/** What a merge did. */
export interface Merged {
  survivor: IncidentId;
  merged: IncidentId;
  alertGroupIds: string[];
  /** True when the merge had already been done (a retried command). */
  already: boolean;
}

/**
 * `/incident merge`: merges `otherId` into `survivorId`. Records `incident_merged` on the survivor
 * (once per pair, with the other's alerts as they stood), moves the other's alert groups (bindings and recorded alert states) and the
 * correlation keys it held here, and closes the other as merged into the survivor (no postmortem
 * of its own; its channel is told where to go). Refuses the same incident, an unknown one, and a
 * closed one (BAD_INPUT, INCIDENT_NOT_FOUND, INCIDENT_CLOSED), saying why. Safe to retry.
 */
export async function mergeIncident(
  deps: Deps,
  survivorId: IncidentId,
  otherId: IncidentId,
  o: Origin,
): Promise<Merged> {
  if (survivorId === otherId)
    throw new DomainError(
      'BAD_INPUT',
      `${survivorId} cannot be merged into itself`,
      'Name the other incident, e.g. `/incident merge INC-7`.',
    );
  const other = await deps.store.current(otherId);
  if (!other)
    throw new DomainError(
      'INCIDENT_NOT_FOUND',
      `${otherId} does not exist`,
      'Check the id with `/incident list`.',
    );
  if (other.status === 'closed') {
    if (other.closedAs === 'merged' && other.mergedInto === survivorId)
      return { survivor: survivorId, merged: otherId, alertGroupIds: other.alertGroupIds, already: true };
    throw new DomainError(
      'INCIDENT_CLOSED',
      `${otherId} is already ${other.closedAs ?? 'closed'}, so it cannot be merged`,
      'Only open incidents can be merged; see `/incident list`.',
    );
  }
  const survivor = await deps.store.current(survivorId);
  const groups = [...other.alertGroupIds];
  await mutate(
    deps,
    survivorId,
    () => [
      {
        kind: 'incident_merged',
        incidentId: survivorId,
        at: deps.now().toISOString(),
        actor: o.actor,
        source: o.source,
        mergedId: otherId,
        alertGroupIds: groups,
        alerts: other.alerts.filter((a) => groups.includes(a.alertGroupId)),
        ...(other.channelId ? { mergedChannelId: other.channelId } : {}),
      },
    ],
    { claimKey: `merge-${otherId}` },
  );
  for (const g of groups) {
    // States first: once the group points here, its next firing is compared with what it had.
    const states = await deps.store.alertStates(otherId, g);
    if (Object.keys(states).length > 0) await deps.store.saveAlertStates(survivorId, g, states, STATES_TTL_S);
    await deps.store.moveAlertGroup(g, otherId, survivorId);
  }
  await closeIncident(
    deps,
    otherId,
    `merged into ${survivorId}`,
    { ...o, claimKey: `merged-into-${survivorId}` },
    {
      as: 'merged',
      mergedInto: survivorId,
      mergedIntoChannelId: survivor?.channelId,
    },
  );
  // The other's close freed its correlation keys: alerts of those services now join the survivor.
  const windowMs = deps.config.ALERT_CORRELATE_WINDOW_MINUTES * 60_000;
  const keys = firingCorrelationKeys(
    other.alerts.map((a) => ({ ...a, kind: 'alert_fired' as const, annotations: {} })),
    deps.config.ALERT_CORRELATE_BY,
  );
  for (const k of keys) await deps.store.claimCorrelation(k, survivorId, windowMs);
  deps.log.info({ survivor: survivorId, merged: otherId, groups }, 'incident merged');
  return { survivor: survivorId, merged: otherId, alertGroupIds: groups, already: false };
}
