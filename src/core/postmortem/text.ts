/** Text for the draft: Markdown and Mermaid escaping, durations, UTC times, numbers. */
import { differenceInSeconds, format } from 'date-fns';
import { UTCDate } from '../utc.js';

/** A span as people say it: `45 s`, `12 min`, `4 h 30 min`, `1 d 4 h` (two largest units, rounded down); throws if `seconds` < 0. */
export function humanDuration(seconds: number): string {
  if (seconds < 0 || !Number.isFinite(seconds))
    throw new RangeError(`duration must be ≥ 0 s, got ${seconds}`);
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  if (days > 0) return hours > 0 ? `${days} d ${hours} h` : `${days} d`;
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  return `${minutes} min`;
}

/**
 * Escapes user text for Markdown (CommonMark/GFM): HTML `<` `>` become entities, emphasis, link,
 * code, table and strikethrough characters get a backslash, a leading block marker is escaped, and
 * line breaks collapse to spaces, so text can neither inject HTML nor break the surrounding line
 * (https://spec.commonmark.org/0.31.2/#backslash-escapes).
 */
export function markdownText(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\\`*_[\]|~]/g, '\\$&')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/^([#+=-])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2');
}

/**
 * Escapes text for a Mermaid gantt label: `#`, `:`, `;`, `%`, backtick, quotes and angle brackets
 * become Mermaid entity codes (`#58;`), so the label neither ends early nor closes the Markdown fence
 * (https://mermaid.js.org/syntax/flowchart.html#entity-codes-to-escape-characters).
 */
export function mermaidText(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  // One pass: the codes themselves contain `#` and `;`, which must not be escaped again.
  return cut.replace(/[#:;%`"'<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

/** `yyyy-MM-dd HH:mm UTC` of an ISO 8601 time. */
export function utc(iso: string): string {
  return `${format(new UTCDate(iso), 'yyyy-MM-dd HH:mm')} UTC`;
}

/** `yyyy-MM-dd` (UTC) of an ISO 8601 time. */
export function utcDay(iso: string): string {
  return format(new UTCDate(iso), 'yyyy-MM-dd');
}

/** The span from `from` to `to` as people say it, or `n/a — <whyNot>` when it is negative. */
export function spanOrNa(from: string, to: string, whyNot: string): string {
  const secs = differenceInSeconds(new UTCDate(to), new UTCDate(from));
  return secs >= 0 ? humanDuration(secs) : `n/a — ${whyNot}`;
}
/** A share (0–1) as a whole percentage, `33%`. */
export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}

/** A whole number with thousands separators, `12,345`. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
