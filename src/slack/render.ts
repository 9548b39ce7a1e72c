import { format, formatDistanceStrict } from 'date-fns';
import type { Incident } from '../core/incident.js';
import type { Actor } from '../core/incident-model.js';
import { attemptsText, jobActivity } from '../core/job-activity.js';
import type { TimelineEntry } from '../core/timeline.js';
import { UTCDate } from '../core/utc.js';
import type { SlackMessage } from '../flows/deps.js';
import { escapeText, mention, slackLink, truncate } from './escape.js';
import { fitMessage } from './limits.js';
import { refusalReason } from './refusals.js';
import { stakeholderUpdateMessage } from './update-render.js';

const SEV_ICON = {
  SEV1: ':red_circle:',
  SEV2: ':large_orange_circle:',
  SEV3: ':large_yellow_circle:',
  SEV4: ':white_circle:',
};
const STATUS_ICON = {
  investigating: ':mag:',
  identified: ':bulb:',
  monitoring: ':eyes:',
  resolved: ':white_check_mark:',
  closed: ':lock:',
};

/** `HH:mm UTC` for an ISO time. */
export function utcTime(iso: string): string {
  return `${format(new UTCDate(iso), 'HH:mm')} UTC`;
}

/** Who did it, as mrkdwn. */
export function actorText(a: Actor): string {
  if (a.type === 'user') return mention(a.id);
  if (a.type === 'alert') return `alert (${escapeText(a.source)})`;
  return 'incident-bot';
}

/** The pinned summary message: title, severity, status, roles, age, links; re-rendered on every change. */
export function summaryMessage(inc: Incident, now: Date): SlackMessage {
  const age = formatDistanceStrict(new Date(inc.declaredAt), now);
  const title = escapeText(inc.title);
  const fields = [
    `*Severity*\n${SEV_ICON[inc.severity]} ${inc.severity}`,
    `*Status*\n${STATUS_ICON[inc.status]} ${inc.status}`,
    `*Incident commander*\n${inc.commander ? mention(inc.commander) : '_unassigned — `/incident lead @you`_'}`,
    `*Communications lead*\n${inc.comms ? mention(inc.comms) : '_unassigned_'}`,
    `*Declared*\n${utcTime(inc.declaredAt)} (${inc.status === 'closed' && inc.closedAt ? `lasted ${formatDistanceStrict(new Date(inc.declaredAt), new Date(inc.closedAt))}` : `${age} ago`})`,
    `*Alerts*\n${inc.alerts.length === 0 ? 'none' : `${inc.alerts.filter((a) => a.status === 'firing').length} firing, ${inc.alerts.filter((a) => a.status === 'resolved').length} resolved`}`,
  ];
  const blocks: unknown[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`${inc.id}: ${inc.title}`, 150), emoji: false },
    },
    { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
  ];
  if (inc.summary)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(escapeText(inc.summary)) } });
  const context = [`Entries: ${inc.entryCount}`];
  if (inc.relatedIncidentId) context.push(`Follows ${inc.relatedIncidentId}`);
  if (inc.resolution) context.push(`Resolution: ${escapeText(inc.resolution)}`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(context.join(' · '), 2900) }] });
  if (inc.links.length > 0) {
    // Slack link syntax: the URL must not carry `|` or `>`, and the title is escaped text.
    const links = inc.links.slice(0, 6).flatMap((l) => slackLink(l.url, l.title) ?? []);
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(`Links: ${links.join(' · ')}`, 2900) }],
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: 'Commands: `/incident help` · pin a message with :pushpin: to add it to the timeline',
      },
    ],
  });
  // Updated in place with chat.update: inside its limits by construction.
  return fitMessage(
    { text: `${inc.id} ${inc.severity} ${inc.status}: ${title}`, blocks },
    { updatable: true },
  );
}

const SERVICE_NAME = { github: 'GitHub', jira: 'Jira', pagerduty: 'PagerDuty' } as const;

