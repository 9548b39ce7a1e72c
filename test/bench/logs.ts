import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bench, printTable, timed } from './common.js';

const SIZES = (process.env.BENCH_LOG_LINES ?? '1000000,10000000').split(',').map(Number);
/** Cold, warm and halog runs per size, interleaved (each round one of each). */
const ROUNDS = Math.max(1, Number(process.env.BENCH_LOG_ROUNDS ?? 1));
const HALOG = ['/usr/bin/halog', '/usr/sbin/halog'].find((p) => existsSync(p));
const START = Date.UTC(2024, 1, 27, 10, 0, 0);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SERVERS = ['web-01', 'web-01', 'web-01', 'web-01', 'web-01', 'web-01', 'web-02', 'web-03'];
const PATHS = ['/checkout', '/cart', '/api/v1/orders?id=42', '/static/app.js', '/login'];

const p2 = (n: number) => String(n).padStart(2, '0');

/**
 * Writes `n` HAProxy 2.6 `option httplog` lines behind an RFC 3164 syslog header (what halog's
 * default `-s 5` expects), 1,000 requests a second from 10:00 UTC: backend `web` skewed 6:1:1 to
 * web-01, 2% 5xx, 1% `<NOSRV>` on backend `api`.
 */
function generate(path: string, n: number): void {
  const fd = openSync(path, 'w');
  let buf = '';
  let second = -1;
  let syslog = '';
  let clf = '';
  for (let i = 0; i < n; i++) {
    const t = START + i; // 1 ms apart
    if (Math.floor(t / 1000) !== second) {
      second = Math.floor(t / 1000);
      const d = new Date(t);
      const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
      const mon = MONTHS[d.getUTCMonth()]!;
      syslog = `${mon} ${p2(d.getUTCDate())} ${hms}`;
      clf = `${p2(d.getUTCDate())}/${mon}/${d.getUTCFullYear()}:${hms}`;
    }
    const date = `${clf}.${String(t % 1000).padStart(3, '0')}`;
    const noSrv = i % 100 === 7;
    const status = noSrv ? 503 : i % 50 === 3 ? 502 : 200;
    const bs = noSrv ? 'api/<NOSRV>' : `web/${SERVERS[i % SERVERS.length]}`;
    const timers = noSrv ? '0/-1/-1/-1/0' : `0/0/1/${i % 40}/${1 + (i % 40)}`;
    buf += `${syslog} lb1 haproxy[1234]: 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${1024 + (i % 60000)} [${date}] www ${bs} ${timers} ${status} ${200 + (i % 5000)} - - ${noSrv ? 'SC--' : '----'} 10/10/2/1/0 0/0 "GET ${PATHS[i % PATHS.length]} HTTP/1.1"\n`;
    if (buf.length > 4_000_000) {
      writeSync(fd, buf);
      buf = '';
    }
  }
  writeSync(fd, buf);
  closeSync(fd);
}

/** halog -srv: `#srv_name 1xx 2xx 3xx 4xx 5xx other tot_req ...`, one server per line. */
function parseHalogSrv(out: string): Record<string, number> {
  const servers: Record<string, number> = {};
  for (const line of out.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const f = line.trim().split(/\s+/);
    servers[f[0]!] = Number(f[7]);
  }
  return servers;
}

