import type { Incident } from './incident.js';
import type { TimelineEntry } from './timeline.js';

/** The event types outgoing webhooks receive, in the `type` field. */
export const OUTGOING_EVENT_TYPES = [
  'incident.declared',
  'incident.status_changed',
  'incident.severity_changed',
  'incident.commander_changed',
  'incident.update_posted',
  'incident.resolved',
  'incident.closed',
  'incident.postmortem_drafted',
] as const;
export type OutgoingEventType = (typeof OUTGOING_EVENT_TYPES)[number];

/**
 * One outgoing webhook event (JSON body). `id` (`INC-n-<seq>`) is the idempotency id: a retried
 * delivery sends the same id, so a receiver that saw it can ignore it. `incident` is the incident
 * as of this event; `data` depends on `type`.
 */
export interface OutgoingEvent {
  id: string;
  type: OutgoingEventType;
  incident_id: string;
  /** The timeline entry the event comes from; events of one incident arrive in `seq` order. */
  seq: number;
  occurred_at: string;
  incident: {
    id: string;
    title: string;
    severity: string;
    status: string;
    commander: string | null;
    channel_id: string | null;
    declared_at: string;
    resolved_at: string | null;
  };
  data: Record<string, unknown>;
}

/** The event for a timeline entry (`inc`: the incident with that entry applied), or null for entries that are not events. */
export function outgoingEvent(e: TimelineEntry, inc: Incident): OutgoingEvent | null {
  const event = (type: OutgoingEventType, data: Record<string, unknown>): OutgoingEvent => ({
    id: `${e.incidentId}-${e.seq}`,
    type,
    incident_id: e.incidentId,
    seq: e.seq,
    occurred_at: e.at,
    incident: {
      id: inc.id,
      title: inc.title,
      severity: inc.severity,
      status: inc.status,
      commander: inc.commander ?? null,
      channel_id: inc.channelId ?? null,
      declared_at: inc.declaredAt,
      resolved_at: inc.resolvedAt ?? null,
    },
    data,
  });
  switch (e.kind) {
    case 'declared':
      return event('incident.declared', {
        summary: e.summary ?? null,
        alert_group_id: e.alertGroupId ?? null,
      });
    case 'status_changed':
      return event(e.to === 'resolved' ? 'incident.resolved' : 'incident.status_changed', {
        from: e.from,
        to: e.to,
      });
    case 'severity_changed':
      return event('incident.severity_changed', { from: e.from, to: e.to, reason: e.reason ?? null });
    case 'role_assigned':
      return e.role === 'commander' ? event('incident.commander_changed', { user_id: e.userId }) : null;
    case 'stakeholder_update':
      return event('incident.update_posted', {
        text: e.text,
        status: e.status,
        severity: e.severity,
        impact: e.impact ?? null,
        next_update_due: e.nextUpdateDue ?? null,
      });
    case 'closed':
      return event('incident.closed', { resolution: e.resolution ?? null });
    case 'postmortem_drafted':
      return event('incident.postmortem_drafted', { path: e.path });
    default:
      return null;
  }
}
