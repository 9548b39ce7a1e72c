import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHaproxyHttpLogLine } from '../../src/diagnostics/sources/haproxy-log.js';
import {
  type HaproxyLogScanOptions,
  reserveScanMemory,
  summarizeHaproxyHttpLog,
} from '../../src/diagnostics/sources/haproxy-log-scan.js';
import {
  startLogScanWarmup,
  warmLogScanner,
  warmupLog,
} from '../../src/diagnostics/sources/log-scan-warmup.js';
import { summarizeAccessLog, toLineParser } from '../../src/diagnostics/sources/log-window.js';

const root = mkdtempSync(join(tmpdir(), 'log-scan-warmup-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => {
  return mkdtempSync(join(root, `d${n++}-`));
};

/** A logger whose JSON lines are kept, to see what the warm-up reported. */
function capturingLogger() {
  const lines: { level: number; msg: string; err?: string }[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, stream), lines };
}

describe('log scanner warm-up (worker start-up)', () => {
  it('scans its synthetic log (the default size, past the client cap) to the same summary as the full parser, and removes its files', async () => {
    const dir = freshDir();
    const r = await warmLogScanner({ passes: 2, dir });
    expect(readdirSync(dir)).toEqual([]);
    expect(r).toMatchObject({ lines: 12_000, passes: 2 });
    const s = r.summary;
    // What the scanner branches on is all there: servers, both kinds of <NOSRV>, 5xx, events, the client cap.
    expect(s.lines).toBe(12_000);
    expect(s.problems).toMatchObject({ unparsable: 0, binary: 0, truncated: 0 });
    expect(s.problems.events).toBeGreaterThan(0);
    expect(s.servers.map((x) => `${x.backend}/${x.server}`)).toEqual(
      expect.arrayContaining(['web/web-01', 'web/web-02', 'web/web-03', 'web/web-04', 'api/app-1']),
    );
    expect(s.servers.some((x) => (x.connectFailures ?? 0) > 0)).toBe(true);
    expect(s.noServer.map((x) => x.backend)).toEqual(['api']);
    expect(Object.keys(s.noise ?? {})).toEqual(['malformed request rejected before routing']);
    expect(s.errors5xx).toBeGreaterThan(0);
    expect(s.previousWindow).toBeGreaterThan(0);
    expect(s.inWindow + s.previousWindow).toBeLessThan(s.lines);
    expect(s.clientsCapped).toBe(true);
    // The same log through the line reader and the full parser gives exactly this summary.
    const file = join(dir, 'again.log');
    writeFileSync(file, warmupLog(12_000));
    const reference = await summarizeAccessLog(
      file,
      toLineParser((l) => parseHaproxyHttpLogLine(l, 0)),
      { from: new Date(s.from), to: new Date(s.to), maxClients: 4_000 },
    );
    expect(s).toEqual(reference);
  });

  it('rejects when its temporary directory cannot be made, and the start-up hook only logs that', async () => {
    // A path under a regular file: no directory can be made there, whoever runs the test (root too).
    const file = join(root, 'not-a-dir');
    writeFileSync(file, '');
    await expect(warmLogScanner({ dir: join(file, 'sub') })).rejects.toThrow(/ENOTDIR|ENOENT/);
    const { log, lines } = capturingLogger();
    const w = startLogScanWarmup(log, { delayMs: 0, dir: join(file, 'sub') });
    await expect(w.done).resolves.toBeUndefined();
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, msg: 'log scanner warm-up failed; the first scan runs cold' }),
    ]);
    expect(lines[0]!.err).toMatch(/ENOTDIR|ENOENT/);
  });

  it('reports success at debug level, and stop() before it starts means it never runs', async () => {
    const dir = freshDir();
    const { log, lines } = capturingLogger();
    const w = startLogScanWarmup(log, { delayMs: 0, dir });
    const r = await w.done;
    expect(r?.summary.lines).toBe(12_000);
    expect(lines).toEqual([
      expect.objectContaining({ level: 20, msg: 'log scanner warmed up', lines: 48_000 }),
    ]);
    expect(readdirSync(dir)).toEqual([]);

    const idle = capturingLogger();
    const never = startLogScanWarmup(idle.log, { delayMs: 60_000, dir });
    await never.stop();
    await expect(never.done).resolves.toBeUndefined();
    expect(idle.lines).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops mid-run when stopped, leaving no files and logging no failure', async () => {
    const dir = freshDir();
    const { log, lines } = capturingLogger();
    const w = startLogScanWarmup(log, { delayMs: 0, dir });
    // Let it start (the timer fires and the directory is made), then stop it.
    await new Promise((r) => setTimeout(r, 5));
    await w.stop();
    expect(readdirSync(dir)).toEqual([]);
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });
});

describe('memory the scanner keeps between scans', () => {
  it('leaves no trace in the next scan: each summary is the full parser one, whatever scan came before', async () => {
    const dir = freshDir();
    const big = join(dir, 'big.log');
    writeFileSync(big, warmupLog(12_000));
    const small = join(dir, 'small.log');
    writeFileSync(small, warmupLog(700));
    const window = { from: new Date('2024-02-27T10:00:00Z'), to: new Date('2024-02-27T11:00:00Z') };
    // Kept table and buffers bigger than a scan needs, a scan that fills the table past its kept size, one with
    // tiny reads (lines split across them) in the big kept buffers, and scans after those.
    reserveScanMemory({ maxClients: 3_000 });
    const runs: [string, Partial<HaproxyLogScanOptions>][] = [
      [small, {}],
      [big, { maxClients: 8_000 }],
      [small, { chunkBytes: 1_000, maxLineBytes: 400 }],
      [big, {}],
      [small, { maxClients: 50 }],
      [small, {}],
    ];
    for (const [path, opts] of runs) {
      const got = await summarizeHaproxyHttpLog(path, { ...window, ...opts });
      const want = await summarizeAccessLog(
        path,
        toLineParser((l) => parseHaproxyHttpLogLine(l, 0)),
        { ...window, maxClients: opts.maxClients },
      );
      expect(got).toEqual(want);
    }
  });
});
