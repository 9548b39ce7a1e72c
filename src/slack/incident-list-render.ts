import type { IncidentRow } from '../core/incident-list.js';
import { humanDuration } from '../core/postmortem/index.js';
import type { IncidentLists } from '../flows/list-incidents.js';
import { escapeText } from './escape.js';

const channel = (r: IncidentRow) => (r.channelId ? `<#${r.channelId}>` : '(no channel yet)');
const commander = (r: IncidentRow) => (r.commander ? `<@${r.commander}>` : 'no commander');

/** One open incident as a list line: `*INC-3* SEV1 · investigating · IC @alice · 2 h 5 min · #channel — title`. */
export function openLine(r: IncidentRow): string {
  return `*${r.id}* ${r.severity} · ${r.status} · ${commander(r)} · open ${humanDuration(r.ageS)} · ${channel(r)} — ${escapeText(r.title)}`;
}

/** One closed incident as a list line, with its duration (declared → closed). */
export function closedLine(r: IncidentRow): string {
  return `*${r.id}* ${r.severity} · ${r.status} · lasted ${humanDuration(r.durationS ?? 0)} · ${channel(r)} — ${escapeText(r.title)}`;
}

/** The `/incident list` reply (mrkdwn, at most 3900 characters). */
export function incidentListText(l: IncidentLists, all: boolean): string {
  const lines = [`*Open incidents* (${l.open.length})`];
  lines.push(...(l.open.length ? l.open.map(openLine) : ['No open incidents.']));
  if (all) {
    lines.push('', `*Recently closed* (last ${l.closed.length})`);
    lines.push(...(l.closed.length ? l.closed.map(closedLine) : ['No closed incidents.']));
  }
  let text = lines.join('\n');
  if (text.length > 3900) text = `${text.slice(0, 3900)}\n…`;
  return text;
}
