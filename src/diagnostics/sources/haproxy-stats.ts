import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';

/** Known `show stat` columns this bot reads (HAProxy 2.6 management.txt §9.1); the rest stay in `raw`. */
const KNOWN = new Set([
  'pxname',
  'svname',
  'qcur',
  'qmax',
  'scur',
  'smax',
  'slim',
  'stot',
  'bin',
  'bout',
  'dreq',
  'dresp',
  'ereq',
  'econ',
  'eresp',
  'wretr',
  'wredis',
  'status',
  'weight',
  'act',
  'bck',
  'chkfail',
  'chkdown',
  'lastchg',
  'downtime',
  'qlimit',
  'pid',
  'iid',
  'sid',
  'throttle',
  'lbtot',
  'tracked',
  'type',
  'rate',
  'rate_lim',
  'rate_max',
  'check_status',
  'check_code',
  'check_duration',
  'hrsp_1xx',
  'hrsp_2xx',
  'hrsp_3xx',
  'hrsp_4xx',
  'hrsp_5xx',
  'hrsp_other',
  'hanafail',
  'req_rate',
  'req_rate_max',
  'req_tot',
  'cli_abrt',
  'srv_abrt',
  'comp_in',
  'comp_out',
  'comp_byp',
  'comp_rsp',
  'lastsess',
  'last_chk',
  'last_agt',
  'qtime',
  'ctime',
  'rtime',
  'ttime',
  'agent_status',
  'agent_code',
  'agent_duration',
  'check_desc',
  'agent_desc',
  'check_rise',
  'check_fall',
  'check_health',
  'agent_rise',
  'agent_fall',
  'agent_health',
  'addr',
  'cookie',
  'mode',
  'algo',
  'conn_rate',
  'conn_rate_max',
  'conn_tot',
  'intercepted',
  'dcon',
  'dses',
  'wrew',
  'connect',
  'reuse',
  'cache_lookups',
  'cache_hits',
  'srv_icur',
  'src_ilim',
  'qtime_max',
  'ctime_max',
  'rtime_max',
  'ttime_max',
  'eint',
  'idle_conn_cur',
  'safe_conn_cur',
  'used_conn_cur',
  'need_conn_est',
  'uweight',
  'agg_server_status',
  'agg_server_check_status',
  'agg_check_status',
  'srid',
  'sess_other',
  'h1sess',
  'h2sess',
  'h3sess',
  'req_other',
  'h1req',
  'h2req',
  'h3req',
  'proto',
  '-',
]);

/** One `show stat` row: `type` 0=frontend 1=backend 2=server 3=listener; numbers are undefined when the cell is empty. */
export interface StatsRow {
  pxname: string;
  svname: string;
  type: number;
  status: string;
  weight?: number;
  uweight?: number;
  act?: number;
  bck?: number;
  /** Cumulative sessions (one per HTTP request in `mode http`). */
  stot?: number;
  lbtot?: number;
  qcur?: number;
  scur?: number;
  chkfail?: number;
  chkdown?: number;
  /** Seconds since the last UP<->DOWN transition. */
  lastchg?: number;
  checkStatus?: string;
  checkDesc?: string;
  lastChk?: string;
  hrsp5xx?: number;
  hrsp2xx?: number;
  econ?: number;
  eresp?: number;
  addr?: string;
  algo?: string;
  mode?: string;
  raw: Record<string, string>;
}

/** Parsed `show stat` output plus what was skipped: rows whose cell count differs from the header, and columns this parser does not know. */
export interface StatsSnapshot {
  rows: StatsRow[];
  malformedRows: number;
  unknownColumns: string[];
}

/** Splits one CSV line (comma, optional `"` quoting with `""` escapes) as HAProxy emits it. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line.charCodeAt(i) === 34) {
      let v = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) {
          v += line.slice(i);
          i = line.length;
          break;
        }
        v += line.slice(i, q);
        if (line.charCodeAt(q + 1) === 34) {
          v += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(v);
      i++; // skip the comma
    } else {
      const c = line.indexOf(',', i);
      if (c === -1) {
        out.push(line.slice(i));
        break;
      }
      out.push(line.slice(i, c));
      i = c + 1;
    }
  }
  return out;
}

function num(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parses HAProxy `show stat` CSV (from `;csv` on the stats page, the `show stat` socket command, or a file)
 * by its `# pxname,svname,...` header line, as the doc requires for non-static fields.
 * Rows with a different cell count are counted in `malformedRows`; never throws.
 * Format: https://docs.haproxy.org/2.6/management.html#9.1
 */
