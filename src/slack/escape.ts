/**
 * Escapes user text for Slack mrkdwn: `&`, `<`, `>` become entities, so `<!channel>` or `<@U…>`
 * typed by a person (or sent in an alert label) pings nobody
 * (https://api.slack.com/reference/surfaces/formatting#escaping).
 */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Truncates to `max` characters with an ellipsis (Slack's section text limit is 3000). */
export function truncate(text: string, max = 2900): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A mention for a Slack user id (`U…`/`W…`) or user-group id (`S…`). */
export function mention(id: string): string {
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}
