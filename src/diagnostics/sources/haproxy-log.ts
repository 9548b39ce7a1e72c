import type { AccessRecord } from './access-record.js';
import { haproxyNoise } from './client-noise.js';
import { parseClfDate } from './lines.js';

/** A parsed `option httplog` line: the normalized record plus HAProxy's own fields (timers in ms, -1 = not reached). */
export interface HaproxyLogRecord extends AccessRecord {
  clientPort: number;
  frontend: string;
  backend: string;
  /** Raw server field: a name, `<NOSRV>` or `<STATS>`. */
  serverField: string;
  timers: { TR: number; Tw: number; Tc: number; Tr: number; Ta: number };
  bytesRead: number;
  /** Four-character termination state, e.g. `----`, `SC--`, `sQ--`. */
  termination: string;
  retries: number;
  srvQueue: number;
  backendQueue: number;
  request: string;
}

/** Per-file memo for {@link scanHaproxyHttpLogLine}: the last second's `dd/Mon/yyyy:HH:MM:SS` and its epoch ms. */
export interface ScanCache {
  key: string;
  ms: number;
}

/** A fresh {@link ScanCache}; use one per file. */
export function newScanCache(): ScanCache {
  return { key: '', ms: 0 };
}

/**
 * Fast path for window summaries: fills the reused `out` with only time, client, frontend, backend, server,
 * status and (for `<NOSRV>`) path, without allocating a record; false when the line is not an httplog line.
 * `cache` memoizes the last second's epoch so a 1M-line log parses ~one date per second of traffic.
 * Format: https://docs.haproxy.org/2.6/configuration.html#8.2.3
 */
export function scanHaproxyHttpLogLine(
  line: string,
  out: AccessRecord,
  utcOffsetMinutes = 0,
  cache: ScanCache = newScanCache(),
): boolean {
  const lb = findDateBracket(line);
  if (lb === -1) return false;
  const cs = line.lastIndexOf(' ', lb - 2) + 1;
  const colon = line.lastIndexOf(':', lb - 2);
  out.client = colon > cs ? line.slice(cs, colon) : line.slice(cs, lb - 1);
  // "dd/Mon/yyyy:HH:MM:SS" is 20 characters; the millis follow after a dot.
  if (line.charCodeAt(lb + 21) !== 46 || line.charCodeAt(lb + 25) !== 93) {
    const t = parseClfDate(line, lb + 1, utcOffsetMinutes, true);
    if (Number.isNaN(t)) return false;
    out.time = t;
  } else {
    if (!line.startsWith(cache.key, lb + 1) || cache.key.length === 0) {
      const key = line.slice(lb + 1, lb + 21);
      const t = parseClfDate(key, 0, utcOffsetMinutes, false);
      if (Number.isNaN(t)) return false;
      cache.key = key;
      cache.ms = t;
    }
    const m =
      (line.charCodeAt(lb + 22) - 48) * 100 +
      (line.charCodeAt(lb + 23) - 48) * 10 +
      (line.charCodeAt(lb + 24) - 48);
    if (!(m >= 0 && m <= 999)) return false;
    out.time = cache.ms + m;
  }
  const fs = lb + 27;
  const fe = line.indexOf(' ', fs);
  if (fe === -1) return false;
  const be = line.indexOf(' ', fe + 1);
  if (be === -1) return false;
  const slash = line.indexOf('/', fe + 1);
  if (slash === -1 || slash > be) return false;
  const te = line.indexOf(' ', be + 1);
  if (te === -1) return false;
  const se = line.indexOf(' ', te + 1);
  if (se !== te + 4) return false;
  const status =
    (line.charCodeAt(te + 1) - 48) * 100 +
    (line.charCodeAt(te + 2) - 48) * 10 +
    (line.charCodeAt(te + 3) - 48);
  if (!(status >= 0 && status <= 999)) return false;
  out.status = status;
  out.frontend = line.slice(fs, fe);
  out.backend = line.slice(fe + 1, slash);
  // "<NOSRV>" and "<STATS>" both start with '<', which no server name can.
  if (line.charCodeAt(slash + 1) === 60) {
    out.server = undefined;
    out.noServer = line.startsWith('<NOSRV>', slash + 1);
    if (out.noServer) {
      const q = line.indexOf('"', se);
      const s1 = q === -1 ? -1 : line.indexOf(' ', q);
      const s2 = s1 === -1 ? -1 : line.indexOf(' ', s1 + 1);
      out.path = s1 === -1 ? undefined : line.slice(s1 + 1, s2 === -1 ? line.lastIndexOf('"') : s2);
    }
  } else {
    out.server = line.slice(slash + 1, be);
    out.noServer = false;
  }
  return true;
}

const EVENT =
  /(Health check for (backup )?server \S+ (succeeded|failed)|(Backup )?Server \S+\/\S+ (is |enters |was |leaves |changed )|Proxy \S+ (started|stopped)|backend \S+ has no server available)/;

/**
 * True for a line HAProxy logs about itself rather than a request: a health check result (`option
 * log-health-checks`), a server going UP/DOWN/into maintenance or drain, a proxy starting or stopping.
 * https://docs.haproxy.org/2.6/configuration.html#4.2-option%20log-health-checks
 */
