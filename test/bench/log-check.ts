// Child process of the log-analysis benchmark (run under /usr/bin/time -v for peak RSS): the
// HAProxy log source exactly as the diagnostics runner calls it (src/diagnostics/run.ts), over the
// whole file, then prints per-server counts and its own elapsed time as one JSON line.
// BENCH_LOG_THREADS=1 forces the single-thread scan (the default splits files of 512 MiB and more
// across min(cores, 4) threads), to compare the two.
import { summarizeHaproxyHttpLog } from '../../src/diagnostics/sources/haproxy-log-scan.js';

const [path, fromIso, toIso] = process.argv.slice(2);
const threads = process.env.BENCH_LOG_THREADS ? Number(process.env.BENCH_LOG_THREADS) : undefined;
const t0 = performance.now();
const s = await summarizeHaproxyHttpLog(path!, { from: new Date(fromIso!), to: new Date(toIso!), threads });
const ms = performance.now() - t0;
const servers = Object.fromEntries(s.servers.map((x) => [`${x.backend}/${x.server}`, x.requests]));
for (const ns of s.noServer) servers[`${ns.backend}/<NOSRV>`] = ns.requests;
process.stdout.write(
  `${JSON.stringify({ ms, threads: threads ?? 'default', lines: s.lines, inWindow: s.inWindow, problems: s.problems, servers, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
