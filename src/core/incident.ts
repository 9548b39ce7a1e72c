import type { CheckResult, HypothesisCategory } from './check.js';
import type { IncidentId, Severity, Status } from './incident-model.js';
import type { TimelineEntry } from './timeline.js';

/** A hypothesis the team is weighing, with the time it was raised and settled. */
export interface Hypothesis {
  id: string;
  text: string;
  category: HypothesisCategory;
  state: 'suspected' | 'ruled-out' | 'confirmed';
  suspectedAt: string;
  suspectedBy?: string;
  settledAt?: string;
  evidence?: string;
}

/** One alert's latest known state within the incident. */
export interface AlertState {
  alertGroupId: string;
  fingerprint: string;
  name: string;
  status: 'firing' | 'resolved';
  startsAt: string;
  endsAt?: string;
  labels: Record<string, string>;
}

/** An incident's state: a fold over its timeline entries. Times are ISO 8601 UTC strings. */
export interface Incident {
  id: IncidentId;
  title: string;
  severity: Severity;
  status: Status;
  summary?: string;
  declaredAt: string;
  declaredBy?: string;
  alertGroupId?: string;
  /** Every alert group feeding the incident: the declaring one, then those joined by correlation or merge. */
  alertGroupIds: string[];
  relatedIncidentId?: IncidentId;
  /** Declared private (`/incident start --private`): a private channel, no public announcement or listing. */
  private: boolean;
  channelId?: string;
  channelName?: string;
  /** Set when the incident is worked in a thread of INCIDENT_FALLBACK_CHANNEL (its root message is the summary). */
  threadTs?: string;
  /** Slack's error when it refused to create the incident channel (`restricted_action`). */
  channelRefused?: string;
  summaryTs?: string;
  commander?: string;
  comms?: string;
  /** First human action after declaration (time to acknowledge). */
  acknowledgedAt?: string;
  identifiedAt?: string;
  /** First move to monitoring (fix in place) — time to mitigate. */
  mitigatedAt?: string;
  resolvedAt?: string;
  closedAt?: string;
  resolution?: string;
  /** How it closed when not as a fixed problem: a declined false alarm, or merged into `mergedInto`. */
  closedAs?: 'declined' | 'merged';
  mergedInto?: IncidentId;
  /** Incidents merged into this one (`/incident merge`). */
  merged: IncidentId[];
  impact?: string;
  rootCause?: string;
  /** Last status change or note: the status-update nudge counts from here. */
  lastStatusUpdateAt: string;
  /** Last severity change: reminders and escalation are rescheduled from here for the new severity. */
  severityChangedAt?: string;
  hypotheses: Hypothesis[];
  alerts: AlertState[];
  /** Latest result per `checkId/target`. */
  checks: CheckResult[];
  checklist: Record<string, boolean>;
  followups: {
    id: string;
    text: string;
    owner?: string;
    issue?: { tracker: string; key: string; url: string };
  }[];
  /** PagerDuty pages by service: last event sent and how many triggers (absent in snapshots from before issue 14). */
  pages?: Record<string, { state: 'triggered' | 'resolved'; triggers: number; at: string }>;
  postmortemPath?: string;
  /** Links worth a click from the summary: alert sources and runbooks (http/https only, first seen first). */
  links: { title: string; url: string }[];
  entryCount: number;
}

const HUMAN_SOURCES = new Set(['slash', 'modal', 'shortcut', 'reaction', 'button']);

