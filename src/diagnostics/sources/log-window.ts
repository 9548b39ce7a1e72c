import type { AccessRecord } from './access-record.js';

/** Fills the reused `out` from one line and returns true, or returns false for a line it cannot parse. */
export type AccessLineParser = (line: string, out: AccessRecord) => boolean;

/** Adapts a record-returning parser (nginx, full HAProxy) to an {@link AccessLineParser}. */
export function toLineParser(parse: (line: string) => AccessRecord | undefined): AccessLineParser {
  return (line, out) => {
    const rec = parse(line);
    if (!rec) return false;
    Object.assign(out, rec);
    out.backend = rec.backend;
    out.server = rec.server;
    out.path = rec.path;
    out.termination = rec.termination;
    out.noise = rec.noise;
    out.failedUpstreams = rec.failedUpstreams;
    out.serverStatus = rec.serverStatus;
    out.cookie = rec.cookie;
    return true;
  };
}

import { isHaproxyEventLine } from './haproxy-log.js';
import { forEachLine, type LineProblems, looksBinary } from './lines.js';

/** Requests one server answered in the window. */
export interface ServerTally {
  backend: string;
  server: string;
  requests: number;
  errors5xx: number;
  /** Requests whose connection to this server failed as the load balancer saw it (HAProxy `SC`); HAProxy logs only. */
  connectFailures?: number;
}

/** Requests the proxy could not give to any server, per backend (or nginx upstream group). */
export interface NoServerTally {
  backend: string;
  frontend?: string;
  requests: number;
  statuses: Record<string, number>;
  /** Up to 5 distinct request paths, to show which route is broken. */
  samplePaths: string[];
}

/**
 * One session cookie's requests to one backend in the window that reached a server (see `AccessRecord.cookie`):
 * the server that took most of them (the first such, on a tie) and how many it took (a cookie that sticks has
 * `onServer === requests`; the first requests of a new session can race to several servers before it sticks).
 */
export interface CookieTally {
  cookie: string;
  requests: number;
  backend: string;
  server: string;
  onServer: number;
}

/** A cookie's requests while counting: `on` holds `[backend, server, requests]` per server, in first-seen order. */
export interface CookieCount {
  cookie: string;
  requests: number;
  on: [string, string, number][];
}

/** Counts one request of cookie `c` (an entry of `cookies`, or a new one) answered by `backend`/`server`. */
export function countCookie(
  cookies: Map<string, CookieCount>,
  cookie: string,
  backend: string,
  server: string,
  max: number,
  n = 1,
): boolean {
  let c = cookies.get(cookie);
  if (!c) {
    if (cookies.size >= max) return false;
    c = { cookie, requests: 0, on: [] };
    cookies.set(cookie, c);
  }
  c.requests += n;
  const at = c.on.find((o) => o[0] === backend && o[1] === server);
  if (at) at[2] += n;
  else c.on.push([backend, server, n]);
  return true;
}

/** A one-pass summary of an access log over `[from, to)` and the equally long window before it (epoch ms). */
export interface LogWindowSummary {
  from: number;
  to: number;
  lines: number;
  inWindow: number;
  /** Requests in `[from - (to - from), from)`: the baseline for traffic-volume. */
  previousWindow: number;
  /** Earliest and latest request time seen anywhere in the file (epoch ms). */
  firstTime?: number;
  lastTime?: number;
  servers: ServerTally[];
  noServer: NoServerTally[];
  errors5xx: number;
  /** Client noise in the window per reason ("malformed request rejected before routing": 1); never a finding. */
  noise?: Record<string, number>;
  /** Busiest client addresses in the window, most requests first (at most 10). */
  topClients: { client: string; requests: number }[];
  distinctClients: number;
  /** True when more distinct clients were seen than tracked (counts for the rest are lost). */
  clientsCapped: boolean;
  /**
   * Busiest session cookies in the window per backend (at most 10 each; none past the cap), most requests first;
   * absent when the log carries none.
   */
  topCookies?: CookieTally[];
  /** Distinct session cookies in the window (tracked up to `maxClients`); absent when the log carries none. */
  distinctCookies?: number;
  /** True when more distinct cookies were seen than tracked. */
  cookiesCapped?: boolean;
  problems: LineProblems;
}

/** Options for {@link summarizeAccessLog}: the incident window, a cap on tracked client addresses and on tracked session cookies (each default 100 000), abort signal. */
export interface SummarizeOptions {
  from: Date;
  to: Date;
  maxClients?: number;
  signal?: AbortSignal;
}

/**
 * Reads an access log once with bounded memory and tallies the window: per-server requests and 5xx,
 * no-server requests per backend, client addresses, and the previous window's volume. `parse` is a line
 * parser (HAProxy httplog or a compiled nginx format); unparsable, binary and over-long lines are counted in
 * `problems`. Rejects only when the file cannot be read.
 */
