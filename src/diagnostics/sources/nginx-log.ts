import type { AccessRecord } from './access-record.js';
import { nginxNoise } from './client-noise.js';
import { parseClfDate, parseUtcOffset } from './lines.js';

/** nginx's predefined `combined` format, used when a target gives no `logFormat`. */
export const NGINX_COMBINED =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** A parsed nginx access log line: the normalized record plus every variable the format captured, by name. */
export interface NginxLogRecord extends AccessRecord {
  /** Addresses nginx tried, in order (`$upstream_addr` split on `, ` and ` : `); the last one answered. */
  upstreamAddrs: string[];
  vars: Record<string, string>;
}

/** A compiled `log_format`: `parse(line)` returns a record, or `undefined` for a line the format does not match. */
export interface NginxLogParser {
  variables: string[];
  json: boolean;
  parse(line: string): NginxLogRecord | undefined;
}

type Part = { lit: string } | { v: string };

/** Variables whose values are lists like `a:80, b:80 : c:80` and so may contain spaces. */
const LIST_VARS = new Set([
  'upstream_addr',
  'upstream_status',
  'upstream_response_time',
  'upstream_connect_time',
  'upstream_header_time',
  'upstream_bytes_received',
  'upstream_response_length',
]);

function tokenize(format: string): Part[] {
  const parts: Part[] = [];
  const re = /\$\{([a-zA-Z0-9_]+)\}|\$([a-zA-Z0-9_]+)/g;
  let last = 0;
  for (const m of format.matchAll(re)) {
    if (m.index > last) parts.push({ lit: format.slice(last, m.index) });
    parts.push({ v: (m[1] ?? m[2])! });
    last = m.index + m[0].length;
  }
  if (last < format.length) parts.push({ lit: format.slice(last) });
  return parts;
}

/**
 * Compiles an nginx `log_format` string to a line parser, as GoAccess does: literals anchor the
 * variables between them; list-valued `$upstream_*` variables may span `, ` / ` : ` separators; a format that is a
 * JSON object (`escape=json`) is parsed with JSON.parse and mapped back to variables by key. `$time_local` is
 * read with its zone, `$time_iso8601` and `$msec` too. Throws when the format has two variables with no
 * literal between them (ambiguous).
 * Format: https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format
 */
export function compileNginxLogFormat(format: string): NginxLogParser {
  const trimmed = format.trim();
  if (trimmed.startsWith('{')) return compileJson(trimmed);
  const parts = tokenize(format);
  for (let i = 1; i < parts.length; i++) {
    if ('v' in parts[i]! && 'v' in parts[i - 1]!) {
      throw new Error(
        `log format: $${(parts[i - 1] as { v: string }).v} and $${(parts[i] as { v: string }).v} have no separator`,
      );
    }
  }
  const variables = parts.flatMap((p) => ('v' in p ? [p.v] : []));
  const parse = (line: string): NginxLogRecord | undefined => {
    const vars: Record<string, string> = {};
    let pos = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if ('lit' in p) {
        if (!line.startsWith(p.lit, pos)) return undefined;
        pos += p.lit.length;
        continue;
      }
      const nextLit = (parts[i + 1] as { lit?: string } | undefined)?.lit;
      let end: number;
      if (nextLit === undefined) {
        end = line.length;
      } else if (LIST_VARS.has(p.v) && nextLit.startsWith(' ')) {
        end = listEnd(line, pos);
      } else {
        end = line.indexOf(nextLit, pos);
        if (end === -1) return undefined;
      }
      vars[p.v] = line.slice(pos, end);
      pos = end;
    }
    if (pos !== line.length) return undefined;
    return toRecord(vars);
  };
  return { variables, json: false, parse };
}

/** End of a list value starting at `pos`: items separated by `, ` or ` : `. */
function listEnd(line: string, pos: number): number {
  let i = pos;
  for (;;) {
    const sp = line.indexOf(' ', i);
    if (sp === -1) return line.length;
    if (line.charCodeAt(sp - 1) === 44) {
      i = sp + 1; // "a:80, b:80"
      continue;
    }
    if (line.charCodeAt(sp + 1) === 58 && line.charCodeAt(sp + 2) === 32) {
      i = sp + 3; // "a:80 : b:80" (internal redirect to another group)
      continue;
    }
    return sp;
  }
}