/** Folds timeline entries (in `seq` order, starting with `declared`) into the incident's state; throws if the first entry is not `declared`. */
export function foldTimeline(entries: readonly TimelineEntry[]): Incident {
  const first = entries[0];
  if (first?.kind !== 'declared') {
    throw new Error(`timeline must start with a declared entry, got ${first?.kind ?? 'nothing'}`);
  }
  const inc: Incident = {
    id: first.incidentId,
    title: first.title,
    severity: first.severity,
    status: 'investigating',
    summary: first.summary,
    declaredAt: first.at,
    declaredBy: first.actor.type === 'user' ? first.actor.id : undefined,
    alertGroupId: first.alertGroupId,
    alertGroupIds: first.alertGroupId ? [first.alertGroupId] : [],
    merged: [],
    relatedIncidentId: first.relatedIncidentId,
    private: first.private ?? false,
    lastStatusUpdateAt: first.at,
    hypotheses: [],
    alerts: [],
    checks: [],
    checklist: {},
    followups: [],
    links: [],
    entryCount: 0,
  };
  for (const e of entries) applyEntry(inc, e);
  return inc;
}

/** Applies one entry to the state in place (the fold's step). */
export function applyEntry(inc: Incident, e: TimelineEntry): void {
  inc.entryCount++;
  if (
    e.kind !== 'declared' &&
    e.actor.type === 'user' &&
    HUMAN_SOURCES.has(e.source) &&
    !inc.acknowledgedAt
  ) {
    inc.acknowledgedAt = e.at;
  }
  switch (e.kind) {
    case 'declared':
      if (e.actor.type === 'user' && !inc.acknowledgedAt) inc.acknowledgedAt = e.at;
      break;
    case 'channel_created':
      inc.channelId = e.channelId;
      inc.channelName = e.channelName;
      if (e.threadTs) inc.threadTs = e.threadTs;
      break;
    case 'summary_posted':
      inc.summaryTs = e.ts;
      break;
    case 'status_changed':
      inc.status = e.to;
      inc.lastStatusUpdateAt = e.at;
      if (e.to === 'identified' && !inc.identifiedAt) inc.identifiedAt = e.at;
      if (e.to === 'monitoring' && !inc.mitigatedAt) inc.mitigatedAt = e.at;
      if (e.to === 'resolved') {
        inc.resolvedAt = e.at;
        if (!inc.mitigatedAt) inc.mitigatedAt = e.at;
        if (!inc.identifiedAt) inc.identifiedAt = e.at;
      }
      break;
    case 'severity_changed':
      inc.severity = e.to;
      inc.severityChangedAt = e.at;
      break;
    case 'role_assigned':
      inc[e.role] = e.userId;
      break;
    case 'note':
      // A note is an update to the people following the incident: it resets the nudge cadence.
      inc.lastStatusUpdateAt = e.at;
      break;
    case 'message_recorded':
    case 'reminder_sent':
    case 'escalated':
    // A failed job changes nothing about the incident itself; it is on the timeline so people know.
    case 'job_failed':
      break;
    // Slack refusing an invite or the announcement changes nothing about the incident; a refused
    // channel means the incident has none of its own (or is worked in the fallback channel's thread).
    case 'slack_refused':
      if (e.action === 'create_channel') inc.channelRefused = e.error;
      break;
    case 'alert_fired': {
      addLink(inc, `Runbook: ${e.name}`, e.annotations.runbook_url);
      addLink(inc, `Alert source: ${e.name}`, e.generatorURL);
      const a = inc.alerts.find((x) => x.alertGroupId === e.alertGroupId && x.fingerprint === e.fingerprint);
      if (a) {
        a.status = 'firing';
        a.startsAt = e.startsAt;
        a.endsAt = undefined;
      } else {
        inc.alerts.push({
          alertGroupId: e.alertGroupId,
          fingerprint: e.fingerprint,
          name: e.name,
          status: 'firing',
          startsAt: e.startsAt,
          labels: e.labels,
        });
      }
      break;
    }
    case 'alert_resolved': {
      const a = inc.alerts.find((x) => x.alertGroupId === e.alertGroupId && x.fingerprint === e.fingerprint);
      if (a) {
        a.status = 'resolved';
        a.endsAt = e.endsAt;
      }
      break;
    }
    case 'check_result': {
      const key = `${e.result.checkId}/${e.result.target}`;
      const i = inc.checks.findIndex((c) => `${c.checkId}/${c.target}` === key);
      if (i >= 0) inc.checks[i] = e.result;
      else inc.checks.push(e.result);
      break;
    }
    case 'checklist_item':
      inc.checklist[e.itemId] = e.checked;
      break;
    case 'hypothesis_suspected':
      inc.hypotheses.push({
        id: e.hypothesisId,
        text: e.text,
        category: e.category,
        state: 'suspected',
        suspectedAt: e.at,
        suspectedBy: e.actor.type === 'user' ? e.actor.id : undefined,
      });
      break;
    case 'hypothesis_ruled_out':
    case 'hypothesis_confirmed': {
      const h = inc.hypotheses.find((x) => x.id === e.hypothesisId);
      if (h) {
        h.state = e.kind === 'hypothesis_confirmed' ? 'confirmed' : 'ruled-out';
        h.settledAt = e.at;
        h.evidence = e.evidence;
      }
      if (e.kind === 'hypothesis_confirmed' && !inc.identifiedAt) inc.identifiedAt = e.at;
      break;
    }
    case 'impact_set':
      inc.impact = e.text;
      break;
    case 'root_cause_set':
      inc.rootCause = e.text;
      break;
    case 'followup_added':
      inc.followups.push({ id: e.followupId, text: e.text, owner: e.owner });
      break;
    case 'closed':
      inc.status = 'closed';
      inc.closedAt = e.at;
      inc.resolution = e.resolution;
      if (e.as) inc.closedAs = e.as;
      if (e.mergedInto) inc.mergedInto = e.mergedInto;
      if (!inc.resolvedAt) inc.resolvedAt = e.at;
      if (!inc.mitigatedAt) inc.mitigatedAt = e.at;
      break;
    case 'postmortem_drafted':
      inc.postmortemPath = e.path;
      break;
    case 'followup_issue_created': {
      const f = inc.followups.find((x) => x.id === e.followupId);
      if (f) f.issue = { tracker: e.tracker, key: e.key, url: e.url };
      break;
    }
    case 'outbound_failed':
      break;
    case 'page_sent': {
      inc.pages ??= {};
      const before = inc.pages[e.service];
      inc.pages[e.service] = {
        state: e.action === 'trigger' ? 'triggered' : 'resolved',
        triggers: (before?.triggers ?? 0) + (e.action === 'trigger' ? 1 : 0),
        at: e.at,
      };
      break;
    }
    case 'stakeholder_update':
      // Issue 14: an update to stakeholders is a status update: it resets the nudge cadence.
      inc.lastStatusUpdateAt = e.at;
      break;
    case 'postmortem_pushed':
      break;
    case 'alert_group_joined':
      if (!inc.alertGroupIds.includes(e.alertGroupId)) inc.alertGroupIds.push(e.alertGroupId);
      break;
    case 'incident_merged':
      if (!inc.merged.includes(e.mergedId)) inc.merged.push(e.mergedId);
      for (const g of e.alertGroupIds) if (!inc.alertGroupIds.includes(g)) inc.alertGroupIds.push(g);
      for (const a of e.alerts ?? [])
        if (!inc.alerts.some((x) => x.alertGroupId === a.alertGroupId && x.fingerprint === a.fingerprint))
          inc.alerts.push({ ...a, labels: { ...a.labels } });
      break;
    default: {
      const never: never = e;
      throw new Error(`unknown timeline entry ${(never as { kind: string }).kind}`);
    }
  }
}

function addLink(inc: Incident, title: string, url: string | undefined): void {
  if (!url || !/^https?:\/\//i.test(url) || inc.links.some((l) => l.url === url)) return;
  inc.links.push({ title, url });
}

/** True while the incident is open (not closed). */
export function isOpen(inc: Incident): boolean {
  return inc.status !== 'closed';
}
