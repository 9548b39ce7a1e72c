import type { Incident } from '../core/incident.js';
import type { IncidentId } from '../core/incident-model.js';
import { type Deps, slackOf } from './deps.js';

/** The archive job of an incident: one per incident, so scheduling it again is a no-op. */
export const archiveJobId = (id: IncidentId) => `archive-${id}`;

/**
 * Schedules the channel's archive ARCHIVE_AFTER_DAYS after the close (a BullMQ delayed job, so it
 * survives restarts); nothing when the setting is 0 or the incident is not closed. Idempotent.
 */
export async function scheduleArchive(deps: Deps, inc: Incident): Promise<void> {
  const days = deps.config.ARCHIVE_AFTER_DAYS;
  if (days <= 0 || inc.status !== 'closed' || !inc.closedAt) return;
  const due = Date.parse(inc.closedAt) + days * 86_400_000;
  await deps.jobs.enqueue(
    'archive-channel',
    { incidentId: inc.id },
    { jobId: archiveJobId(inc.id), delay: Math.max(0, due - deps.now().getTime()) },
  );
}

/** Cancels a pending archive (an incident that is open again must keep its channel). */
export async function cancelArchive(deps: Deps, id: IncidentId): Promise<void> {
  await deps.jobs.remove('archive-channel', archiveJobId(id));
}

/**
 * The `archive-channel` job: archives the incident's channel and records when (meta `archived`).
 * Skips an incident that is open again (reopened), has no channel, or was archived already; a
 * channel someone archived by hand counts as archived.
 */
export async function archiveIncidentChannel(
  deps: Deps,
  id: IncidentId,
): Promise<'archived' | 'already-archived' | 'not-closed' | 'no-channel' | 'gone'> {
  const inc = await deps.store.current(id);
  if (!inc) return 'gone';
  if (inc.status !== 'closed') return 'not-closed';
  if (!inc.channelId) return 'no-channel';
  if ((await deps.store.meta(id)).archived) return 'already-archived';
  const res = await slackOf(deps).archiveChannel(inc.channelId);
  await deps.store.setMeta(id, { archived: deps.now().toISOString() });
  deps.log.info({ incidentId: id, channelId: inc.channelId, res }, 'incident channel archived');
  return res === 'archived' ? 'archived' : 'already-archived';
}
