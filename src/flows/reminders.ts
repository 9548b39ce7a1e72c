import { parseSeverityMinutes } from '../config.js';
import type { Incident } from '../core/incident.js';
import type { IncidentId } from '../core/incident-model.js';
import { escapeText, mention } from '../slack/escape.js';
import type { Deps } from './deps.js';
import { requestPage } from './page.js';
import { mutate } from './record.js';
import { announce } from './refusals.js';

const MINUTE = 60_000;

function cadence(deps: Deps, inc: Incident): number {
  return parseSeverityMinutes('REMINDER_MINUTES', deps.config.REMINDER_MINUTES)[inc.severity] * MINUTE;
}
function escalationDelay(deps: Deps, inc: Incident): number {
  return parseSeverityMinutes('ESCALATION_MINUTES', deps.config.ESCALATION_MINUTES)[inc.severity] * MINUTE;
}
/** Minutes as people read them: whole minutes, or up to two decimals below one (tests use 0.025). */
function minutesText(ms: number): string {
  const m = ms / MINUTE;
  return m >= 1 ? String(Math.round(m)) : String(Number(m.toFixed(2)));
}
/** Job id of the status nudge scheduled from one status update (BullMQ ids: no `:`). */
function nudgeJobId(id: IncidentId, basis: string): string {
  return `nudge-${id}-${Date.parse(basis)}`;
}

/**
 * Claim key of a nudge: which cadence period after its start it falls in. The start is the status
 * update, or a later severity change (which restarts the count at the new cadence, so its periods
 * do not collide with the old cadence's).
 */
function nudgeClaim(inc: Incident, basis: string, at: string, every: number): string {
  const changed = inc.severityChangedAt && Date.parse(inc.severityChangedAt) > Date.parse(basis);
  const start = changed ? inc.severityChangedAt! : basis;
  const period = Math.floor((Date.parse(at) - Date.parse(start)) / Math.max(1, every));
  return `nudge-${inc.id}-${basis}${changed ? `-${start}` : ''}-${period}`;
}

/**
 * Schedules the next status-update nudge as a delayed BullMQ job, counted from the last status
 * update. Delayed jobs live in Redis, so they survive restarts; the deterministic id means a
 * second call for the same status update adds nothing.
 */
export async function scheduleNudge(deps: Deps, inc: Incident, from = inc.lastStatusUpdateAt): Promise<void> {
  const every = cadence(deps, inc);
  if (every <= 0 || settled(inc)) return;
  // Already counting from this status update (a retried setup-channel, a stale nudge): re-adding the
  // first job would replace the running chain's next nudge and, once that first job is gone, send twice.
  const meta = await deps.store.meta(inc.id);
  if (meta['nudge-basis'] === from) return;
  const generation = meta['nudge-sev'];
  const due = Date.parse(from) + every;
  const delay = Math.max(0, due - deps.now().getTime());
  await enqueueNudge(deps, inc.id, from, nudgeJobId(inc.id, from), delay, generation ?? '');
}

async function enqueueNudge(
  deps: Deps,
  id: IncidentId,
  basis: string,
  jobId: string,
  delay: number,
  generation: string,
): Promise<void> {
  await deps.jobs.enqueue(
    'reminder',
    { incidentId: id, kind: 'status-update', basis, ...(generation ? { severityAt: generation } : {}) },
    { jobId, delay },
  );
  // Compare-and-set: the nudge generation (`nudge-sev`) must still be the one this was scheduled for.
  const previous = await deps.store.setNudgeIfGeneration(id, generation, jobId, basis);
  // A severity change rescheduled the nudges meanwhile: its job is the one that counts.
  if (previous === null) await deps.jobs.remove('reminder', jobId);
  else if (previous && previous !== jobId) await deps.jobs.remove('reminder', previous);
}

/** True once the incident is resolved or closed: no status nudges or escalation are due then. */
function settled(inc: Incident): boolean {
  return inc.status === 'resolved' || inc.status === 'closed';
}

