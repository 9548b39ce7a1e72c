import { z } from 'zod';
import type { AlertBatch, SeverityMapping, StringMap } from '../core/alert.js';

/** What every `toAlertBatch` needs: the receive time (the clock is an argument) and the severity mapping. */
export interface ToBatchOptions {
  now: Date;
  mapping: SeverityMapping;
}

/** A valid delivery that carries no alert state (a PagerDuty note, a Grafana `pending` state, ...). */
export interface Ignored {
  ignored: string;
}

/** One validation problem: a field path like `alerts[0].startsAt` (`(root)` for the body) and what is wrong. */
export interface Issue {
  path: string;
  message: string;
}

const IDENT = /^[A-Za-z_$][\w$]*$/;

/** Formats a zod issue path as `alerts[0].labels["tag name"]`; the empty path is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENT.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out === '' ? '(root)' : out;
}

/** Turns a ZodError into `{ path, message }` issues, in zod's order. */
export function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

/** True when `toAlertBatch` ignored the delivery instead of producing a batch. */
export function isIgnored(result: AlertBatch | Ignored): result is Ignored {
  return 'ignored' in result;
}

const DATE_TIME_MESSAGE = 'expected ISO 8601 date-time';

/**
 * An RFC 3339 date-time as senders write it: any fraction digits (Go writes nanoseconds), `Z` or
 * a `±hh:mm` offset. Go's zero time `0001-01-01T00:00:00Z` is valid here; callers decide.
 */
const Rfc3339 = z.regexes.datetime({ offset: true });
export const WireDateTime = z
  .string({ error: DATE_TIME_MESSAGE })
  // One check, one message: zod's RFC 3339 pattern (the one `z.iso.datetime({ offset: true })`
  // checks, calendar-aware), and a time JS can represent.
  .refine((s) => Rfc3339.test(s) && !Number.isNaN(Date.parse(s)), DATE_TIME_MESSAGE);

/**
 * A label/annotation map. Go encodes an empty map as `null` and some senders omit it: both
 * become `{}`. Values must be strings (Prometheus labels always are).
 */
export const WireStringMap = z
  .unknown()
  .optional()
  .transform((m, ctx): StringMap => {
    if (m === null || m === undefined) return {};
    // The common case, checked in one loop: a plain object of strings. zod's record check costs
    // about half a microsecond per entry, and a storm delivery has ~20 labels and annotations.
    if (isStringMap(m)) return m;
    // Anything else gets zod's own record check, so the issues are exactly zod's.
    const r = StringRecord.safeParse(m);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  });
const StringRecord = z.record(z.string(), z.string());

function isStringMap(m: unknown): m is StringMap {
  if (typeof m !== 'object' || m === null || Object.getPrototypeOf(m) !== Object.prototype) return false;
  for (const key in m) {
    if (typeof (m as Record<string, unknown>)[key] !== 'string' || key === '__proto__') return false;
  }
  return true;
}

/** An optional URL-ish string; Grafana sends `""` for "none", which becomes undefined. */
export const WireOptionalUrl = z
  .string()
  .nullish()
  .transform((s) => (s ? s : undefined));
