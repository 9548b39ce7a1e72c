import type { IncidentRow } from '../core/incident-list.js';
import { humanDuration } from '../core/postmortem/index.js';
import type { IncidentLists } from '../flows/list-incidents.js';
import { escapeText } from './escape.js';

/** action_id of the Home tab's "Declare incident" button (opens the start modal). */
export const HOME_DECLARE_ACTION = 'home-declare-incident';

/**
 * A Slack date token, rendered by each viewer's client in their own time zone
 * (https://docs.slack.dev/messaging/formatting-message-text#date-formatting): the view stays the
 * same bytes as time passes, so a refresh with nothing changed publishes nothing.
 */
function since(iso: string): string {
  return `<!date^${Math.floor(Date.parse(iso) / 1000)}^{ago}|${iso.slice(0, 16).replace('T', ' ')} UTC>`;
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } });

function openText(r: IncidentRow): string {
  const channel = r.channelId ? `<#${r.channelId}>` : '(channel being set up)';
  const ic = r.commander ? `<@${r.commander}>` : 'no commander';
  return `*${r.id}* ${escapeText(r.title)}\n${r.status} · ${ic} · declared ${since(r.declaredAt)} · ${channel}`;
}

/**
 * The Home tab (a `home` view, at most 100 blocks): a "Declare incident" button, open incidents
 * grouped by severity with status, commander, age and channel link, then the last closed ones.
 */
export function homeView(l: IncidentLists): { type: 'home'; blocks: unknown[] } {
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Incidents' } },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: HOME_DECLARE_ACTION,
          style: 'danger',
          text: { type: 'plain_text', text: 'Declare incident' },
        },
      ],
    },
  ];
  if (l.open.length === 0) blocks.push(section('*Open incidents*\nNo open incidents.'));
  for (const sev of ['SEV1', 'SEV2', 'SEV3', 'SEV4'] as const) {
    const rows = l.open.filter((r) => r.severity === sev);
    if (rows.length === 0) continue;
    blocks.push({ type: 'divider' }, section(`*${sev}* — ${rows.length} open`));
    for (const r of rows.slice(0, 15)) blocks.push(section(openText(r)));
  }
  blocks.push({ type: 'divider' }, section('*Recently closed*'));
  if (l.closed.length === 0) blocks.push(section('No closed incidents.'));
  else
    blocks.push(
      section(
        l.closed
          .map(
            (r) =>
              `*${r.id}* ${r.severity} · ${r.status} · lasted ${humanDuration(r.durationS ?? 0)}${r.channelId ? ` · <#${r.channelId}>` : ''} — ${escapeText(r.title)}`,
          )
          .join('\n'),
      ),
    );
  return { type: 'home', blocks: blocks.slice(0, 100) };
}
