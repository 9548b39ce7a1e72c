import type { EntryOf, TimelineEntry } from '../core/timeline.js';
import type { SlackMessage } from '../flows/deps.js';
import { escapeText, safeHref, slackLink, truncate } from './escape.js';
import { fitMessage } from './limits.js';
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
  // Why this alert is in this incident's channel and not in one of its own.
  if (e.joined) blocks.push({ type: 'context', elements: [literal(truncate(e.joined, 300))] });
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
  const text = `:rotating_light: Alert firing: ${escapeText(e.name)}${summary ? ` — ${escapeText(summary)}` : ''}${e.joined ? ` (${escapeText(e.joined)})` : ''}`;
  return fitMessage({ text: truncate(text, SECTION_MAX), blocks });
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

/** Alerts shown in full in a batch message; the rest go to its thread. */
export const BATCH_SHOWN = 5;
/** Sections of the thread reply listing the rest (a message holds 50 blocks); beyond that, a file. */
const REST_SECTIONS = 12;
const REST_CHARS = 30_000;

type AlertEntry = EntryOf<'alert_fired'> | EntryOf<'alert_resolved'>;

function alertLine(e: AlertEntry): string {
  const labels = Object.entries(e.labels)
    .filter(([k]) => k !== 'alertname')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return e.kind === 'alert_fired'
    ? `Alert firing: ${e.name} since ${utcTime(e.startsAt)}${labels ? ` (${labels})` : ''}${e.joined ? ` — ${e.joined}` : ''}`
    : `Alert resolved: ${e.name} at ${utcTime(e.endsAt)}${labels ? ` (${labels})` : ''}`;
}

/**
 * One message for a batch of alert entries (one webhook's worth, or a flood): a header with the
 * counts, the first BATCH_SHOWN alerts (literal text, each with its Runbook button), then "…and N−k
 * more" whose list goes in the thread (see `alertBatchRest`). Inside Slack's limits by construction
 * (header 150, section 3000, button text 75 and url 3000, at most 2 + 5 + 1 blocks).
 */
export function alertBatchMessage(entries: readonly AlertEntry[]): SlackMessage {
  const firing = entries.filter((e) => e.kind === 'alert_fired').length;
  const resolved = entries.length - firing;
  const counts = [firing ? `${firing} firing` : '', resolved ? `${resolved} resolved` : '']
    .filter(Boolean)
    .join(', ');
  const shown = entries.slice(0, BATCH_SHOWN);
  const blocks: unknown[] = [
    { type: 'header', text: literal(truncate(`${entries.length} alerts: ${counts}`, 150)) },
  ];
  for (const e of shown) {
    const summary =
      e.kind === 'alert_fired'
        ? [annotation(e.annotations, 'summary'), annotation(e.annotations, 'description', 'message')]
            .filter(Boolean)
            .join('\n')
        : undefined;
    const runbook =
      e.kind === 'alert_fired'
        ? httpUrl(annotation(e.annotations, 'runbook_url', 'runbook', 'runbookURL'))
        : undefined;
    blocks.push({
      type: 'section',
      text: literal(truncate(`${alertLine(e)}${summary ? `\n${summary}` : ''}`, 1000)),
      ...(runbook
        ? {
            accessory: {
              type: 'button',
              action_id: RUNBOOK_ACTION,
              text: { type: 'plain_text', text: 'Runbook' },
              url: runbook,
            },
          }
        : {}),
    });
  }
  const more = entries.length - shown.length;
  if (more > 0) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `…and ${more} more, listed in the thread.` }],
    });
  }
  const names = [...new Set(entries.map((e) => e.name))].slice(0, 3).map(escapeText).join(', ');
  const text = `:rotating_light: ${entries.length} alerts (${counts}): ${names}${more > 0 ? ` …and ${more} more` : ''}`;
  return fitMessage({ text: truncate(text, SECTION_MAX), blocks });
}

/**
 * The rest of a batch (after the first BATCH_SHOWN), for the batch message's thread: a message of
 * sections of at most 2,900 characters each, or, past 12 sections or 30,000 characters, a text file.
 */
export function alertBatchRest(
  entries: readonly AlertEntry[],
): { message: SlackMessage } | { file: { filename: string; title: string; content: string } } | null {
  const rest = entries.slice(BATCH_SHOWN);
  if (rest.length === 0) return null;
  const lines = rest.map((e) => truncate(alertLine(e), 1000));
  const sections: string[] = [];
  let current = '';
  for (const line of lines) {
    if (current && current.length + 1 + line.length > SECTION_MAX) {
      sections.push(current);
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
  }
  if (current) sections.push(current);
  // A message holds 50 blocks and about 40,000 characters of them (MESSAGE_LIMITS): beyond, a file.
  if (sections.length > REST_SECTIONS || lines.join('\n').length > REST_CHARS) {
    return {
      file: {
        filename: `alerts-${rest[0]!.seq}-${rest.at(-1)!.seq}.txt`,
        title: `${rest.length} more alerts`,
        content: `${lines.join('\n')}\n`,
      },
    };
  }
  return {
    message: {
      text: `${rest.length} more alerts`,
      blocks: sections.map((s) => ({ type: 'section', text: literal(s) })),
    },
  };
}
