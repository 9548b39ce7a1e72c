/** Worker start-up warm-up of the HAProxy log scanner: ~13 MiB of scanner memory reserved, then a ~2 MiB synthetic log (temp dir, removed) scanned 4 times; times in ms, memory in MiB; errors reject warmLogScanner, startLogScanWarmup only logs them. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../logger.js';
import { reserveScanMemory, summarizeHaproxyHttpLog } from './haproxy-log-scan.js';
import type { LogWindowSummary } from './log-window.js';

/** Base time of the synthetic log (UTC) and the spacing of its lines: a new minute every 1,200 lines. */
const BASE = Date.UTC(2024, 1, 27, 10, 0, 0);
const STEP_MS = 50;
/** Between passes, for V8's background compiler (the pause costs no CPU). */
const PAUSE_MS = 20;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SERVERS = ['web-01', 'web-01', 'web-01', 'web-02', 'web-03', 'web-04', 'app-1', 'web-02'];
const PATHS = ['/checkout', '/cart', '/api/v1/orders?id=42', '/static/app.js', '/login', '/', '/healthz'];
const BYTES = [87, 312, 845, 1_204, 4_096, 9_876, 23_456, 187_654, 0, 512];
const REQ_COOKIES = ['-', '-', 'SERVERID=web-01', '-', 'session=3f9a1c', '-', 'SERVERID=web-02', '-'];
const RES_COOKIES = ['-', '-', '-', 'SERVERID=web-01', '-', '-', '-', 'lang=en'];

const p2 = (n: number) => String(n).padStart(2, '0');

/**
 * Synthetic HAProxy 2.6 `option httplog` lines behind an RFC 3164 syslog header, `STEP_MS` apart from `BASE`,
 * with what the scanner branches on: several backends and servers, `<NOSRV>` lines that are client noise and
 * ones that are not, 2xx-5xx and -1 statuses, byte counts of 1 to 6 digits, captured cookies `-` and
 * `name=value`, termination states with and without `SC`, new minutes, unique and repeated client addresses;
 * every 997th line is a server event (not a request), every 1,499th ends in CRLF.
 */
export function warmupLog(lines: number): Buffer {
  // Each line is written out as soon as it is made, so no line string outlives a young-generation GC.
  let out = Buffer.alloc(lines * 200);
  let at = 0;
  const push = (line: string) => {
    if (at + line.length > out.length) {
      const grown = Buffer.alloc(out.length * 2 + line.length);
      out.copy(grown, 0, 0, at);
      out = grown;
    }
    at += out.write(line, at, 'latin1');
  };
  let second = -1;
  let syslog = '';
  let clf = '';
  for (let i = 0; i < lines; i++) {
    const t = BASE + i * STEP_MS;
    if (Math.floor(t / 1000) !== second) {
      second = Math.floor(t / 1000);
      const d = new Date(t);
      const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
      const mon = MONTHS[d.getUTCMonth()]!;
      syslog = `${mon} ${p2(d.getUTCDate())} ${hms} lb1 haproxy[1234]:`;
      clf = `${p2(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${hms}`;
    }
    if (i % 997 === 500) {
      push(`${syslog} Server web/web-02 is DOWN, reason: Layer4 timeout, check duration: 2001ms.\n`);
      continue;
    }
    const ms = t % 1000;
    const date = `${clf}.${ms < 100 ? '0' : ''}${ms < 10 ? '0' : ''}${ms}`;
    // A quarter of the requests come from 40 regulars; the rest each from a new address.
    const client =
      i % 4 === 1 ? `192.168.7.${10 + (i % 40)}` : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const si = (i >> 1) % 8;
    let bs = `${si === 6 ? 'api' : 'web'}/${SERVERS[si]}`;
    let status = i % 23 === 5 ? 502 : i % 17 === 3 ? 404 : i % 29 === 7 ? 301 : 200;
    let timers = `0/0/${i % 3}/${i % 120}/${1 + (i % 120)}`;
    let term = i % 23 === 5 ? 'SH--' : i % 8 === 2 ? '--VN' : '----';
    if (i % 41 === 9) {
      bs = 'api/<NOSRV>';
      status = 503;
      timers = '0/-1/-1/-1/0';
      term = 'SC--'; // no server available: not noise
    } else if (i % 53 === 11) {
      bs = 'web/<NOSRV>';
      status = 400;
      timers = '-1/-1/-1/-1/0';
      term = 'PR--'; // rejected before routing: client noise
    } else if (i % 61 === 13) {
      status = -1;
      term = 'CD--';
    } else if (i % 37 === 2) {
      term = 'SC--';
      status = 503;
    }
    const conns = `${10 + (i % 90)}/${10 + (i % 90)}/${i % 12}/${i % 5}/${i % 43 === 0 ? 1 : 0}`;
    push(
      `${syslog} ${client}:${1024 + ((i * 7) % 60000)} [${date}] www ${bs} ${timers} ${status} ${BYTES[i % 10]! + (i % 7)} ${REQ_COOKIES[i % 8]} ${RES_COOKIES[(i >> 2) % 8]} ${term} ${conns} 0/0 "${i % 9 === 4 ? 'POST' : 'GET'} ${PATHS[i % 7]} HTTP/1.1"${i % 1499 === 700 ? '\r\n' : '\n'}`,
    );
  }
  return out.subarray(0, at);
}

