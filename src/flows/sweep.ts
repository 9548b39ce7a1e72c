import type { IncidentId } from '../core/incident-model.js';
import { webhookReceivers } from '../outbound/webhook.js';
import { finishClose } from './change-status.js';
import type { Deps } from './deps.js';
import { enqueueWebhooks } from './enqueue-webhooks.js';
import { scheduleEscalation, scheduleNudge } from './reminders.js';
import { applyRetention } from './retention.js';

/** A pending declaration younger than this (ms) is left to the request still writing it. */
const DECLARATION_GRACE_MS = 30_000;

/** What one sweep finished. */
export interface SweepResult {
  /** Declarations whose timeline a crash left unwritten, now written and queued for channel setup. */
  declarations: IncidentId[];
  /** Closed incidents whose close follow-up (indexes, reminders, postmortem job) was still owed. */
  closes: IncidentId[];
  /** Closed incidents whose owed postmortem draft had no job left, queued again. */
  postmortems: IncidentId[];
  /** Open incidents behind on delivery (entries not yet posted): one more delivery job queued, at most one a minute. */
  deliveries: IncidentId[];
  /** Open incidents whose reminders were left behind by the key-layout migration, scheduled again. */
  reminders: IncidentId[];
  /** Closed incidents whose data RETENTION_DAYS removed. */
  removed?: IncidentId[];
}

/**
 * The `sweep` job (a BullMQ job scheduler, every SWEEP_SECONDS): finishes whatever a crash or a
 * Redis error left owed, from the marks the atomic steps wrote: declarations reserved but not
 * written, closes whose follow-up is owed (`close-owed`, or still in the open index), postmortem
 * drafts owed with no job left, incidents without a channel and no setup job, reminders left behind
 * by the key-layout migration, and incidents behind on delivery. Every step it
 * takes is idempotent, so a sweep racing a retry does nothing twice.
 */
export async function sweep(deps: Deps): Promise<SweepResult> {
  const out: SweepResult = { declarations: [], closes: [], postmortems: [], deliveries: [], reminders: [] };
  const now = deps.now().getTime();

  for (const { id, entry } of await deps.store.pendingDeclarations()) {
    if (now - Date.parse(entry.at) < DECLARATION_GRACE_MS) continue;
    await deps.store.completeDeclaration(id, entry);
    await deps.jobs.enqueue('setup-channel', { incidentId: id }, { jobId: `setup-${id}` });
    out.declarations.push(id);
  }

  for (const id of await deps.store.openIncidents()) {
    const inc = await deps.store.current(id);
    if (!inc) continue; // a declaration still being written (above)
    if (inc.status === 'closed') {
      await finishClose(deps, id);
      out.closes.push(id);
      continue;
    }
    if ((await deps.store.meta(id))['reschedule-reminders']) {
      await scheduleNudge(deps, inc);
      await scheduleEscalation(deps, inc);
      await deps.store.deleteMeta(id, 'reschedule-reminders');
      out.reminders.push(id);
    }
    if (!inc.channelId || !inc.summaryTs) {
      // A declaration killed between its record and its enqueue (declare:recorded: a slash command is
      // not retried, a retried alert job finds the group bound) has no setup job; the job id makes
      // this a no-op while one exists. setup-channel delivers once the channel exists.
      await deps.jobs.enqueue('setup-channel', { incidentId: id }, { jobId: `setup-${id}` });
      continue;
    }
    const [len, cursor] = await Promise.all([deps.store.timelineLength(id), deps.store.deliveredCursor(id)]);
    // Behind: a delivery job may be running (it delivers to the end) or may have been lost with a
    // failed enqueue. One more job a minute at most; it waits for a running one's lock, then finds
    // nothing left or posts the rest.
    if (cursor < len) {
      await deps.jobs.enqueue(
        'deliver',
        { incidentId: id },
        { jobId: `deliver-${id}-sweep-${Math.floor(now / 60_000)}` },
      );
      out.deliveries.push(id);
    }
    // Issue 14: an outgoing webhook behind with no job for the last entry (an enqueue lost with a
    // crash) gets that job; the same job id as the append's makes this a no-op while it exists.
    for (const r of webhookReceivers(deps.config.OUTGOING_WEBHOOK_URLS ?? [])) {
      if ((await deps.store.webhookCursor(id, r.id)) < len) await enqueueWebhooks(deps, id, len, r.id);
    }
  }

  for (const id of await deps.store.closingIncidents()) {
    const meta = await deps.store.meta(id);
    if (meta['close-owed']) {
      await finishClose(deps, id);
      out.closes.push(id);
    }
    if (!meta['postmortem-owed']) {
      await deps.store.leaveClosingIndex(id);
      continue;
    }
    // A job that failed for good stays (with its id) for days: its failure is on the timeline; not redone here.
    if (!(await deps.jobs.exists('draft-postmortem', `postmortem-${id}-close`))) {
      await deps.jobs.enqueue(
        'draft-postmortem',
        { incidentId: id, onClose: true },
        { jobId: `postmortem-${id}-close` },
      );
      out.postmortems.push(id);
    }
  }
  // Issue 13: incidents closed before the closed index existed are added to it, once per prefix
  // (the claim is taken first: a sweep killed midway leaves the rest out of reports and retention).
  if (await deps.store.claim('closed-index-backfill-v1', 10 * 365 * 86_400)) {
    for (const id of await deps.store.allIncidents()) {
      const inc = await deps.store.current(id);
      if (inc?.status === 'closed' && inc.closedAt)
        await deps.store.leaveOpenIndex(id, inc.alertGroupId, new Date(inc.closedAt));
    }
  }
  // Issue 13: RETENTION_DAYS removes closed incidents' data (nothing when unset).
  out.removed = await applyRetention(deps);
  const did = Object.values(out).reduce((n, ids) => n + ids.length, 0);
  if (did > 0) deps.log.info(out, 'sweep finished work a crash or an error left owed');
  return out;
}
