import { firingCorrelationKeys } from '../core/correlation.js';
import { DomainError, RecordedButIncomplete } from '../core/errors.js';
import type { Incident } from '../core/incident.js';
import {
  type Actor,
  type EntrySource,
  type IncidentId,
  isMoreSevere,
  type Role,
  type Severity,
  type Status,
} from '../core/incident-model.js';
import { assertMayChange, type GuardedChange } from '../core/permissions.js';
import { canTransition, nextStatuses } from '../core/status.js';
import { scheduleArchive } from './archive.js';
import type { Deps } from './deps.js';
import { resolvePages } from './page.js';
import { isAdminFor, policyOf } from './permissions.js';
import { mutate, type Recorded } from './record.js';
import { cancelReminders, rescheduleForSeverity, scheduleNudge } from './reminders.js';

/** Who asked, how, and the idempotency key of the request. */
export interface Origin {
  actor: Actor;
  source: EntrySource;
  claimKey?: string;
}

/** Moves the incident to `to`; throws INVALID_TRANSITION (with the allowed statuses) or NO_CHANGE. */
export async function changeStatus(deps: Deps, id: IncidentId, to: Status, o: Origin): Promise<Recorded> {
  const rec = await mutate(
    deps,
    id,
    (inc) => {
      if (inc.status === to) throw new DomainError('NO_CHANGE', `${id} is already ${to}`);
      if (!canTransition(inc.status, to)) {
        throw new DomainError(
          'INVALID_TRANSITION',
          `${id} cannot go from ${inc.status} to ${to}`,
          `Allowed from ${inc.status}: ${nextStatuses(inc.status).join(', ') || 'nothing (it is final)'}.`,
        );
      }
      return [
        {
          kind: 'status_changed',
          incidentId: id,
          at: deps.now().toISOString(),
          ...pick(o),
          from: inc.status,
          to,
        },
      ];
    },
    { claimKey: o.claimKey },
  );
  if (!rec.duplicate) await scheduleNudge(deps, rec.incident);
  // Issue 14: resolving the incident resolves its PagerDuty pages (also on a retried request).
  if (to === 'resolved') await resolvePages(deps, rec.incident);
  return rec;
}

/** The `severity_changed` entry from `from` to `to`, by `o`'s actor, now. */
function severityChanged(deps: Deps, id: IncidentId, from: Severity, to: Severity, o: Origin) {
  return {
    kind: 'severity_changed' as const,
    incidentId: id,
    at: deps.now().toISOString(),
    ...pick(o),
    from,
    to,
  };
}

/** Changes the severity and reschedules reminders and escalation for it; throws NO_CHANGE when it already is `to`. */
export async function changeSeverity(deps: Deps, id: IncidentId, to: Severity, o: Origin): Promise<Recorded> {
  const allowed = await permission(deps, id, o, { kind: 'severity', to });
  const rec = await mutate(
    deps,
    id,
    (inc) => {
      if (inc.severity === to) throw new DomainError('NO_CHANGE', `${id} is already ${to}`);
      allowed(inc);
      return [severityChanged(deps, id, inc.severity, to, o)];
    },
    { claimKey: o.claimKey },
  );
  // Also on a duplicate: a retry after a crash between the entry and the reschedule still does it.
  await rescheduleForSeverity(deps, rec.incident);
  return rec;
}

/**
 * Raises the severity to `to`, recording `reason` (an alert asked): the same entry and delivery as
 * `/incident sev`, but it never lowers: when the incident already is `to` or more severe (whoever
 * set it) nothing is recorded (`seqs` empty). Throws INCIDENT_CLOSED / INCIDENT_NOT_FOUND like any
 * change; with `claimKey` it happens at most once.
 */
export async function raiseSeverity(
  deps: Deps,
  id: IncidentId,
  to: Severity,
  reason: string,
  o: Origin,
): Promise<Recorded> {
  const rec = await mutate(
    deps,
    id,
    (inc) => {
      if (!isMoreSevere(to, inc.severity)) return [];
      return [{ ...severityChanged(deps, id, inc.severity, to, o), reason }];
    },
    { claimKey: o.claimKey },
  );
  // Not when it was already as severe: there is no change to count from.
  if (rec.seqs.length > 0 || rec.duplicate) await rescheduleForSeverity(deps, rec.incident);
  return rec;
}

/** Assigns the incident commander or communications lead; throws NO_CHANGE when that person already holds it. */
export async function assignRole(
  deps: Deps,
  id: IncidentId,
  role: Role,
  userId: string,
  o: Origin,
): Promise<Recorded> {
  const allowed = await permission(deps, id, o, { kind: 'role', role, userId });
  return mutate(
    deps,
    id,
    (inc) => {
      if (inc[role] === userId)
        throw new DomainError('NO_CHANGE', `<@${userId}> already is the ${roleName(role)} of ${id}`);
      allowed(inc);
      return [
        { kind: 'role_assigned', incidentId: id, at: deps.now().toISOString(), ...pick(o), role, userId },
      ];
    },
    { claimKey: o.claimKey },
  );
}

/**
 * Closes the incident (any open status → closed, final), releases its alert group, stops its
 * reminders and queues the postmortem draft.
 */
