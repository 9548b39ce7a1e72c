import { format } from 'date-fns';
import { UTCDate } from './utc.js';

const MAX = 80;

/** Turns free text into a Slack-safe slug: lowercase ASCII letters, digits and single dashes. */
export function slugify(text: string, max = 40): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, max).replace(/-+$/, '');
}

/**
 * The incident channel name `inc-<yyyymmdd>-<n>-<slug>`: at most 80 characters of lowercase
 * letters, digits, `-` and `_` (https://api.slack.com/methods/conversations.create#naming).
 * `attempt` > 1 appends `-<attempt>` after a `name_taken`.
 */
export function channelName(n: number, title: string, declaredAt: string, attempt = 1): string {
  const date = format(new UTCDate(declaredAt), 'yyyyMMdd');
  const suffix = attempt > 1 ? `-${attempt}` : '';
  const head = `inc-${date}-${n}`;
  const room = MAX - head.length - suffix.length - 1;
  const slug = room > 0 ? slugify(title, room) : '';
  return `${head}${slug ? `-${slug}` : ''}${suffix}`;
}
