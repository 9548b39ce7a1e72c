import { createReadStream } from 'node:fs';

/** Counters for lines a reader could not use; reported as notes ("skipped 12 unparsable lines"). */
export interface LineProblems {
  /** Lines that did not match the expected format. */
  unparsable: number;
  /** Lines containing NUL or other control bytes (binary garbage). */
  binary: number;
  /** Lines longer than the reader's limit, cut and not parsed. */
  truncated: number;
  /** The load balancer's own event lines (HAProxy health check results, server state changes): not requests, not problems. */
  events?: number;
}

/** Options for {@link forEachLine}: `maxLineBytes` (default 64 KiB) bounds memory per line; `signal` aborts the read. */
export interface ForEachLineOptions {
  maxLineBytes?: number;
  signal?: AbortSignal;
  /** Read buffer size in bytes (default 1 MiB). */
  chunkBytes?: number;
}

/**
 * Streams a file line by line in one pass with bounded memory (hand-rolled splitter over 1 MiB chunks,
 * latin1-decoded so binary never throws). Calls `onLine` for each line without its `\n`/`\r\n`; lines
 * longer than `maxLineBytes` are dropped and counted in the returned `truncated`. Rejects when the file
 * cannot be opened (ENOENT, EACCES) or the signal aborts.
 */
export async function forEachLine(
  path: string,
  onLine: (line: string) => void,
  opts: ForEachLineOptions = {},
): Promise<{ lines: number; truncated: number }> {
  const max = opts.maxLineBytes ?? 64 * 1024;
  const stream = createReadStream(path, {
    highWaterMark: opts.chunkBytes ?? 1024 * 1024,
    encoding: 'latin1',
    signal: opts.signal,
  });
  let carry = '';
  let dropping = false;
  let lines = 0;
  let truncated = 0;
  const emit = (line: string) => {
    lines++;
    const end = line.length > 0 && line.charCodeAt(line.length - 1) === 13 ? line.length - 1 : line.length;
    onLine(end === line.length ? line : line.slice(0, end));
  };
  for await (const chunk of stream as AsyncIterable<string>) {
    let start = 0;
    let nl = chunk.indexOf('\n', start);
    while (nl !== -1) {
      if (dropping) {
        dropping = false;
      } else if (carry.length > 0) {
        const line = carry + chunk.slice(start, nl);
        carry = '';
        if (line.length > max) truncated++;
        else emit(line);
      } else if (nl - start > max) {
        truncated++;
      } else {
        emit(chunk.slice(start, nl));
      }
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length && !dropping) {
      carry += chunk.slice(start);
      if (carry.length > max) {
        // A line that outgrows the limit is skipped up to its end: memory stays bounded.
        carry = '';
        dropping = true;
        truncated++;
      }
    }
  }
  if (carry.length > 0 && !dropping) emit(carry);
  return { lines, truncated };
}

/** True when the string holds control bytes other than tab (NUL, ESC, ...): a binary or corrupted line. */
export function looksBinary(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

function digits(s: string, from: number, n: number): number {
  let v = 0;
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    v = v * 10 + c;
  }
  return v;
}

/**
 * Parses `dd/Mon/yyyy:HH:MM:SS` at `s[from..]` (HAProxy `%tr`, nginx `$time_local`) to epoch ms, treating the
 * wall-clock time as UTC shifted by `offsetMinutes` (local = UTC + offset). Optional `.mmm` is read when
 * `withMillis`. Returns NaN on malformed input.
 */
export function parseClfDate(s: string, from: number, offsetMinutes: number, withMillis = false): number {
  const day = digits(s, from, 2);
  const month = MONTHS[s.slice(from + 3, from + 6)];
  const year = digits(s, from + 7, 4);
  const h = digits(s, from + 12, 2);
  const m = digits(s, from + 15, 2);
  const sec = digits(s, from + 18, 2);
  if (month === undefined || s.charCodeAt(from + 2) !== 47 || s.charCodeAt(from + 11) !== 58)
    return Number.NaN;
  let ms = 0;
  if (withMillis && s.charCodeAt(from + 20) === 46) ms = digits(s, from + 21, 3);
  const t = Date.UTC(year, month, day, h, m, sec, ms);
  return t - offsetMinutes * 60_000;
}

/** Parses a `+hhmm` / `-hhmm` / `+hh:mm` UTC offset to minutes; NaN when malformed. */
export function parseUtcOffset(s: string): number {
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(s.trim());
  if (!m) return Number.NaN;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}
