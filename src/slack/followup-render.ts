import type { Incident } from '../core/incident.js';
import type { SlackMessage } from '../flows/deps.js';
import { escapeText, mention, truncate } from './escape.js';

/** Action id of the "Create issue" button on a follow-up; its value is `<INC-n>/<F#>`. */
export const CREATE_ISSUE_ACTION = 'followup_create_issue';

/** Slack allows 50 blocks per message: a header, then up to 48 follow-ups, then a note. */
const MAX_FOLLOWUPS = 48;

/**
 * The message posted with the postmortem draft: each follow-up with its tracker issue link, or a
 * "Create issue" button when a tracker is configured and it has none yet (Block Kit section with a
 * button accessory, https://api.slack.com/reference/block-kit/blocks#section). Null with no follow-ups or no tracker.
 */
export function followupsMessage(inc: Incident, tracker: 'github' | 'jira' | undefined): SlackMessage | null {
  // Without a tracker the draft already lists them; nothing to click.
  if (inc.followups.length === 0 || !tracker) return null;
  const name = tracker === 'github' ? 'GitHub' : 'Jira';
  const blocks: unknown[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: `*Follow-ups of ${inc.id}* (from the postmortem draft)` },
    },
  ];
  for (const f of inc.followups.slice(0, MAX_FOLLOWUPS)) {
    const owner = f.owner ? ` (owner ${mention(f.owner)})` : '';
    const link =
      f.issue && /^https?:\/\//i.test(f.issue.url)
        ? ` — <${f.issue.url.replace(/[|>]/g, encodeURIComponent)}|${escapeText(f.issue.key)}>`
        : '';
    const text = truncate(`*${f.id}* ${escapeText(f.text)}${owner}${link}`, 2900);
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text },
      ...(tracker && !f.issue
        ? {
            accessory: {
              type: 'button',
              action_id: CREATE_ISSUE_ACTION,
              text: { type: 'plain_text', text: 'Create issue' },
              value: `${inc.id}/${f.id}`,
            },
          }
        : {}),
    });
  }
  if (inc.followups.length > MAX_FOLLOWUPS) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${inc.followups.length - MAX_FOLLOWUPS} more: create their issues with \`/incident issue F<n>\`.`,
        },
      ],
    });
  }
  const missing = inc.followups.filter((f) => !f.issue).length;
  return {
    text: `${inc.id}: ${inc.followups.length} follow-up(s)${tracker && missing ? `; ${missing} without a ${name} issue` : ''}`,
    blocks,
  };
}
