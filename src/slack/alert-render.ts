import type { EntryOf, TimelineEntry } from '../core/timeline.js';
import type { SlackMessage } from '../flows/deps.js';
import { escapeText, safeHref, slackLink, truncate } from './escape.js';
import { utcTime } from './render.js';

/** `action_id` of the "Close incident" button offered once every alert of the group resolved. */
export const CLOSE_INCIDENT_ACTION = 'alerts_close_incident';
/** `action_id` of the runbook link button (a URL button: Slack still sends an action, which we ack). */
export const RUNBOOK_ACTION = 'alerts_open_runbook';

// Slack limits: section text 3000, a button's text 75 and url 3000 characters.
const SECTION_MAX = 2900;
const URL_MAX = 3000;

/**
 * Text shown exactly as sent: a `plain_text` object without emoji conversion, so mrkdwn
 * (`*bold*`, `_x_`, `<!channel>`, `<https://…|link>`) and HTML in labels are not interpreted.
 */
function literal(text: string) {
  return { type: 'plain_text' as const, text: truncate(text, SECTION_MAX), emoji: false };
}

function annotation(annotations: Record<string, string>, ...keys: string[]): string | undefined {
  return keys.map((k) => annotations[k]).find((v) => v !== undefined && v !== '');
}

/** A link is offered only for http(s) URLs: anything else (`javascript:`, mrkdwn) stays text. */
function httpUrl(url: string | undefined): string | undefined {
  if (!url || url.length > URL_MAX) return undefined;
  return safeHref(url);
}

function labelLines(labels: Record<string, string>): string {
  const keys = Object.keys(labels).sort((a, b) =>
    a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : 1,
  );
  return keys.length === 0 ? '(no labels)' : keys.map((k) => `${k}=${labels[k]}`).join('\n');
}

/**
 * The alert post for an `alert_fired` entry: name, start time (UTC), labels, summary and
 * description (all as literal plain text), a "Runbook" button for `runbook_url` and a link to
 * `generatorURL` when they are http(s) URLs. Fallback `text` is mrkdwn-escaped.
 */
export function alertFiredMessage(e: EntryOf<'alert_fired'>): SlackMessage {
  const summary = annotation(e.annotations, 'summary');
  const description = annotation(e.annotations, 'description', 'message');
  const runbook = httpUrl(annotation(e.annotations, 'runbook_url', 'runbook', 'runbookURL'));
  const source = httpUrl(e.generatorURL);
  const blocks: unknown[] = [
    { type: 'header', text: literal(truncate(`Alert firing: ${e.name}`, 150)) },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `:rotating_light: *Firing* since ${utcTime(e.startsAt)} (${e.startsAt})`,
      },
    },
  ];
  if (summary) blocks.push({ type: 'section', text: literal(summary) });
  if (description) blocks.push({ type: 'section', text: literal(description) });
  blocks.push({ type: 'section', text: literal(labelLines(e.labels)) });
  const buttons: unknown[] = [];
  if (runbook)
    buttons.push({
      type: 'button',
      action_id: RUNBOOK_ACTION,
      text: { type: 'plain_text', text: 'Runbook' },
      url: runbook,
      style: 'primary',
    });
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  if (source)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: slackLink(source, 'Alert source')! }],
    });
  const text = `:rotating_light: Alert firing: ${escapeText(e.name)}${summary ? ` — ${escapeText(summary)}` : ''}`;
  return { text: truncate(text, SECTION_MAX), blocks };
}

/** The post for an `alert_resolved` entry: name, end time and labels (literal). */
export function alertResolvedMessage(e: EntryOf<'alert_resolved'>): SlackMessage {
  return {
    text: truncate(`:white_check_mark: Alert resolved: ${escapeText(e.name)}`, SECTION_MAX),
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: `:white_check_mark: *Resolved* at ${utcTime(e.endsAt)} (${e.endsAt})` },
      },
      { type: 'section', text: literal(`${e.name}\n${labelLines(e.labels)}`) },
    ],
  };
}

/** Renders the alert entry kinds for the channel (see `entryMessage`); null for others. */
export function alertEntryMessage(e: TimelineEntry): SlackMessage | null {
  if (e.kind === 'alert_fired') return alertFiredMessage(e);
  if (e.kind === 'alert_resolved') return alertResolvedMessage(e);
  return null;
}

/**
 * "Every alert of this group has resolved" with a "Close incident" button (value: the incident
 * id). The bot never closes by itself: a person decides.
 */
export function allResolvedMessage(incidentId: string, alerts: number): SlackMessage {
  const text = `:white_check_mark: All ${alerts} alert${alerts === 1 ? '' : 's'} of ${incidentId} have resolved. Close the incident when you are satisfied it is over.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: CLOSE_INCIDENT_ACTION,
            text: { type: 'plain_text', text: 'Close incident' },
            value: incidentId,
            style: 'danger',
            confirm: {
              title: { type: 'plain_text', text: `Close ${incidentId}?` },
              text: { type: 'plain_text', text: 'The postmortem draft will be posted in the channel.' },
              confirm: { type: 'plain_text', text: 'Close' },
              deny: { type: 'plain_text', text: 'Keep open' },
            },
          },
        ],
      },
    ],
  };
}
