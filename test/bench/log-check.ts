// Child process of the log-analysis benchmark (run under /usr/bin/time -v for peak RSS): the
// HAProxy log source exactly as the diagnostics runner calls it (src/diagnostics/run.ts), over the
// whole file, then prints per-server counts and its own elapsed time as one JSON line.
import { newScanCache, scanHaproxyHttpLogLine } from '../../src/diagnostics/sources/haproxy-log.js';
import { summarizeAccessLog } from '../../src/diagnostics/sources/log-window.js';

const [path, fromIso, toIso] = process.argv.slice(2);
const cache = newScanCache();
const t0 = performance.now();
const s = await summarizeAccessLog(path!, (l, o) => scanHaproxyHttpLogLine(l, o, 0, cache), {
  from: new Date(fromIso!),
  to: new Date(toIso!),
});
const ms = performance.now() - t0;
const servers = Object.fromEntries(s.servers.map((x) => [`${x.backend}/${x.server}`, x.requests]));
for (const ns of s.noServer) servers[`${ns.backend}/<NOSRV>`] = ns.requests;
process.stdout.write(
  `${JSON.stringify({ ms, lines: s.lines, inWindow: s.inWindow, problems: s.problems, servers, maxRssBytes: process.resourceUsage().maxRSS * 1024 })}\n`,
);