export async function summarizeAccessLog(
  path: string,
  parse: AccessLineParser,
  opts: SummarizeOptions,
): Promise<LogWindowSummary> {
  const from = opts.from.getTime();
  const to = opts.to.getTime();
  const prevFrom = from - (to - from);
  const maxClients = opts.maxClients ?? 100_000;
  const servers = new Map<string, ServerTally>();
  const noServer = new Map<string, NoServerTally>();
  const noise: Record<string, number> = {};
  const clients = new Map<string, number>();
  let clientsCapped = false;
  const cookies = new Map<string, CookieCount>();
  let cookiesCapped = false;
  const problems: LineProblems = { unparsable: 0, binary: 0, truncated: 0, events: 0 };
  let inWindow = 0;
  let previousWindow = 0;
  let errors5xx = 0;
  let firstTime: number | undefined;
  let lastTime: number | undefined;
  const rec: AccessRecord = { time: 0, client: '', noServer: false, status: 0 };
  const { lines, truncated } = await forEachLine(
    path,
    (line) => {
      if (line.length === 0) return;
      if (!parse(line, rec)) {
        if (looksBinary(line)) problems.binary++;
        else if (isHaproxyEventLine(line)) problems.events = (problems.events ?? 0) + 1;
        else problems.unparsable++;
        return;
      }
      const t = rec.time;
      if (firstTime === undefined || t < firstTime) firstTime = t;
      if (lastTime === undefined || t > lastTime) lastTime = t;
      if (t < from) {
        if (t >= prevFrom) previousWindow++;
        return;
      }
      if (t >= to) return;
      inWindow++;
      const is5xx = rec.status >= 500 && rec.status <= 599;
      if (is5xx) errors5xx++;
      const c = clients.get(rec.client);
      if (c !== undefined) clients.set(rec.client, c + 1);
      else if (clients.size < maxClients) clients.set(rec.client, 1);
      else clientsCapped = true;
      const backend = rec.backend ?? '';
      for (const addr of rec.failedUpstreams ?? []) {
        const key = `${backend}\u0000${addr}`;
        let st = servers.get(key);
        if (!st) {
          st = { backend, server: addr, requests: 0, errors5xx: 0 };
          servers.set(key, st);
        }
        st.connectFailures = (st.connectFailures ?? 0) + 1;
      }
      if (rec.noise !== undefined) {
        noise[rec.noise] = (noise[rec.noise] ?? 0) + 1;
      } else if (rec.noServer) {
        let ns = noServer.get(backend);
        if (!ns) {
          ns = { backend, frontend: rec.frontend, requests: 0, statuses: {}, samplePaths: [] };
          noServer.set(backend, ns);
        }
        ns.requests++;
        const s = String(rec.status);
        ns.statuses[s] = (ns.statuses[s] ?? 0) + 1;
        if (rec.path && ns.samplePaths.length < 5 && !ns.samplePaths.includes(rec.path))
          ns.samplePaths.push(rec.path);
      } else if (rec.server !== undefined) {
        const key = `${backend}\u0000${rec.server}`;
        let st = servers.get(key);
        if (!st) {
          st = { backend, server: rec.server, requests: 0, errors5xx: 0 };
          if (rec.termination !== undefined) st.connectFailures = 0;
          servers.set(key, st);
        }
        st.requests++;
        // The server's own answer when the log has it (nginx `$upstream_status`), else what the client got:
        // a 5xx counts against the server only when the server gave it.
        const s = rec.serverStatus ?? rec.status;
        if (s >= 500 && s <= 599) st.errors5xx++;
        if (rec.termination?.startsWith('SC')) st.connectFailures = (st.connectFailures ?? 0) + 1;
        if (rec.cookie !== undefined && !countCookie(cookies, rec.cookie, backend, rec.server, maxClients))
          cookiesCapped = true;
      }
    },
    { signal: opts.signal },
  );
  problems.truncated = truncated;
  const topClients = [...clients.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([client, requests]) => ({ client, requests }));
  return {
    from,
    to,
    lines,
    inWindow,
    previousWindow,
    firstTime,
    lastTime,
    servers: [...servers.values()],
    noServer: [...noServer.values()],
    errors5xx,
    noise,
    topClients,
    distinctClients: clients.size,
    clientsCapped,
    ...cookieSummary(cookies, cookiesCapped),
    problems,
  };
}

/**
 * The summary's cookie fields from the tallies in first-seen order (ties keep it); none when no cookie was seen.
 * Past the cap (more than `maxClients` distinct cookies) no per-cookie counts are given: which ones were tracked
 * depends on how the file was read, and so many sessions leave none an obvious share.
 */
export function cookieSummary(
  cookies: Map<string, CookieCount>,
  capped: boolean,
): Pick<LogWindowSummary, 'topCookies' | 'distinctCookies' | 'cookiesCapped'> {
  if (cookies.size === 0) return {};
  if (capped) return { topCookies: [], distinctCookies: cookies.size, cookiesCapped: true };
  const perBackend = new Map<string, CookieTally[]>();
  for (const { cookie, on } of cookies.values()) {
    const mine = new Map<string, CookieTally>();
    for (const [backend, server, n] of on) {
      const t = mine.get(backend);
      if (!t) mine.set(backend, { cookie, requests: n, backend, server, onServer: n });
      else {
        t.requests += n;
        if (n > t.onServer) {
          t.server = server;
          t.onServer = n;
        }
      }
    }
    for (const t of mine.values()) {
      const list = perBackend.get(t.backend) ?? [];
      list.push(t);
      perBackend.set(t.backend, list);
    }
  }
  const topCookies = [...perBackend.values()]
    .flatMap((list) => list.sort((a, b) => b.requests - a.requests).slice(0, 10))
    .sort((a, b) => b.requests - a.requests);
  return { topCookies, distinctCookies: cookies.size, cookiesCapped: capped };
}

/** Renders line problems as notes ("skipped 12 unparsable lines"); empty when there were none. */
export function problemNotes(p: LineProblems, what = 'log'): string[] {
  const notes: string[] = [];
  if (p.unparsable)
    notes.push(`${what}: skipped ${p.unparsable} unparsable line${p.unparsable === 1 ? '' : 's'}`);
  if (p.binary) notes.push(`${what}: skipped ${p.binary} binary/garbled line${p.binary === 1 ? '' : 's'}`);
  if (p.events)
    notes.push(
      `${what}: ${p.events} load balancer event line${p.events === 1 ? '' : 's'} (health checks, server state changes), not requests`,
    );
  if (p.truncated)
    notes.push(`${what}: skipped ${p.truncated} over-long line${p.truncated === 1 ? '' : 's'}`);
  return notes;
}