/** What people can do once a job failed for good, by job name (run-check and run-diagnostics show theirs on the checklist). */
const JOB_FAILED_NEXT: Record<string, string> = {
  'setup-channel':
    'The incident is recorded; check that incident-bot may create channels and invite people (`channels:manage`), and open a channel by hand meanwhile.',
  deliver:
    'Some updates may be missing from this channel; the next change posts them again, and `/incident timeline` shows everything recorded.',
  'record-message': 'Add it again with the “Add to incident timeline” shortcut, or with `/incident note`.',
  'ingest-alert':
    'Alerts it carried may be missing from this timeline; check the alert source (it re-sends alerts still firing).',
  'render-checklist': 'The results are on the timeline; run `/incident diagnose` to post them again.',
  'draft-postmortem': 'Run `/incident postmortem` to try again.',
  'push-postmortem':
    'The draft is kept with the incident (`/incident postmortem` re-renders it; `incident-bot postmortem INC-n` prints it); fix the git access and run `/incident postmortem` to push it again.',
  'outgoing-webhook':
    'That receiver missed this event; later events are still sent to it in order, and any more it misses are recorded on the timeline (`/incident timeline`) without another message here.',
  'alert-notice': 'Check the alerts in the pinned summary, and `/incident close` when they are over.',
  reminder:
    'Post a status update with `/incident update` (or `/incident note`), and page whoever should know.',
};

