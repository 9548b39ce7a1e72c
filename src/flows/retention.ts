import type { IncidentId } from '../core/incident-model.js';
import type { Deps } from './deps.js';

/**
 * RETENTION_DAYS: removes the data of incidents closed more than that many days ago (timeline,
 * meta, cursors, alert states, index entries), one log line each; nothing when unset. Called by the
 * sweep job. Returns the ids removed.
 */
export async function applyRetention(deps: Deps): Promise<IncidentId[]> {
  const days = deps.config.RETENTION_DAYS;
  if (days === undefined) return [];
  const cutoff = deps.now().getTime() - days * 86_400_000;
  const removed: IncidentId[] = [];
  for (const id of await deps.store.closedIncidents({ toMs: cutoff })) {
    const inc = await deps.store.current(id);
    // Reopened since (not closed now): keep it; it leaves the closed index when it closes again.
    if (inc && inc.status !== 'closed') continue;
    await deps.store.forgetIncident(id, {
      channelId: inc?.channelId,
      alertGroupIds: inc?.alertGroupIds ?? [],
    });
    deps.log.info(
      { incidentId: id, closedAt: inc?.closedAt, retentionDays: days },
      `retention: removed ${id}, closed more than ${days} days ago`,
    );
    removed.push(id);
  }
  return removed;
}
