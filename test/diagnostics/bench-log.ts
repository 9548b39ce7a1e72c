/**
 * Log-scan speed vs HAProxy's own `halog -srv` on a generated 1M-line httplog (not a test: timings vary).
 * Run: node --import tsx test/diagnostics/bench-log.ts [lines]
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newScanCache, scanHaproxyHttpLogLine } from '../../src/diagnostics/sources/haproxy-log.js';
import { summarizeAccessLog } from '../../src/diagnostics/sources/log-window.js';

const lines = Number(process.argv[2] ?? 1_000_000);
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
let t = performance.now();
execFileSync('sh', ['-c', `halog -srv < ${path} > /dev/null 2>&1`]);
const halogMs = performance.now() - t;
t = performance.now();
const cache = newScanCache();
const s = await summarizeAccessLog(path, (l, o) => scanHaproxyHttpLogLine(l, o, 0, cache), {
  from: new Date(base),
  to: new Date(base + 3 * lines + 1),
});
const oursMs = performance.now() - t;
process.stdout.write(
  `${lines} lines: halog -srv ${halogMs.toFixed(0)} ms, summarizeAccessLog ${oursMs.toFixed(0)} ms (${(oursMs / halogMs).toFixed(1)}x), ${s.inWindow} in window\n`,
);
rmSync(dir, { recursive: true, force: true });