export async function closeIncident(
  deps: Deps,
  id: IncidentId,
  resolution: string | undefined,
  o: Origin,
  how?: CloseAs,
): Promise<Recorded> {
  let rec: Recorded;
  const allowed = await permission(deps, id, o, { kind: 'close' });
  try {
    rec = await mutate(
      deps,
      id,
      (inc) => {
        if (!canTransition(inc.status, 'closed')) {
          throw new DomainError('INVALID_TRANSITION', `${id} cannot go from ${inc.status} to closed`);
        }
        allowed(inc);
        how?.check?.(inc);
        const extra = how
          ? {
              as: how.as,
              ...(how.mergedInto ? { mergedInto: how.mergedInto } : {}),
              ...(how.mergedIntoChannelId ? { mergedIntoChannelId: how.mergedIntoChannelId } : {}),
            }
          : {};
        return [
          { kind: 'closed', incidentId: id, at: deps.now().toISOString(), ...pick(o), resolution, ...extra },
        ];
      },
      // Declined and merged incidents get no postmortem of their own: none is owed.
      { claimKey: o.claimKey, transition: 'close', postmortem: how ? false : undefined },
    );
  } catch (err) {
    // The close is recorded (and its follow-up owed) even when queueing its post failed: finish what we can.
    if (err instanceof RecordedButIncomplete) await finishClose(deps, id).catch(() => {});
    // Closed before (a close cut short, retried by hand): finish what that close still owes.
    // Its own failure does not change the answer (it is closed); the sweeper finishes the rest.
    if (err instanceof DomainError && err.code === 'INCIDENT_CLOSED')
      await finishClose(deps, id).catch(() => {});
    throw err;
  }
  if (!rec.duplicate) deps.checkpoint('close:recorded');
  // Also on a duplicate: a retried close after a crash finishes the follow-up the first one owed.
  try {
    await finishClose(deps, id);
  } catch (err) {
    throw new RecordedButIncomplete(id, rec.seqs, err);
  }
  return rec;
}

/** A close that is not a fixed problem: declined (a false alarm) or merged into another incident; `check` may refuse it. */
export interface CloseAs {
  as: 'declined' | 'merged';
  mergedInto?: IncidentId;
  mergedIntoChannelId?: string;
  check?: (inc: Incident) => void;
}

/**
 * The close's follow-up, driven by the `close-owed` mark its atomic step left (src/redis/store.ts
 * `close`): stops reminders, queues the close's postmortem draft (once: `postmortem-owed`), takes
 * the incident out of the open index and releases its alert group, then clears the mark. Every
 * step is safe to repeat; a retried close and the sweeper call this until the mark is gone.
 */
export async function finishClose(deps: Deps, id: IncidentId): Promise<void> {
  const inc = await deps.store.current(id);
  if (inc?.status !== 'closed') return;
  const meta = await deps.store.meta(id);
  if (meta['close-owed']) await cancelReminders(deps, inc);
  // Issue 14: closing without resolving first resolves the PagerDuty pages too (idempotent job ids).
  if (meta['close-owed']) await resolvePages(deps, inc);
  deps.checkpoint('close:reminders-cancelled');
  if (meta['postmortem-owed']) {
    await deps.jobs.enqueue(
      'draft-postmortem',
      { incidentId: id, onClose: true },
      { jobId: `postmortem-${id}-close` },
    );
  }
  deps.checkpoint('close:postmortem-queued');
  // Scored by the close itself, not by when this follow-up ran (the sweeper may finish it later).
  await deps.store.leaveOpenIndex(id, inc.alertGroupId, inc.closedAt ? new Date(inc.closedAt) : deps.now());
  // Groups that joined it (correlation, merge) and the correlation keys it holds are free again.
  for (const g of inc.alertGroupIds ?? [])
    if (g !== inc.alertGroupId) await deps.store.releaseAlertGroup(g, id);
  for (const k of firingCorrelationKeys(
    inc.alerts.map((a) => ({ ...a, kind: 'alert_fired' as const, annotations: {} })),
    deps.config.ALERT_CORRELATE_BY,
  ))
    await deps.store.releaseCorrelation(k, id);
  deps.checkpoint('close:indexes-left');
  await scheduleArchive(deps, inc);
  if (meta['close-owed']) await deps.store.deleteMeta(id, 'close-owed');
}

/**
 * The permission check of a guarded change by a person (src/core/permissions.ts), to run inside the
 * mutation on the state it decides from; the admin lookup (possibly a Slack user-group read) is done
 * before. Changes by the bot or an alert are never refused.
 */
async function permission(
  deps: Deps,
  id: IncidentId,
  o: Origin,
  change: GuardedChange,
): Promise<(inc: Parameters<typeof assertMayChange>[0]) => void> {
  const actor = o.actor;
  if (actor.type !== 'user') return () => {};
  const admin = await isAdminFor(deps, id, actor, change);
  const policy = policyOf(deps.config);
  return (inc) => assertMayChange(inc, actor.id, change, policy, admin);
}

/** People-facing name of a role. */
export function roleName(role: Role): string {
  return role === 'commander' ? 'incident commander' : 'communications lead';
}

function pick(o: Origin) {
  return { actor: o.actor, source: o.source };
}