/** The short channel confirmation for an entry, or null for entries that have their own message (summary, checklist, alerts). */
export function confirmationFor(e: TimelineEntry): SlackMessage | null {
  const who = actorText(e.actor);
  const say = (text: string): SlackMessage => ({ text: truncate(text, 3000) });
  switch (e.kind) {
    case 'note':
      return say(`:memo: Note from ${who}: ${escapeText(e.text)}`);
    case 'message_recorded':
      return say(
        `:pushpin: Added to the timeline: message from ${mention(e.author)} at ${utcTime(e.at)} (by ${mention(e.recordedBy)})`,
      );
    case 'status_changed':
      return say(`${STATUS_ICON[e.to]} Status: *${e.from}* → *${e.to}* (by ${who})`);
    case 'severity_changed':
      return say(
        `${SEV_ICON[e.to]} Severity: *${e.from}* → *${e.to}* (by ${who})${e.reason ? ` — ${escapeText(e.reason)}` : ''}`,
      );
    case 'role_assigned':
      return say(
        `:bust_in_silhouette: ${mention(e.userId)} is now the ${e.role === 'commander' ? 'incident commander' : 'communications lead'} (set by ${who})`,
      );
    case 'closed':
      if (e.as === 'declined')
        return say(
          `:no_entry_sign: Incident declined as a false alarm by ${who}${e.resolution ? `: ${escapeText(e.resolution)}` : ''}. No postmortem will be drafted.`,
        );
      if (e.as === 'merged')
        return say(
          `:twisted_rightwards_arrows: Incident merged into ${e.mergedInto ?? 'another incident'} by ${who} and closed (no postmortem of its own). Continue in ${e.mergedIntoChannelId ? `<#${e.mergedIntoChannelId}>` : "that incident's channel"}.`,
        );
      return say(
        `:lock: Incident closed by ${who}${e.resolution ? `: ${escapeText(e.resolution)}` : ''}. The postmortem draft is on its way.`,
      );
    case 'alert_group_joined':
      return say(
        e.via === 'merge'
          ? `:link: Alert group \`${escapeText(e.alertGroupId)}\` moved here from ${e.fromIncidentId ?? 'another incident'}.`
          : `:link: ${e.incidentId} joined by alert group \`${escapeText(e.alertGroupId)}\`: same ${escapeText(e.correlation ?? '')}.`,
      );
    case 'incident_merged':
      return say(
        `:twisted_rightwards_arrows: ${e.mergedId} merged into ${e.incidentId} by ${who}${e.mergedChannelId ? ` (from <#${e.mergedChannelId}>)` : ''}; its alert groups now feed this incident.`,
      );
    case 'hypothesis_suspected':
      return say(
        `:thinking_face: Hypothesis *${e.hypothesisId}* (${e.category}) raised by ${who}: ${escapeText(e.text)}`,
      );
    case 'hypothesis_ruled_out':
      return say(
        `:x: Hypothesis *${e.hypothesisId}* ruled out by ${who}${e.evidence ? `: ${escapeText(e.evidence)}` : ''}`,
      );
    case 'hypothesis_confirmed':
      return say(
        `:dart: Hypothesis *${e.hypothesisId}* confirmed by ${who}${e.evidence ? `: ${escapeText(e.evidence)}` : ''}`,
      );
    case 'impact_set':
      return say(`:chart_with_downwards_trend: Impact recorded by ${who}: ${escapeText(e.text)}`);
    case 'root_cause_set':
      return say(`:mag_right: Root cause recorded by ${who}: ${escapeText(e.text)}`);
    case 'followup_added':
      return say(
        `:clipboard: Follow-up ${e.followupId}: ${escapeText(e.text)}${e.owner ? ` (owner ${mention(e.owner)})` : ''}`,
      );
    case 'checklist_item':
      return say(
        `${e.checked ? ':ballot_box_with_check:' : ':white_square:'} ${escapeText(e.label)} — ${e.checked ? 'done' : 'unticked'} by ${who}`,
      );
    case 'escalated':
      return say(
        `:rotating_light: Escalating: ${e.userIds.map(mention).join(' ')} — ${escapeText(e.reason)}`,
      );
    case 'reminder_sent':
      return say(`:alarm_clock: ${escapeText(e.text)}`);
    case 'followup_issue_created':
      return say(
        `:link: Follow-up ${e.followupId} is tracked as ${slackLink(e.url, e.key) ?? escapeText(e.key)}${e.found ? ' (found from an earlier try)' : ''}${e.assignee ? `, assigned to ${escapeText(e.assignee)}` : ''}${e.unassigned ? `, unassigned: ${escapeText(e.unassigned)}` : ''}`,
      );
    case 'outbound_failed':
      return say(
        `:warning: ${SERVICE_NAME[e.service]} — ${e.subject}: ${escapeText(e.error)}${e.retryInS !== undefined ? ` Retrying in ${e.retryInS} s.` : ''}`,
      );
    case 'page_sent':
      return say(
        e.action === 'trigger'
          ? `:pager: Paged *${escapeText(e.service)}* on PagerDuty${e.reason ? ` (${escapeText(e.reason)})` : ''}; dedup key \`${e.dedupKey}\`.`
          : `:pager: Resolved the PagerDuty page to *${escapeText(e.service)}*.`,
      );
    case 'stakeholder_update':
      return stakeholderUpdateMessage(e);
    case 'postmortem_pushed':
      return say(
        `:inbox_tray: Postmortem draft committed to ${escapeText(e.repo)} (${escapeText(e.branch)}: ${escapeText(e.path)}, ${e.commit.slice(0, 10)})`,
      );
    case 'job_failed':
      return say(
        `:warning: incident-bot gave up on ${jobActivity(e.job)}${e.detail ? ` (${escapeText(e.detail)})` : ''} after ${attemptsText(e.attempts)}: ${escapeText(e.error)}. ${JOB_FAILED_NEXT[e.job] ?? 'Do that step by hand; `/incident timeline` shows what was recorded.'}`,
      );
    case 'slack_refused':
      return say(refusedText(e));
    default:
      return null;
  }
}

/** One timeline line for `/incident timeline`. */
export function timelineLine(e: TimelineEntry): string {
  const time = utcTime(e.at);
  const body = describeEntry(e);
  return `\`#${e.seq}\` ${time} · ${actorText(e.actor)} · ${body}`;
}

/** A one-line description of an entry, mrkdwn-escaped. */
export function describeEntry(e: TimelineEntry): string {
  switch (e.kind) {
    case 'declared':
      return `declared ${e.severity} “${escapeText(e.title)}”`;
    case 'channel_created':
      return `channel #${e.channelName} created`;
    case 'summary_posted':
      return 'summary posted and pinned';
    case 'note':
      return `note: ${escapeText(e.text)}`;
    case 'message_recorded':
      return `message from ${mention(e.author)}: ${escapeText(e.text)}`;
    case 'status_changed':
      return `status ${e.from} → ${e.to}`;
    case 'severity_changed':
      return `severity ${e.from} → ${e.to}${e.reason ? `, ${escapeText(e.reason)}` : ''}`;
    case 'role_assigned':
      return `${e.role === 'commander' ? 'incident commander' : 'communications lead'}: ${mention(e.userId)}`;
    case 'alert_fired':
      return `alert fired: ${escapeText(e.name)}`;
    case 'alert_resolved':
      return `alert resolved: ${escapeText(e.name)}`;
    case 'check_result':
      return `check ${e.result.checkId} (${escapeText(e.result.target)}): ${e.result.verdict} — ${escapeText(e.result.summary)}`;
    case 'checklist_item':
      return `checklist “${escapeText(e.label)}” ${e.checked ? 'ticked' : 'unticked'}`;
    case 'hypothesis_suspected':
      return `suspects ${e.hypothesisId} (${e.category}): ${escapeText(e.text)}`;
    case 'hypothesis_ruled_out':
      return `ruled out ${e.hypothesisId}${e.evidence ? `: ${escapeText(e.evidence)}` : ''}`;
    case 'hypothesis_confirmed':
      return `confirmed ${e.hypothesisId}${e.evidence ? `: ${escapeText(e.evidence)}` : ''}`;
    case 'impact_set':
      return `impact: ${escapeText(e.text)}`;
    case 'root_cause_set':
      return `root cause: ${escapeText(e.text)}`;
    case 'followup_added':
      return `follow-up ${e.followupId}: ${escapeText(e.text)}${e.owner ? ` (${mention(e.owner)})` : ''}`;
    case 'escalated':
      return `escalated to ${e.userIds.map(mention).join(' ')}`;
    case 'reminder_sent':
      return 'status-update reminder';
    case 'closed':
      return `${e.as === 'declined' ? 'declined' : e.as === 'merged' ? `merged into ${e.mergedInto}, closed` : 'closed'}${e.resolution ? `: ${escapeText(e.resolution)}` : ''}`;
    case 'alert_group_joined':
      return e.via === 'merge'
        ? `alert group ${escapeText(e.alertGroupId)} moved here from ${e.fromIncidentId}`
        : `joined ${e.incidentId}: same ${escapeText(e.correlation ?? '')} (alert group ${escapeText(e.alertGroupId)})`;
    case 'incident_merged':
      return `${e.mergedId} merged into ${e.incidentId}`;
    case 'postmortem_drafted':
      return `postmortem draft written (${escapeText(e.path)})`;
    case 'followup_issue_created':
      return `follow-up ${e.followupId} issue ${escapeText(e.key)} (${escapeText(e.url)})`;
    case 'outbound_failed':
      return `${SERVICE_NAME[e.service]} failed (${e.subject}): ${escapeText(e.error)}`;
    case 'page_sent':
      return `PagerDuty ${e.action} for ${escapeText(e.service)}${e.reason ? ` (${escapeText(e.reason)})` : ''}`;
    case 'stakeholder_update':
      return `stakeholder update (${e.status}, ${e.severity}): ${escapeText(e.text)}`;
    case 'postmortem_pushed':
      return `postmortem draft pushed to ${escapeText(e.repo)} ${escapeText(e.branch)}:${escapeText(e.path)} (${e.commit.slice(0, 10)})`;
    case 'slack_refused':
      return `Slack refused ${e.action === 'invite' ? `inviting ${mention(e.target)}` : e.action === 'announce' ? `the announcement in <#${e.target}>` : `creating #${escapeText(e.target)}`}: ${e.error}`;
    case 'job_failed':
      return `${e.job} job failed after ${attemptsText(e.attempts)}${e.detail ? ` (${escapeText(e.detail)})` : ''}: ${escapeText(e.error)}`;
  }
}

/** What the channel is told when Slack refused something: who or where, why in plain words, Slack's code, and what happens next. */
function refusedText(e: Extract<TimelineEntry, { kind: 'slack_refused' }>): string {
  const why = `${refusalReason(e.error)} (Slack: \`${e.error}\`)`;
  switch (e.action) {
    case 'invite':
      return `:warning: Could not invite ${mention(e.target)}: ${why}. Everyone else is in; add them by hand if they should be here.`;
    case 'announce':
      return `:warning: Could not post to the announce channel <#${e.target}>: ${why}. Nothing more will be posted there for this incident; fix \`INCIDENT_ANNOUNCE_CHANNEL\`.`;
    case 'create_channel':
      return `:warning: Could not create the incident channel #${escapeText(e.target)}: ${why}. The incident is recorded and worked here.`;
  }
}