/** Schedules the one escalation check for an incident nobody has taken command of. */
export async function scheduleEscalation(deps: Deps, inc: Incident): Promise<void> {
  const wait = escalationDelay(deps, inc);
  if (wait <= 0 || inc.commander || settled(inc)) return;
  // A severity change already rescheduled it (a setup-channel running after an alert raised it).
  if ((await deps.store.meta(inc.id))['escalate-job']) return;
  const delay = Math.max(0, Date.parse(inc.declaredAt) + wait - deps.now().getTime());
  await deps.jobs.enqueue(
    'reminder',
    { incidentId: inc.id, kind: 'escalation', basis: inc.declaredAt },
    { jobId: `escalate-${inc.id}`, delay },
  );
}

/** Removes the pending nudge and escalation of an incident (on close); the processor also ignores stale ones. */
export async function cancelReminders(deps: Deps, inc: Incident): Promise<void> {
  const meta = await deps.store.meta(inc.id);
  const pending = meta['nudge-job'];
  const escalation = meta['escalate-job'];
  if (pending) await deps.jobs.remove('reminder', pending);
  await deps.jobs.remove('reminder', `escalate-${inc.id}`);
  if (escalation) await deps.jobs.remove('reminder', escalation);
}

/**
 * After a severity change, replaces the pending nudge and escalation with the new severity's:
 * the next nudge one new cadence after the change (or after the last status update, if that is
 * later), the escalation one new escalation delay after the change (while nobody has taken
 * command); none when the new severity has none. Computed from the folded incident (its latest
 * `severityChangedAt`), so a retried job or a duplicated change reschedules nothing twice: the
 * change already applied is remembered in the incident's meta (`sev-schedule`). Nothing is
 * scheduled for a resolved or closed incident.
 */
export async function rescheduleForSeverity(deps: Deps, inc: Incident): Promise<void> {
  const changedAt = inc.severityChangedAt;
  if (!changedAt || inc.status === 'closed' || inc.status === 'resolved') return;
  const { store } = deps;
  if ((await store.meta(inc.id))['sev-schedule'] === changedAt) return;
  const changedMs = Date.parse(changedAt);
  const now = deps.now().getTime();

  // Status nudge. A new generation first, so a nudge running now does not chain its next one at the
  // old cadence after this; the payload keeps the last status update as its basis (a newer one still
  // makes it obsolete), only the due time moves.
  await store.setMeta(inc.id, { 'nudge-sev': changedAt });
  const every = cadence(deps, inc);
  if (every > 0) {
    const basis = inc.lastStatusUpdateAt;
    const from = Math.max(Date.parse(basis), changedMs);
    const delay = Math.max(0, from + every - now);
    await enqueueNudge(
      deps,
      inc.id,
      basis,
      `${nudgeJobId(inc.id, basis)}-sev-${changedMs}`,
      delay,
      changedAt,
    );
  } else {
    const pending = (await store.meta(inc.id))['nudge-job'];
    await store.deleteMeta(inc.id, 'nudge-job', 'nudge-basis');
    if (pending) await deps.jobs.remove('reminder', pending);
  }

  // Escalation: fires once per incident (its claim key), so one that already fired is not redone.
  const meta = await store.meta(inc.id);
  const previous = meta['escalate-job'];
  const wait = escalationDelay(deps, inc);
  const jobId = `escalate-${inc.id}-sev-${changedMs}`;
  const escalated = meta['escalation-announced'];
  if (wait > 0 && !inc.commander && !escalated) {
    await deps.jobs.enqueue(
      'reminder',
      { incidentId: inc.id, kind: 'escalation', basis: changedAt },
      { jobId, delay: Math.max(0, changedMs + wait - now) },
    );
  }
  // From here on only an escalation counted from this change is current (the processor checks).
  await store.setMeta(inc.id, {
    'escalate-job': jobId,
    'escalate-basis': changedAt,
    'sev-schedule': changedAt,
  });
  await deps.jobs.remove('reminder', `escalate-${inc.id}`);
  if (previous && previous !== jobId) await deps.jobs.remove('reminder', previous);
}

/**
 * Processes a reminder job. A nudge whose basis is older than the last status update, or for a
 * resolved or closed incident, does nothing (a status update reset it); otherwise it records the nudge and
 * schedules the next. An escalation fires once, only while nobody is incident commander.
 */