export function isHaproxyEventLine(line: string): boolean {
  return EVENT.test(line);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Finds the `[dd/Mon/yyyy:` that opens HAProxy's `%tr` field, skipping any syslog header in front. */
function findDateBracket(line: string): number {
  let p = line.indexOf('[');
  while (p !== -1) {
    if (
      line.charCodeAt(p + 3) === 47 &&
      line.charCodeAt(p + 7) === 47 &&
      line.charCodeAt(p + 12) === 58 &&
      isDigit(line.charCodeAt(p + 1)) &&
      p > 0 &&
      line.charCodeAt(p - 1) === 32
    ) {
      return p;
    }
    p = line.indexOf('[', p + 1);
  }
  return -1;
}

function intOr(s: string, fallback: number): number {
  if (s.length === 0) return fallback;
  const start = s.charCodeAt(0) === 43 ? 1 : 0; // '+' from logasap / redispatch
  let v = 0;
  let neg = false;
  let i = start;
  if (s.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  if (i >= s.length) return fallback;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return fallback;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

/**
 * Parses one HAProxy HTTP log line (`option httplog`), with or without a syslog header (RFC3164, RFC5424, or
 * `format raw`), to a record; `undefined` when the line is not an httplog line. `%tr` carries no zone, so
 * `utcOffsetMinutes` says what zone HAProxy's clock is in (0 = UTC).
 * Format: https://docs.haproxy.org/2.6/configuration.html#8.2.3
 */
export function parseHaproxyHttpLogLine(line: string, utcOffsetMinutes = 0): HaproxyLogRecord | undefined {
  const lb = findDateBracket(line);
  if (lb === -1) return undefined;
  // client_ip:client_port is the token right before the date.
  const clientStart = line.lastIndexOf(' ', lb - 2) + 1;
  const clientTok = line.slice(clientStart, lb - 1);
  const colon = clientTok.lastIndexOf(':');
  const client = colon === -1 ? clientTok : clientTok.slice(0, colon);
  const clientPort = colon === -1 ? 0 : intOr(clientTok.slice(colon + 1), 0);
  const rb = line.indexOf(']', lb);
  if (rb === -1) return undefined;
  const time = parseClfDate(line, lb + 1, utcOffsetMinutes, true);
  if (Number.isNaN(time)) return undefined;
  let pos = rb + 2;
  const next = (): string | undefined => {
    if (pos >= line.length) return undefined;
    const sp = line.indexOf(' ', pos);
    const tok = sp === -1 ? line.slice(pos) : line.slice(pos, sp);
    pos = sp === -1 ? line.length : sp + 1;
    return tok;
  };
  const frontend = next();
  const bs = next();
  const timersTok = next();
  const statusTok = next();
  const bytesTok = next();
  const cookieTok = next(); // captured request cookie (`capture cookie`), `-` when none
  next(); // captured response cookie
  const termination = next();
  const conns = next();
  const queues = next();
  if (!frontend || !bs || !timersTok || !statusTok || !bytesTok || !termination || !conns || !queues)
    return undefined;
  const slash = bs.indexOf('/');
  if (slash === -1) return undefined;
  const backend = bs.slice(0, slash);
  const serverField = bs.slice(slash + 1);
  const t = timersTok.split('/');
  if (t.length !== 5) return undefined;
  const status = intOr(statusTok, Number.NaN);
  if (Number.isNaN(status) || termination.length !== 4) return undefined;
  const c = conns.split('/');
  const q = queues.split('/');
  if (c.length !== 5 || q.length !== 2) return undefined;
  // Header captures ({...}) may contain spaces; the request is always the last, quoted field.
  const q1 = line.indexOf('"', pos);
  let request = '';
  let method: string | undefined;
  let path: string | undefined;
  if (q1 !== -1) {
    const q2 = line.lastIndexOf('"');
    request = q2 > q1 ? line.slice(q1 + 1, q2) : line.slice(q1 + 1);
    const s1 = request.indexOf(' ');
    if (s1 !== -1) {
      method = request.slice(0, s1);
      const s2 = request.indexOf(' ', s1 + 1);
      path = s2 === -1 ? request.slice(s1 + 1) : request.slice(s1 + 1, s2);
    }
  }
  const noise =
    serverField === '<NOSRV>'
      ? haproxyNoise(status, termination.charCodeAt(0), termination.charCodeAt(1))
      : undefined;
  const noServer = serverField === '<NOSRV>' && noise === undefined;
  return {
    time,
    client,
    clientPort,
    frontend,
    backend,
    serverField,
    server: serverField === '<NOSRV>' || serverField === '<STATS>' ? undefined : serverField,
    noServer,
    status,
    method,
    path,
    timers: {
      TR: intOr(t[0]!, -1),
      Tw: intOr(t[1]!, -1),
      Tc: intOr(t[2]!, -1),
      Tr: intOr(t[3]!, -1),
      Ta: intOr(t[4]!, -1),
    },
    bytesRead: intOr(bytesTok, 0),
    termination,
    ...(noise !== undefined ? { noise } : {}),
    ...(cookieTok && cookieTok !== '-' ? { cookie: cookieTok } : {}),
    retries: intOr(c[4]!, 0),
    srvQueue: intOr(q[0]!, 0),
    backendQueue: intOr(q[1]!, 0),
    request,
  };
}
