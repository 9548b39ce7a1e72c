import { z } from 'zod';
import { Severity } from '../src/core/incident-model.js';
import { UsageError } from './types.js';

/** A Slack user mention as Slack sends it with escaping on: `<@U123>` or `<@U123|name>`; yields the id. */
export const UserMention = z
  .string()
  .trim()
  .regex(/^<@([UW][A-Z0-9]+)(\|[^>]*)?>$/, 'mention a person, e.g. @alice (Slack sends it as <@U…>)')
  .transform((s) => /^<@([UW][A-Z0-9]+)/.exec(s)![1]!);

/** `sev2`, `SEV2`, `2` → `SEV2`. */
export const SeverityArg = z
  .string()
  .trim()
  .transform((s) => s.toUpperCase().replace(/^(SEV)?/, 'SEV'))
  .pipe(Severity);

/** Non-empty free text, at most 3000 characters (a Slack section's limit). */
export const FreeText = z.string().trim().min(1, 'text is required').max(3000, 'at most 3000 characters');

/** Parses `text` with `schema`, turning a failure into a UsageError that names the problem and shows `usage`. */
export function parseArgs<T>(schema: z.ZodType<T>, input: unknown, usage: string): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const msg = r.error.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  throw new UsageError(msg, usage);
}

/** Splits off the first whitespace-separated word. */
export function firstWord(text: string): [string, string] {
  const t = text.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(t);
  return m ? [m[1]!, m[2]!] : ['', ''];
}