export async function processReminder(
  deps: Deps,
  p: { incidentId: IncidentId; kind: 'status-update' | 'escalation'; basis: string; severityAt?: string },
): Promise<'sent' | 'skipped'> {
  const loaded = await deps.store.load(p.incidentId);
  // Resolved: the service is back, so no more status cadence or escalation; a reopen (a status change
  // back to investigating/identified/monitoring) schedules them again.
  if (!loaded || settled(loaded.incident)) return 'skipped';
  const inc = loaded.incident;
  const at = deps.now().toISOString();
  if (p.kind === 'status-update') {
    // The severity was lowered to one without nudges while this one was pending or running.
    if (cadence(deps, inc) <= 0) return 'skipped';
    // Scheduled before a severity change that rescheduled the nudges (it was running then).
    const generation = (await deps.store.meta(inc.id))['nudge-sev'];
    if ((generation ?? '') !== (p.severityAt ?? '')) return 'skipped';
    if (inc.lastStatusUpdateAt !== p.basis) {
      // A newer update reset the cadence. Status changes schedule their own nudge, but a note (which
      // also counts as an update) does not: count from it here, or the nudges would stop for good.
      await scheduleNudge(deps, inc);
      return 'skipped';
    }
    const minutes = minutesText(cadence(deps, inc));
    const who = inc.commander ? `<@${inc.commander}>` : 'Incident commander';
    const rec = await mutate(
      deps,
      inc.id,
      () => [
        {
          kind: 'reminder_sent',
          incidentId: inc.id,
          at,
          actor: { type: 'bot' },
          source: 'bot',
          text: `${who}: no status update for ${minutes} min (${inc.severity} cadence). Post one with \`/incident update …\` (also tells the announce channel), \`/incident status …\` or \`/incident note …\`.`,
        },
      ],
      {
        claimKey: nudgeClaim(inc, p.basis, at, cadence(deps, inc)),
      },
    );
    // Next nudge one cadence after this one, still counted from the same status update.
    await enqueueNudge(
      deps,
      inc.id,
      p.basis,
      `${nudgeJobId(inc.id, p.basis)}-${rec.incident.entryCount}`,
      cadence(deps, inc),
      p.severityAt ?? '',
    );
    return rec.duplicate ? 'skipped' : 'sent';
  }
  if (inc.commander || escalationDelay(deps, inc) <= 0) return 'skipped';
  // Scheduled before a severity change that rescheduled the escalation (it was running then).
  const current = (await deps.store.meta(inc.id))['escalate-basis'];
  if (current && current !== p.basis) return 'skipped';
  const users = deps.config.INCIDENT_ESCALATION_USERS;
  const minutes = minutesText(escalationDelay(deps, inc));
  const rec = await mutate(
    deps,
    inc.id,
    () => [
      {
        kind: 'escalated',
        incidentId: inc.id,
        at,
        actor: { type: 'bot' },
        source: 'bot',
        userIds: users,
        reason: `nobody has taken command of this ${inc.severity} incident after ${minutes} min; take it with \`/incident lead @you\``,
      },
    ],
    { claimKey: `escalate-${inc.id}` },
  );
  // Keyed on its own flag, not on `rec.duplicate`: a job retried after the entry was recorded but
  // before this post (Slack error, crash) must still post it. A refusing announce channel is
  // recorded once and the escalation stands in the incident channel. A private incident escalates
  // in its own channel only: the announce channel is public.
  if (
    deps.config.INCIDENT_ANNOUNCE_CHANNEL &&
    !inc.private &&
    !(await deps.store.meta(inc.id))['escalation-announced']
  ) {
    const mentions = users.map(mention).join(' ');
    await announce(deps, inc.id, {
      text: `:rotating_light: ${mentions} ${inc.id} (${inc.severity}) “${escapeText(inc.title)}” has no incident commander after ${minutes} min${inc.channelId ? ` — <#${inc.channelId}>` : ''}.`,
    });
    await deps.store.setMeta(inc.id, { 'escalation-announced': at });
  }
  // Issue 14: with ESCALATION_PAGE_SERVICE, escalation also pages (once: requestPage skips a live page).
  const pageService = deps.config.ESCALATION_PAGE_SERVICE;
  if (pageService) {
    await requestPage(deps, inc.id, pageService, {
      reason: `escalation: no incident commander after ${minutes} min`,
    });
  }
  return rec.duplicate ? 'skipped' : 'sent';
}