/** What {@link warmLogScanner} did: lines per pass, passes, the last pass's summary, and its own time in ms. */
export interface LogScanWarmup {
  lines: number;
  passes: number;
  summary: LogWindowSummary;
  ms: number;
}

/**
 * Runs the diagnostics' HAProxy log scanner ({@link summarizeHaproxyHttpLog}, as src/diagnostics/run.ts calls
 * it) `passes` times (default 4) over `lines` (default 12,000, ~2 MiB) synthetic lines written to a new
 * temporary directory under `dir` (default the OS temp dir), removed afterwards, so V8 optimizes the scanner
 * before a diagnosis needs it; resolves to {@link LogScanWarmup}, rejects when the file cannot be written or
 * read or `signal` aborts.
 *
 * The client cap is 4,000 rather than the diagnostics' 100,000 so that the capped-client branch runs too
 * (otherwise a real log's 100,001st client would meet code without type feedback and deoptimize the scanner),
 * and reads are 256 KiB, not 4 MiB, so that no synchronous stretch of it holds the event loop for long. First it
 * has the scanner allocate the client table and read buffers it keeps between scans ({@link reserveScanMemory},
 * ~13 MiB), which a first diagnosis would otherwise allocate and fault in page by page (~30-40 ms on 1M lines).
 */
export async function warmLogScanner(
  opts: { lines?: number; passes?: number; dir?: string; signal?: AbortSignal } = {},
): Promise<LogScanWarmup> {
  const t0 = performance.now();
  const lines = opts.lines ?? 12_000;
  const passes = Math.max(1, opts.passes ?? 4);
  const tmp = await mkdtemp(join(opts.dir ?? tmpdir(), 'incident-bot-log-warmup-'));
  try {
    const file = join(tmp, 'haproxy.log');
    await writeFile(file, warmupLog(lines), { signal: opts.signal });
    // The window leaves a minute out on either side, so the previous-window and after-window branches run.
    const from = new Date(BASE + 60_000);
    const to = new Date(BASE + Math.max(lines * STEP_MS - 60_000, 120_000));
    // First, so that the passes run on the memory the scanner keeps, as a diagnosis will (the client table grows
    // inside its reserved arrays).
    reserveScanMemory();
    let summary: LogWindowSummary | undefined;
    for (let k = 0; k < passes; k++) {
      // A pause lets V8's background compiler finish what the last pass marked, so the next one runs it.
      if (k > 0) await new Promise((r) => setTimeout(r, PAUSE_MS));
      summary = await summarizeHaproxyHttpLog(file, {
        from,
        to,
        signal: opts.signal,
        utcOffsetMinutes: 0,
        maxClients: 4_000,
        chunkBytes: 256 * 1024,
      });
    }
    return { lines, passes, summary: summary!, ms: performance.now() - t0 };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * Starts {@link warmLogScanner} `delayMs` (default 1,000) after the call, off the caller's path; `stop()`
 * aborts it and resolves once its temporary files are gone. Never rejects: a failure is logged as a warning,
 * success at debug with its time (ms), heap and RSS growth (MiB).
 */
export function startLogScanWarmup(
  log: Logger,
  opts: { delayMs?: number; dir?: string } = {},
): { done: Promise<LogScanWarmup | undefined>; stop: () => Promise<void> } {
  const ac = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, opts.delayMs ?? 1000);
    timer.unref();
    ac.signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  }).then(async () => {
    if (ac.signal.aborted) return undefined;
    const before = process.memoryUsage();
    try {
      const r = await warmLogScanner({ dir: opts.dir, signal: ac.signal });
      const after = process.memoryUsage();
      log.debug(
        {
          ms: Math.round(r.ms),
          lines: r.lines * r.passes,
          heapMiB: +((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1),
          rssMiB: +((after.rss - before.rss) / 2 ** 20).toFixed(1),
        },
        'log scanner warmed up',
      );
      return r;
    } catch (err) {
      if (!ac.signal.aborted)
        log.warn({ err: (err as Error).message }, 'log scanner warm-up failed; the first scan runs cold');
      return undefined;
    }
  });
  return {
    done,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}
