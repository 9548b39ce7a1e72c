import { format } from 'date-fns';
import type { EntryOf } from '../core/timeline.js';
import { UTCDate } from '../core/utc.js';
import type { SlackMessage } from '../flows/deps.js';
import { escapeText, truncate } from './escape.js';

const STATUS_TEXT: Record<EntryOf<'stakeholder_update'>['status'], string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring (fix in place)',
  resolved: 'Resolved',
  closed: 'Closed',
};

/**
 * The structured stakeholder update (`/incident update`), as posted to the incident channel and the
 * announce channel: status, severity, impact, the update, and when the next one is due. Block Kit
 * section text stays under Slack's 3000 characters (https://docs.slack.dev/reference/block-kit/blocks/section-block).
 */
export function stakeholderUpdateMessage(e: EntryOf<'stakeholder_update'>): SlackMessage {
  const at = (iso: string) => `${format(new UTCDate(iso), 'yyyy-MM-dd HH:mm')} UTC`;
  const fields = [
    `*Status:* ${STATUS_TEXT[e.status]}`,
    `*Severity:* ${e.severity}`,
    `*Impact:* ${e.impact ? escapeText(e.impact) : 'not recorded yet'}`,
    `*Next update:* ${e.nextUpdateDue ? `by ${at(e.nextUpdateDue)}` : 'when there is news'}`,
  ];
  const head = `:mega: *Status update on ${e.incidentId}* (${at(e.at)})`;
  const body = truncate(escapeText(e.text), 2900);
  return {
    text: truncate(`${head}\n${fields.join(' · ')}\n${body}`, 3000),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: head } },
      { type: 'section', fields: fields.map((text) => ({ type: 'mrkdwn', text })) },
      { type: 'section', text: { type: 'mrkdwn', text: body } },
    ],
  };
}
