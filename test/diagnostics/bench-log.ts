/**
 * Log-scan speed and memory vs HAProxy's own `halog -srv` on a generated 1M-line httplog (not a test: timings
 * vary). Each run is its own process, so peak RSS is the run's own; runs are interleaved and the best and median
 * of `rounds` are shown (wall and CPU time: on a shared machine CPU time is the steadier figure).
 * Everything is single-threaded: halog is, and ours runs on one JS thread (Node's reads happen on its I/O pool).
 * halog's wall time includes starting it (about a millisecond); ours is timed inside the process.
 * Run: node --import tsx test/diagnostics/bench-log.ts [lines] [rounds]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newScanCache, scanHaproxyHttpLogLine } from '../../src/diagnostics/sources/haproxy-log.js';
import { summarizeHaproxyHttpLog } from '../../src/diagnostics/sources/haproxy-log-scan.js';
import { type LogWindowSummary, summarizeAccessLog } from '../../src/diagnostics/sources/log-window.js';

interface RunResult {
  wallMs: number;
  cpuMs: number;
  maxRssMB: number;
  servers: string;
  inWindow: number;
}

const METHODS = {
  /** The line splitter and string scanner (what src/diagnostics/run.ts calls). */
  lines: (path: string, from: Date, to: Date) => {
    const cache = newScanCache();
    return summarizeAccessLog(path, (l, o) => scanHaproxyHttpLogLine(l, o, 0, cache), { from, to });
  },
  /** The byte scanner. */
  bytes: (path: string, from: Date, to: Date) => summarizeHaproxyHttpLog(path, { from, to }),
  /** Nothing: the process's own footprint, to read the others' RSS against. */
  idle: async (_path: string, from: Date, to: Date): Promise<LogWindowSummary | undefined> => {
    void from;
    void to;
    return undefined;
  },
};
type Method = keyof typeof METHODS;

if (process.argv[2] === '--child') {
  const [, , , name, path, from, to] = process.argv;
  // "-warm": time a second pass in the same process, as in the long-lived worker after its first diagnosis
  const method = name!.replace(/-warm$/, '') as Method;
  if (method !== name) await METHODS[method](path!, new Date(from!), new Date(to!));
  const cpu = process.cpuUsage();
  const t = performance.now();
  const s = await METHODS[method](path!, new Date(from!), new Date(to!));
  const wallMs = performance.now() - t;
  const c = process.cpuUsage(cpu);
  const out: RunResult = {
    wallMs,
    cpuMs: (c.user + c.system) / 1000,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    servers: JSON.stringify(s?.servers ?? []),
    inWindow: s?.inWindow ?? 0,
  };
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

const lines = Number(process.argv[2] ?? 1_000_000);
const rounds = Number(process.argv[3] ?? 7);
const dir = mkdtempSync(join(tmpdir(), 'bench-log-'));
const path = join(dir, 'haproxy.log');
const out = createWriteStream(path);
const base = Date.UTC(2024, 2, 12, 10, 0, 0);
const M = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');
let buf = '';
for (let i = 0; i < lines; i++) {
  const d = new Date(base + i * 3);
  const ts = `${p2(d.getUTCDate())}/${M[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  buf += `Mar 12 10:00:00 lb haproxy[123]: 10.0.${i % 50}.${i % 200}:${40000 + (i % 20000)} [${ts}] fe be/web${i % 3} 0/0/1/${i % 40}/${(i % 40) + 1} 200 512 - - ---- 1/1/0/0/0 0/0 "GET /api/x?i=${i} HTTP/1.1"\n`;
  if (buf.length > 1e6) {
    if (!out.write(buf)) await once(out, 'drain');
    buf = '';
  }
}
out.end(buf);
await once(out, 'finish');
const from = new Date(base).toISOString();
const to = new Date(base + 3 * lines + 1).toISOString();
const self = fileURLToPath(import.meta.url);

function ours(method: string): RunResult {
  const r = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', method, path, from, to], {
    encoding: 'utf8',
  });
  return JSON.parse(r) as RunResult;
}

function halog(): RunResult {
  const t = performance.now();
  // GNU time: user s, system s, max RSS KiB
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', 'halog', '-srv'], {
    stdio: [openSync(path, 'r'), 'ignore', 'pipe'],
    encoding: 'utf8',
  });
  const wallMs = performance.now() - t;
  const [u, s, rss] = r.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wallMs, cpuMs: (u! + s!) * 1000, maxRssMB: rss! / 1024, servers: '', inWindow: lines };
}

const NAMES = ['halog', 'lines', 'bytes', 'lines-warm', 'bytes-warm', 'idle'] as const;
const runs: Record<string, RunResult[]> = Object.fromEntries(NAMES.map((n) => [n, []]));
halog();
ours('bytes'); // page cache warm
for (let r = 0; r < rounds; r++) {
  for (const name of NAMES) runs[name]!.push(name === 'halog' ? halog() : ours(name));
}
if (runs.lines![0]!.servers !== runs.bytes![0]!.servers)
  throw new Error(`lines and bytes disagree: ${runs.lines![0]!.servers} vs ${runs.bytes![0]!.servers}`);
const min = (xs: number[]) => Math.min(...xs);
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const h = runs.halog!;
process.stdout.write(
  `${lines} lines, ${rounds} rounds; best (median) of each; ratio = best vs halog's best; cold = first pass in a fresh process, warm = second pass\n`,
);
for (const name of NAMES) {
  const rs = runs[name]!;
  const wall = rs.map((x) => x.wallMs);
  const cpu = rs.map((x) => x.cpuMs);
  const rate = name === 'idle' ? '' : `${((lines / min(wall)) * 1000).toFixed(0).padStart(9)} lines/s`;
  const ratio =
    name === 'idle'
      ? ''
      : `  ${(min(wall) / min(h.map((x) => x.wallMs))).toFixed(2)}x wall, ${(min(cpu) / min(h.map((x) => x.cpuMs))).toFixed(2)}x cpu`;
  process.stdout.write(
    `${name.padEnd(10)} wall ${min(wall).toFixed(0).padStart(5)} (${med(wall).toFixed(0)}) ms  cpu ${min(cpu).toFixed(0).padStart(5)} (${med(cpu).toFixed(0)}) ms  peak RSS ${max(
      rs.map((x) => x.maxRssMB),
    )
      .toFixed(0)
      .padStart(4)} MB  ${rate}${ratio}\n`,
  );
}
function max(xs: number[]): number {
  return Math.max(...xs);
}
rmSync(dir, { recursive: true, force: true });