function compileJson(format: string): NginxLogParser {
  const variables: string[] = [];
  // Replace every variable with a marker string so the format itself parses as JSON.
  const marked = format.replace(
    /"?(?:\$\{([a-zA-Z0-9_]+)\}|\$([a-zA-Z0-9_]+))"?/g,
    (_m, braced?: string, bare?: string) => {
      const name = (braced ?? bare)!;
      variables.push(name);
      return JSON.stringify(`\u0000${name}`);
    },
  );
  let template: unknown;
  try {
    template = JSON.parse(marked);
  } catch {
    throw new Error('log format looks like JSON but does not parse as JSON once variables are filled in');
  }
  const paths: { path: string[]; v: string }[] = [];
  const walk = (node: unknown, path: string[]) => {
    if (typeof node === 'string' && node.startsWith('\u0000')) paths.push({ path, v: node.slice(1) });
    else if (node && typeof node === 'object') {
      for (const [k, val] of Object.entries(node)) walk(val, [...path, k]);
    }
  };
  walk(template, []);
  const parse = (line: string): NginxLogRecord | undefined => {
    if (line.charCodeAt(0) !== 123) return undefined;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      return undefined;
    }
    const vars: Record<string, string> = {};
    for (const { path, v } of paths) {
      let cur: unknown = obj;
      for (const k of path)
        cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
      if (cur !== undefined && cur !== null) vars[v] = String(cur);
    }
    return toRecord(vars);
  };
  return { variables, json: true, parse };
}

function parseTime(vars: Record<string, string>): number {
  const local = vars.time_local;
  if (local !== undefined) {
    // "10/Oct/2000:13:55:36 -0700"
    const off = parseUtcOffset(local.slice(21));
    return parseClfDate(local, 0, Number.isNaN(off) ? 0 : off);
  }
  if (vars.time_iso8601 !== undefined) return Date.parse(vars.time_iso8601);
  if (vars.msec !== undefined) return Math.round(Number(vars.msec) * 1000);
  return Number.NaN;
}

/** The first `$cookie_<name>` the format logs with a value (nginx logs `-` or nothing when absent), as `name=value`. */
function sessionCookie(vars: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(vars))
    if (k.startsWith('cookie_') && v !== '' && v !== '-') return `${k.slice(7)}=${v}`;
  return undefined;
}

function toRecord(vars: Record<string, string>): NginxLogRecord | undefined {
  const time = parseTime(vars);
  if (Number.isNaN(time)) return undefined;
  const statusRaw = vars.status;
  const status = statusRaw === undefined ? 0 : Number(statusRaw);
  if (!Number.isInteger(status)) return undefined;
  let method = vars.request_method;
  let path = vars.request_uri ?? vars.uri;
  if (vars.request !== undefined) {
    const s1 = vars.request.indexOf(' ');
    if (s1 !== -1) {
      method ??= vars.request.slice(0, s1);
      const s2 = vars.request.indexOf(' ', s1 + 1);
      path ??= s2 === -1 ? vars.request.slice(s1 + 1) : vars.request.slice(s1 + 1, s2);
    }
  }
  const ua = vars.upstream_addr;
  const upstreamAddrs = ua === undefined || ua === '-' || ua === '' ? [] : ua.split(/, | : /);
  const last = upstreamAddrs[upstreamAddrs.length - 1];
  // With no live server nginx logs the upstream group's name instead of an address.
  const noServer = last !== undefined && !last.includes(':') && !last.startsWith('unix');
  // A request that reached no upstream and that nginx answered 400/408/499/... is the client's doing.
  const noise = upstreamAddrs.length === 0 ? nginxNoise(status) : undefined;
  // With retries, $upstream_status lists one status per address tried; the earlier ones failed.
  const statuses = vars.upstream_status?.split(/, | : /) ?? [];
  const failedUpstreams = upstreamAddrs
    .slice(0, -1)
    .filter((_, i) => statuses[i] === undefined || /^(502|504|-)$/.test(statuses[i]!));
  const answered =
    statuses.length === upstreamAddrs.length ? Number(statuses[statuses.length - 1]) : Number.NaN;
  const cookie = sessionCookie(vars);
  return {
    ...(cookie !== undefined ? { cookie } : {}),
    ...(Number.isInteger(answered) ? { serverStatus: answered } : {}),
    ...(noise !== undefined ? { noise } : {}),
    ...(failedUpstreams.length > 0 ? { failedUpstreams } : {}),
    time,
    client: vars.remote_addr ?? '-',
    frontend: vars.server_name ?? vars.host,
    backend: noServer ? last : undefined,
    server: noServer ? undefined : last,
    noServer,
    status,
    method,
    path,
    upstreamAddrs,
    vars,
  };
}
