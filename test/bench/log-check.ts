// Child process of the log-analysis benchmark (run under /usr/bin/time -v for peak RSS): the
// HAProxy log source exactly as the diagnostics runner calls it (src/diagnostics/run.ts), over the
// whole file, then prints per-server counts and its own elapsed time as one JSON line.
// BENCH_LOG_THREADS=1 forces the single-thread scan (the default splits files of 512 MiB and more
// across min(cores, 4) threads), to compare the two.
// `--warm` first runs the worker process's start-up warm-up (src/diagnostics/sources/log-scan-warmup.ts),
// as a worker has before its first diagnosis, and reports its time and memory: RSS and V8 heap before it,
// right after it and after a full GC (run with --expose-gc for that), and the peak RSS up to then; and then
// scans twice (`ms`, `ms2`).

import { summarizeHaproxyHttpLog } from '../../src/diagnostics/sources/haproxy-log-scan.js';
import { warmLogScanner } from '../../src/diagnostics/sources/log-scan-warmup.js';

const warm = process.argv.includes('--warm');
const [path, fromIso, toIso] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const threads = process.env.BENCH_LOG_THREADS ? Number(process.env.BENCH_LOG_THREADS) : undefined;
const gc = (globalThis as { gc?: () => void }).gc;
const MiB = (n: number) => n / 2 ** 20;
let warmup: Record<string, number> | undefined;
if (warm) {
  gc?.();
  const before = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const r = await warmLogScanner();
  const cpu = process.cpuUsage(cpu0);
  const after = process.memoryUsage();
  const peakRssMiB = MiB(process.resourceUsage().maxRSS * 1024);
  gc?.();
  const afterGc = process.memoryUsage();
  warmup = {
    ms: r.ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    lines: r.lines * r.passes,
    rssBeforeMiB: MiB(before.rss),
    rssAfterMiB: MiB(after.rss),
    rssAfterGcMiB: MiB(afterGc.rss),
    heapBeforeMiB: MiB(before.heapUsed),
    heapAfterMiB: MiB(after.heapUsed),
    heapAfterGcMiB: MiB(afterGc.heapUsed),
    peakRssMiB,
  };
}
const t0 = performance.now();
const s = await summarizeHaproxyHttpLog(path!, { from: new Date(fromIso!), to: new Date(toIso!), threads });
const ms = performance.now() - t0;
// Warm, the same scan again: a worker after its first diagnosis.
let ms2: number | undefined;
if (warm) {
  const t1 = performance.now();
  await summarizeHaproxyHttpLog(path!, { from: new Date(fromIso!), to: new Date(toIso!), threads });
  ms2 = performance.now() - t1;
}
const servers = Object.fromEntries(s.servers.map((x) => [`${x.backend}/${x.server}`, x.requests]));
for (const ns of s.noServer) servers[`${ns.backend}/<NOSRV>`] = ns.requests;
process.stdout.write(
  `${JSON.stringify({ ms, ms2, threads: threads ?? 'default', lines: s.lines, inWindow: s.inWindow, problems: s.problems, servers, warmup, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
