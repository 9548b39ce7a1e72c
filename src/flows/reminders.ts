import { parseSeverityMinutes } from '../config.js';
import type { Incident } from '../core/incident.js';
import type { IncidentId } from '../core/incident-model.js';
import { escapeText, mention } from '../slack/escape.js';
import { type Deps, slackOf } from './deps.js';
import { mutate } from './record.js';

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
 * Schedules the next status-update nudge as a delayed BullMQ job, counted from the last status
 * update. Delayed jobs live in Redis, so they survive restarts; the deterministic id means a
 * second call for the same status update adds nothing.
 */
export async function scheduleNudge(deps: Deps, inc: Incident, from = inc.lastStatusUpdateAt): Promise<void> {
  const every = cadence(deps, inc);
  if (every <= 0 || inc.status === 'closed') return;
  // Already counting from this status update (a retried setup-channel, a stale nudge): re-adding the
  // first job would replace the running chain's next nudge and, once that first job is gone, send twice.
  if ((await deps.store.redis.hget(deps.store.k.slackMeta(inc.id), 'nudge-basis')) === from) return;
  const due = Date.parse(from) + every;
  const delay = Math.max(0, due - deps.now().getTime());
  await enqueueNudge(deps, inc.id, from, nudgeJobId(inc.id, from), delay);
}

async function enqueueNudge(
  deps: Deps,
  id: IncidentId,
  basis: string,
  jobId: string,
  delay: number,
): Promise<void> {
  const { redis, k } = deps.store;
  const previous = await redis.hget(k.slackMeta(id), 'nudge-job');
  await deps.jobs.enqueue('reminder', { incidentId: id, kind: 'status-update', basis }, { jobId, delay });
  await redis.hset(k.slackMeta(id), 'nudge-job', jobId, 'nudge-basis', basis);
  if (previous && previous !== jobId) await deps.jobs.remove('reminder', previous);
}

/** Schedules the one escalation check for an incident nobody has taken command of. */
export async function scheduleEscalation(deps: Deps, inc: Incident): Promise<void> {
  const wait = escalationDelay(deps, inc);
  if (wait <= 0 || inc.commander || inc.status === 'closed') return;
  const delay = Math.max(0, Date.parse(inc.declaredAt) + wait - deps.now().getTime());
  await deps.jobs.enqueue(
    'reminder',
    { incidentId: inc.id, kind: 'escalation', basis: inc.declaredAt },
    { jobId: `escalate-${inc.id}`, delay },
  );
}

/** Removes the pending nudge and escalation of an incident (on close); the processor also ignores stale ones. */
export async function cancelReminders(deps: Deps, inc: Incident): Promise<void> {
  const pending = await deps.store.redis.hget(deps.store.k.slackMeta(inc.id), 'nudge-job');
  if (pending) await deps.jobs.remove('reminder', pending);
  await deps.jobs.remove('reminder', `escalate-${inc.id}`);
}

/**
 * Processes a reminder job. A nudge whose basis is older than the last status update, or for a
 * closed incident, does nothing (a status update reset it); otherwise it records the nudge and
 * schedules the next. An escalation fires once, only while nobody is incident commander.
 */
export async function processReminder(
  deps: Deps,
  p: { incidentId: IncidentId; kind: 'status-update' | 'escalation'; basis: string },
): Promise<'sent' | 'skipped'> {
  const loaded = await deps.store.load(p.incidentId);
  if (!loaded || loaded.incident.status === 'closed') return 'skipped';
  const inc = loaded.incident;
  const at = deps.now().toISOString();
  if (p.kind === 'status-update') {
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
          text: `${who}: no status update for ${minutes} min (${inc.severity} cadence). Post one with \`/incident status …\` or \`/incident note …\`.`,
        },
      ],
      {
        claimKey: `nudge-${inc.id}-${p.basis}-${Math.floor((Date.parse(at) - Date.parse(p.basis)) / Math.max(1, cadence(deps, inc)))}`,
      },
    );
    // Next nudge one cadence after this one, still counted from the same status update.
    await enqueueNudge(
      deps,
      inc.id,
      p.basis,
      `${nudgeJobId(inc.id, p.basis)}-${rec.incident.entryCount}`,
      cadence(deps, inc),
    );
    return rec.duplicate ? 'skipped' : 'sent';
  }
  if (inc.commander) return 'skipped';
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
  const announce = deps.config.INCIDENT_ANNOUNCE_CHANNEL;
  // Keyed on its own flag, not on `rec.duplicate`: a job retried after the entry was recorded but
  // before this post (Slack error, crash) must still post it.
  const meta = deps.store.k.slackMeta(inc.id);
  if (announce && !(await deps.store.redis.hget(meta, 'escalation-announced'))) {
    const mentions = users.map(mention).join(' ');
    await slackOf(deps).post(announce, {
      text: `:rotating_light: ${mentions} ${inc.id} (${inc.severity}) “${escapeText(inc.title)}” has no incident commander after ${minutes} min${inc.channelId ? ` — <#${inc.channelId}>` : ''}.`,
    });
    await deps.store.redis.hset(meta, 'escalation-announced', at);
  }
  return rec.duplicate ? 'skipped' : 'sent';
}