/** The HAProxy log source on 1M and 10M generated lines, next to `halog -srv`, each in its own process. */
export const logsBench: Bench = {
  name: 'logs',
  description: 'HAProxy log analysis (diagnostics log source) vs halog -srv: lines/s, ratio, peak RSS',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'ib-bench-logs-'));
    const rows: Record<string, unknown>[] = [];
    const warmRows: Record<string, unknown>[] = [];
    try {
      for (const n of SIZES) {
        const file = join(dir, `haproxy-${n}.log`);
        const g0 = performance.now();
        generate(file, n);
        const genMs = performance.now() - g0;
        const bytes = statSync(file).size;
        const from = new Date(START).toISOString();
        const to = new Date(START + n + 1000).toISOString();
        // The file was just written, so both readers see it in the page cache (24 GiB machines).
        for (let round = 1; round <= ROUNDS; round++) {
          const cold = await ours(file, from, to, false);
          const warm = await ours(file, from, to, true);
          let halog: Awaited<ReturnType<typeof timed>> | undefined;
          let halogServers: Record<string, number> = {};
          if (HALOG) {
            halog = await timed(HALOG, ['-srv', '-q'], { stdinFile: file });
            halogServers = parseHalogSrv(halog.stdout);
          }
          const halogMs = halog ? halog.wallMs : Number.NaN;
          const agree = (mine: OursResult) =>
            HALOG
              ? JSON.stringify(sortKeys(webOnly(mine.servers))) ===
                JSON.stringify(sortKeys(webOnly(halogServers)))
              : 'no halog';
          for (const r of [cold, warm])
            if (agree(r) === false)
              console.error('per-server counts differ', { ours: r.servers, halog: halogServers });
          rows.push({
            lines: n,
            round,
            MiB: bytes / 2 ** 20,
            generateS: genMs / 1000,
            oursWallS: cold.wallMs / 1000,
            oursScanS: cold.ms / 1000,
            oursLinesPerS: n / (cold.wallMs / 1000),
            oursScanLinesPerS: n / (cold.ms / 1000),
            oursPeakRssMiB: cold.maxRssKiB / 1024,
            halogWallS: halogMs / 1000,
            halogLinesPerS: n / (halogMs / 1000),
            halogPeakRssMiB: halog ? halog.maxRssKiB / 1024 : Number.NaN,
            wallRatio: cold.wallMs / halogMs,
            scanRatio: cold.ms / halogMs,
            countsAgree: agree(cold),
            unparsed: cold.problems.unparsable + cold.problems.binary + cold.problems.truncated,
          });
          const w = warm.warmup!;
          warmRows.push({
            lines: n,
            round,
            warmScanS: warm.ms / 1000,
            warmScanLinesPerS: n / (warm.ms / 1000),
            secondScanS: (warm.ms2 ?? Number.NaN) / 1000,
            coldScanS: cold.ms / 1000,
            halogWallS: halogMs / 1000,
            warmScanRatio: warm.ms / halogMs,
            coldScanRatio: cold.ms / halogMs,
            secondScanRatio: (warm.ms2 ?? Number.NaN) / halogMs,
            warmupS: w.ms / 1000,
            warmupCpuS: w.cpuMs / 1000,
            warmupLines: w.lines,
            rssBeforeMiB: w.rssBeforeMiB,
            rssAfterMiB: w.rssAfterMiB,
            rssAfterGcMiB: w.rssAfterGcMiB,
            heapBeforeMiB: w.heapBeforeMiB,
            heapAfterMiB: w.heapAfterMiB,
            heapAfterGcMiB: w.heapAfterGcMiB,
            peakRssToWarmMiB: w.peakRssMiB,
            peakRssMiB: warm.maxRssKiB / 1024,
            countsAgree: agree(warm),
          });
        }
        rmSync(file);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    printTable(
      `HAProxy log analysis vs ${HALOG ?? 'halog (not installed)'} -srv (ratio = ours / halog), cold: a fresh process`,
      rows,
    );
    printTable(
      'Warm: the same scan in a process that first ran the worker start-up warm-up (log-scan-warmup.ts); its time, CPU and memory',
      warmRows,
    );
    return { halog: HALOG ?? null, rows, warmRows };
  },
};

interface OursResult {
  ms: number;
  ms2?: number;
  wallMs: number;
  maxRssKiB: number;
  lines: number;
  inWindow: number;
  servers: Record<string, number>;
  problems: { unparsable: number; binary: number; truncated: number };
  warmup?: {
    ms: number;
    cpuMs: number;
    lines: number;
    rssBeforeMiB: number;
    rssAfterMiB: number;
    rssAfterGcMiB: number;
    heapBeforeMiB: number;
    heapAfterMiB: number;
    heapAfterGcMiB: number;
    peakRssMiB: number;
  };
}

/** One child process of log-check.ts (`warm`: after the worker's warm-up). */
async function ours(file: string, from: string, to: string, warm: boolean): Promise<OursResult> {
  const run = await timed(process.execPath, [
    ...(warm ? ['--expose-gc'] : []),
    '--import',
    'tsx',
    'test/bench/log-check.ts',
    file,
    from,
    to,
    ...(warm ? ['--warm'] : []),
  ]);
  const r = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as OursResult;
  return { ...r, wallMs: run.wallMs, maxRssKiB: run.maxRssKiB };
}

const webOnly = (s: Record<string, number>) =>
  Object.fromEntries(Object.entries(s).filter(([k]) => k.startsWith('web/')));

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