export function parseHaproxyStatsCsv(text: string): StatsSnapshot {
  const lines = text.split(/\r?\n/);
  let header: string[] | undefined;
  const rows: StatsRow[] = [];
  let malformedRows = 0;
  for (const line of lines) {
    if (line.startsWith('#')) {
      header = splitCsvLine(line.replace(/^#\s*/, ''));
      // HAProxy ends every line with a comma, hence a trailing empty column name.
      if (header[header.length - 1] === '') header.pop();
      continue;
    }
    if (line.trim() === '') continue;
    if (!header) {
      malformedRows++;
      continue;
    }
    const cells = splitCsvLine(line);
    if (cells.length === header.length + 1 && cells[cells.length - 1] === '') cells.pop();
    if (cells.length !== header.length) {
      malformedRows++;
      continue;
    }
    const raw: Record<string, string> = {};
    for (let i = 0; i < header.length; i++) raw[header[i]!] = cells[i]!;
    const type = num(raw.type);
    if (!raw.pxname || !raw.svname || type === undefined) {
      malformedRows++;
      continue;
    }
    rows.push({
      pxname: raw.pxname,
      svname: raw.svname,
      type,
      status: raw.status ?? '',
      weight: num(raw.weight),
      uweight: num(raw.uweight),
      act: num(raw.act),
      bck: num(raw.bck),
      stot: num(raw.stot),
      lbtot: num(raw.lbtot),
      qcur: num(raw.qcur),
      scur: num(raw.scur),
      chkfail: num(raw.chkfail),
      chkdown: num(raw.chkdown),
      lastchg: num(raw.lastchg),
      checkStatus: raw.check_status || undefined,
      checkDesc: raw.check_desc || undefined,
      lastChk: raw.last_chk || undefined,
      hrsp5xx: num(raw.hrsp_5xx),
      hrsp2xx: num(raw.hrsp_2xx),
      econ: num(raw.econ),
      eresp: num(raw.eresp),
      addr: raw.addr || undefined,
      algo: raw.algo || undefined,
      mode: raw.mode || undefined,
      raw,
    });
  }
  const unknownColumns = (header ?? []).filter((h) => !KNOWN.has(h));
  return { rows, malformedRows: header ? malformedRows : malformedRows, unknownColumns };
}

/**
 * Reads raw `show stat` CSV from `source`: an `http(s)://` stats URL (append `;csv` yourself), `unix:/path`
 * (sends `show stat\n` on the admin socket), or a file path. Rejects on timeout (`timeoutMs`, default 3000),
 * non-2xx HTTP, or a connection error, with a message naming the source.
 * Format: https://docs.haproxy.org/2.6/management.html#9.3 (show stat)
 */
export async function fetchHaproxyStats(
  source: string,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  const signal = opts.signal
    ? AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs);
  if (/^https?:\/\//.test(source)) {
    let res: Response;
    try {
      res = await fetch(source, { signal });
    } catch (err) {
      throw new Error(`stats ${source} unreachable: ${reason(err)}`);
    }
    if (!res.ok) throw new Error(`stats ${source} answered HTTP ${res.status}`);
    return await res.text();
  }
  if (source.startsWith('unix:')) return await socketCommand(source.slice(5), 'show stat\n', signal);
  return await readFile(source, { encoding: 'utf8', signal });
}

/** Sends one command on a HAProxy stats/admin unix socket and resolves with everything it writes before closing. */
export function socketCommand(path: string, command: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = createConnection({ path });
    const onAbort = () => {
      sock.destroy();
      reject(new Error(`stats socket ${path}: timed out`));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    sock.on('connect', () => sock.end(command));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new Error(`stats socket ${path}: ${reason(err)}`));
    });
    sock.on('close', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

function reason(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) return `${err.message} (${cause.message})`;
    return err.message;
  }
  return String(err);
}
