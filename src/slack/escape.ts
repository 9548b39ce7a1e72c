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

/**
 * A Slack mrkdwn link `<href|label>` to an http(s) URL, or undefined for anything else (a
 * `javascript:` URL, mrkdwn, not a URL). The URL is parsed and re-serialised with `new URL`, then
 * `|`, `<` and `>` (which would end the link or start another) are percent-encoded; the label is
 * escaped text without `|` (https://docs.slack.dev/messaging/formatting-message-text#linking-urls).
 */
export function slackLink(url: string, label?: string): string | undefined {
  const href = safeHref(url);
  if (!href) return undefined;
  return label === undefined ? `<${href}>` : `<${href}|${escapeText(label).replace(/\|/g, '')}>`;
}

/** An http(s) URL as `new URL` serialises it, with `|`, `<`, `>` percent-encoded; undefined when it is not one. */
export function safeHref(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  return u.href.replace(/[|<>]/g, (c) => encodeURIComponent(c));
}

/** Slack's channel topic limit, characters (https://docs.slack.dev/reference/methods/conversations.setTopic). */
export const TOPIC_MAX = 250;

/** A channel topic from text: escaped like message text, at most 250 characters, never cut inside an entity. */
export function channelTopic(text: string): string {
  const escaped = escapeText(text.replace(/\s+/g, ' ').trim());
  if (escaped.length <= TOPIC_MAX) return escaped;
  return `${escaped.slice(0, TOPIC_MAX - 1).replace(/&[a-z]{0,3}$/, '')}…`;
}
