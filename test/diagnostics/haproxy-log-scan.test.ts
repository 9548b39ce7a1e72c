import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHaproxyHttpLogLine } from '../../src/diagnostics/sources/haproxy-log.js';
import {
  type HaproxyLogScanOptions,
  summarizeHaproxyHttpLog,
  summarizeInRanges,
} from '../../src/diagnostics/sources/haproxy-log-scan.js';
import {
  type LogWindowSummary,
  summarizeAccessLog,
  toLineParser,
} from '../../src/diagnostics/sources/log-window.js';

const REC = join(import.meta.dirname, '../fixtures/diagnostics/recordings');
const dir = mkdtempSync(join(tmpdir(), 'haproxy-log-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `${n++}.log`);
  writeFileSync(path, typeof content === 'string' ? Buffer.from(content, 'latin1') : content);
  return path;
}

/** What the runner computed before the byte scanner: the line reader and the full parser. */
function reference(path: string, opts: HaproxyLogScanOptions): Promise<LogWindowSummary> {
  const off = opts.utcOffsetMinutes ?? 0;
  return summarizeAccessLog(
    path,
    toLineParser((l) => parseHaproxyHttpLogLine(l, off)),
    opts,
  );
}

const ALL = { from: new Date(0), to: new Date('2100-01-01T00:00:00Z') };
const SYSLOG = 'Mar 12 10:00:00 lb haproxy[123]: ';
const line = (o: {
  client?: string;
  date?: string;
  fe?: string;
  bs?: string;
  timers?: string;
  status?: string;
  rest?: string;
  req?: string;
}) =>
  `${o.client ?? '10.0.0.1:40000'} [${o.date ?? '12/Mar/2024:10:00:00.000'}] ${o.fe ?? 'fe'} ${o.bs ?? 'app/web1'} ${o.timers ?? '0/0/1/2/3'} ${o.status ?? '200'} ${o.rest ?? '512 - - ---- 1/1/0/0/0 0/0'} "${o.req ?? 'GET /x HTTP/1.1'}"`;

/** Lines with a captured request cookie (`%CC`): counted per cookie for requests a server answered. */
const COOKIE_LINES = [
  line({ bs: 'api/api1', rest: '512 session=bot-1 - --NI 1/1/0/0/0 0/0' }),
  line({ rest: '512 session=bot-1 - --NI 1/1/0/0/0 0/0' }),
  line({ client: '10.0.0.5:1', rest: '512 session=bot-1 - --NI 1/1/0/0/0 0/0' }),
  line({ bs: 'app/web2', rest: '512 session=bot-1 - --NI 1/1/0/0/0 0/0' }),
  line({ bs: 'app/web2', rest: '512 session=u-2 SRV=web2 --VN 1/1/0/0/0 0/0' }),
  line({ bs: 'api/<NOSRV>', status: '503', rest: '0 session=u-3 - SC-- 1/1/0/0/0 0/0' }),
  line({ bs: 'stats/<STATS>', fe: 'stats', rest: '0 session=u-4 - LR-- 1/1/0/0/0 0/0' }),
];

/** A small log with every shape the scanner treats differently, in and around a 10:00:00-10:01:00 window. */
const EDGE_LINES = [
  SYSLOG + line({}),
  line({ client: '10.0.0.2:40001', bs: 'app/web2', date: '12/Mar/2024:10:00:59.999' }),
  `${SYSLOG + line({ bs: 'app/web3', status: '503' })}\r`,
  line({ bs: 'api/<NOSRV>', status: '503', req: 'GET /api/orders?id=1 HTTP/1.1' }),
  line({ bs: 'api/<NOSRV>', status: '503', req: 'POST /api/pay HTTP/1.1' }),
  line({ bs: 'api/<NOSRV>', status: '-1', rest: '0 - - CR-- 1/1/0/0/0 0/0', req: '<BADREQ>' }),
  ...['/a', '/b', '/c', '/d', '/e', '/a'].map((p) =>
    line({ bs: 'api/<NOSRV>', status: '503', req: `GET ${p}` }),
  ),
  line({ bs: 'stats/<STATS>', fe: 'stats' }),
  line({ client: '::1:51000', bs: 'app/web1' }),
  line({ client: '[2001:db8::1]:443', bs: 'app/web1', timers: '+10/-1/-1/-1/+20', status: '504' }),
  line({ rest: '512 - - ---- 1/1/0/0/0 0/0 {host.example|Mozilla 5.0} {}', req: 'GET /h HTTP/1.1' }),
  line({ date: '12/Mar/2024:10:00:30' }),
  line({ date: '12/Mar/2024:09:59:59.999' }),
  line({ date: '12/Mar/2024:09:59:00.000' }),
  line({ date: '12/Mar/2024:09:58:59.999' }),
  line({ date: '12/Mar/2024:10:01:00.000' }),
  line({ date: '12/Mar/2024:10:01:00.001', bs: 'app/web9' }),
  line({ date: '31/Dec/2023:23:59:59.500' }),
  line({ date: '12/Xyz/2024:10:00:00.000' }),
  line({ date: '12/Mar/2024:10:00:0x.000' }),
  line({ status: '2x0' }),
  line({ timers: '0/0/1/2' }),
  line({ rest: '512 - - --- 1/1/0/0/0 0/0' }),
  line({ rest: '512 - - ---- 1/1/0/0 0/0' }),
  line({ rest: '512 - - ---- 1/1/0/0/0 0' }),
  line({}).replace(' fe ', ' fe\tx '),
  line({}).replace(' app/web1 ', '  app/web1 '),
  `${line({}).split(' "')[0]}`,
  '',
  '\r',
  'not a log line',
  '\u0000\u0001\u00ff\u00fe binary',
  `junk [12/Mar/2024:10:00:00.000] but no fields`,
  `x [1] y ${line({ client: '10.0.0.3:1' })}`,
  line({ fe: 'f\u00e9', bs: 'b\u00e4ck/w\u00ebb' }),
  line({ client: '10.0.0.1', bs: 'app/' }),
  // captured request cookies (`capture cookie session= len 32`): one sticks to web1, one moves, noise ignored
  ...COOKIE_LINES,
];
const EDGE = `${EDGE_LINES.join('\n')}\n${line({ bs: 'app/web1' }).slice(0, 60)}`;
const WINDOW = { from: new Date('2024-03-12T10:00:00Z'), to: new Date('2024-03-12T10:01:00Z') };

describe('the HAProxy log byte scanner', () => {
  it('gives exactly the full parser summary on every recorded HAProxy log, whole and windowed', async () => {
    const logs = readdirSync(REC)
      .filter((d) => d.startsWith('haproxy-'))
      .map((d) => join(REC, d, 'haproxy.log'));
    expect(logs.length).toBeGreaterThan(0);
    for (const path of logs) {
      const all = await reference(path, ALL);
      expect(all.inWindow).toBeGreaterThan(0);
      expect(await summarizeHaproxyHttpLog(path, ALL)).toEqual(all);
      // a window over the second half, so the first half lands in previousWindow
      const mid = (all.firstTime! + all.lastTime!) / 2;
      const half = { from: new Date(mid), to: new Date(all.lastTime! + 1) };
      const ref = await reference(path, half);
      expect(ref.previousWindow).toBeGreaterThan(0);
      expect(await summarizeHaproxyHttpLog(path, half)).toEqual(ref);
    }
  });

  it('matches the full parser on every edge-case line, inside, before and after the window', async () => {
    const path = file(EDGE);
    const ref = await reference(path, WINDOW);
    expect(ref.noServer[0]!.samplePaths).toHaveLength(5);
    expect(ref.problems.unparsable).toBeGreaterThan(5);
    expect(ref.problems.binary).toBe(1);
    expect(ref.previousWindow).toBeGreaterThan(0);
    // the captured cookies of answered requests only, per backend, each with the server that took most of them
    expect(ref.topCookies).toEqual([
      { cookie: 'session=bot-1', requests: 3, backend: 'app', server: 'web1', onServer: 2 },
      { cookie: 'session=bot-1', requests: 1, backend: 'api', server: 'api1', onServer: 1 },
      { cookie: 'session=u-2', requests: 1, backend: 'app', server: 'web2', onServer: 1 },
    ]);
    expect(ref.distinctCookies).toBe(2);
    // past the cap no per-cookie counts, in both readers
    const capped = await reference(path, { ...WINDOW, maxClients: 1 });
    expect(capped).toMatchObject({ topCookies: [], distinctCookies: 1, cookiesCapped: true });
    expect(await summarizeHaproxyHttpLog(path, { ...WINDOW, maxClients: 1 })).toEqual(capped);
    expect(await summarizeHaproxyHttpLog(path, WINDOW)).toEqual(ref);
    expect(await summarizeHaproxyHttpLog(path, ALL)).toEqual(await reference(path, ALL));
  });

  it('gives the same summary wherever the reads split the lines (every chunk size up to the file length)', async () => {
    const path = file(EDGE);
    const ref = await reference(path, WINDOW);
    for (let chunkBytes = 1; chunkBytes <= EDGE.length + 1; chunkBytes++) {
      const got = await summarizeHaproxyHttpLog(path, { ...WINDOW, chunkBytes });
      if (JSON.stringify(got) !== JSON.stringify(ref))
        expect({ chunkBytes, got }).toEqual({ chunkBytes, got: ref });
    }
  });

  it('reads CRLF files like LF files', async () => {
    const lf = file(`${EDGE_LINES.join('\n')}\n`);
    const crlf = file(`${EDGE_LINES.join('\r\n')}\r\n`);
    const a = await summarizeHaproxyHttpLog(lf, WINDOW);
    expect(await summarizeHaproxyHttpLog(crlf, WINDOW)).toEqual(await reference(crlf, WINDOW));
    expect(await summarizeHaproxyHttpLog(crlf, WINDOW)).toEqual({ ...a, problems: expect.any(Object) });
  });

  it('matches the full parser on a last line cut at every offset, with and without CR', async () => {
    const full = `${SYSLOG}${line({ bs: 'api/<NOSRV>', status: '503', req: 'GET /cut/path HTTP/1.1' })}`;
    for (const cut of [full, `${full}\r`]) {
      for (let k = 0; k <= cut.length; k++) {
        const path = file(`${EDGE_LINES[0]}\n${cut.slice(0, k)}`);
        const ref = await reference(path, WINDOW);
        const got = await summarizeHaproxyHttpLog(path, { ...WINDOW, chunkBytes: 7 });
        if (JSON.stringify(got) !== JSON.stringify(ref)) expect({ k, got }).toEqual({ k, got: ref });
      }
    }
  });

  it('counts binary junk, over-long lines and garbage instead of throwing, as the line reader does', async () => {
    const real = readFileSync(join(REC, 'haproxy-skewed-weights/haproxy.log'));
    const junk = Buffer.alloc(3000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 256;
    const path = file(
      Buffer.concat([
        real,
        Buffer.from(`not a log line\n\u0000\u0001\u00ff\u00fe\n${'x'.repeat(70_000)}\n`, 'latin1'),
        junk,
        Buffer.from(`\n${'y'.repeat(65_536)}\n${'z'.repeat(65_537)}\r\n`, 'latin1'),
        real,
      ]),
    );
    const ref = await reference(path, ALL);
    expect(ref.problems.truncated).toBe(2);
    for (const chunkBytes of [undefined, 1000, 4096, 65_536, 65_537, 70_001]) {
      expect(await summarizeHaproxyHttpLog(path, { ...ALL, chunkBytes })).toEqual(ref);
    }
  });

  it('keeps the first clients up to maxClients and says the count is capped, as summarizeAccessLog does', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => line({ client: `10.0.${i % 7}.${i % 13}:1` }));
    const path = file(`${lines.join('\n')}\n`);
    for (const maxClients of [1, 3, 10, 100]) {
      const ref = await reference(path, { ...ALL, maxClients });
      expect(await summarizeHaproxyHttpLog(path, { ...ALL, maxClients })).toEqual(ref);
    }
    expect((await summarizeHaproxyHttpLog(path, { ...ALL, maxClients: 3 })).clientsCapped).toBe(true);
  });

  it('shifts times by the configured zone, and a NaN zone makes every line unparsable like the parser', async () => {
    const path = file(EDGE);
    for (const utcOffsetMinutes of [60, -330, Number.NaN]) {
      const opts = { ...WINDOW, utcOffsetMinutes };
      expect(await summarizeHaproxyHttpLog(path, opts)).toEqual(await reference(path, opts));
    }
  });

  it('agrees with the full parser on randomly damaged lines', async () => {
    const base = [
      SYSLOG + line({}),
      line({ bs: 'api/<NOSRV>', status: '503', req: 'GET /api/v1 HTTP/1.1' }),
      line({ client: '10.9.8.7:1', bs: 'be/s2', status: '502' }),
    ];
    const bytes = ' /[]:"-.<>\t\r\u0000\u00ff0123456789aZ';
    const edit = fc.record({
      line: fc.nat({ max: base.length - 1 }),
      at: fc.nat({ max: 200 }),
      op: fc.constantFrom('insert', 'delete', 'replace'),
      ch: fc.constantFrom(...bytes.split('')),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(edit, { minLength: 1, maxLength: 12 }),
        fc.nat({ max: 40 }),
        async (edits, chunk) => {
          const lines = [...base, ...base];
          for (const { line: li, at, op, ch } of edits) {
            const l = lines[li]!;
            const k = at % (l.length + 1);
            lines[li] =
              op === 'insert'
                ? l.slice(0, k) + ch + l.slice(k)
                : op === 'delete'
                  ? l.slice(0, k) + l.slice(k + 1)
                  : l.slice(0, k) + ch + l.slice(k + 1);
          }
          const path = file(`${lines.join('\n')}\n`);
          const opts = { ...WINDOW, chunkBytes: chunk === 0 ? undefined : chunk * 3 };
          expect(await summarizeHaproxyHttpLog(path, opts)).toEqual(await reference(path, opts));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects for a missing file and for an aborted read', async () => {
    await expect(summarizeHaproxyHttpLog(join(dir, 'missing.log'), ALL)).rejects.toMatchObject({
      code: 'ENOENT',
    });
    const ac = new AbortController();
    ac.abort();
    await expect(summarizeHaproxyHttpLog(file(EDGE), { ...ALL, signal: ac.signal })).rejects.toThrow();
  });
});

/** The single-thread scan. */
const single = (path: string, opts: HaproxyLogScanOptions) =>
  summarizeHaproxyHttpLog(path, { ...opts, threads: 1 });

/** Fails with the cuts that disagree; JSON, so key order (first-seen order) counts too. */
async function sameInRanges(
  path: string,
  opts: HaproxyLogScanOptions,
  cutsList: number[][],
  mode: 'workers' | 'inline' = 'inline',
): Promise<void> {
  const want = JSON.stringify(await single(path, opts));
  for (const cuts of cutsList) {
    const got = await summarizeInRanges(path, opts, cuts, mode);
    expect(got, 'the workers started').toBeDefined();
    if (JSON.stringify(got) !== want) expect({ cuts, got }).toEqual({ cuts, got: JSON.parse(want) });
  }
}

/** A cut at every `step`th offset of a file of `size` bytes; two cuts `gap` apart and three at every tenth. */
function everyCut(size: number, gap = 37, step = 1): number[][] {
  const out: number[][] = [];
  for (let c = 0; c <= size; c += step) {
    out.push([c]);
    if (c % 10 === 0) out.push([c, c + gap], [c, c + 1, c + gap * 2]);
  }
  return out;
}

/** Many clients, some repeated far apart, NOSRV paths and servers in and out of the window. */
function manyClients(n: number, seed: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = (i * 7919 + seed * 104_729) % 997;
    const client = `10.0.${r % 5}.${(r * 31) % 23}:${i}`;
    const sec = String(i % 60).padStart(2, '0');
    if (r % 11 === 0) lines.push(line({ client, bs: 'api/<NOSRV>', status: '503', req: `GET /p${r % 9}` }));
    else if (r % 13 === 0) lines.push('junk line');
    else
      lines.push(
        line({
          client,
          bs: `app/web${r % 4}`,
          status: r % 7 === 0 ? '502' : '200',
          date: `12/Mar/2024:10:00:${sec}.000`,
        }),
      );
  }
  return `${lines.join('\n')}\n`;
}

describe('the HAProxy log scan split across threads', () => {
  it('gives the single-thread summary on every recorded HAProxy log, in worker threads, whole and windowed', async () => {
    const logs = readdirSync(REC)
      .filter((d) => d.startsWith('haproxy-'))
      .map((d) => join(REC, d, 'haproxy.log'));
    for (const path of logs) {
      const all = await single(path, ALL);
      const mid = (all.firstTime! + all.lastTime!) / 2;
      const size = readFileSync(path).length;
      for (const opts of [ALL, { from: new Date(mid), to: new Date(all.lastTime! + 1) }]) {
        await sameInRanges(path, opts, [[size / 2], [size / 4, size / 2, (3 * size) / 4]], 'workers');
        expect(await summarizeHaproxyHttpLog(path, { ...opts, parallelMinBytes: 0, threads: 2 })).toEqual(
          await single(path, opts),
        );
      }
    }
  });

  it('gives the single-thread summary wherever the ranges are cut: edge-case lines, CRLF, window edges', async () => {
    const path = file(EDGE);
    await sameInRanges(path, WINDOW, everyCut(EDGE.length));
    await sameInRanges(path, ALL, everyCut(EDGE.length, 101, 4));
    const crlf = `${EDGE_LINES.join('\r\n')}\r\n`;
    await sameInRanges(file(crlf), WINDOW, everyCut(crlf.length, 37, 4));
  });

  it('gives the single-thread summary with junk, binary and over-long lines cut anywhere', async () => {
    const junk = Buffer.alloc(3000);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 256;
    const content = Buffer.concat([
      Buffer.from(`${EDGE_LINES.slice(0, 8).join('\n')}\n`, 'latin1'),
      junk,
      Buffer.from(`\n${'y'.repeat(300)}\n${EDGE_LINES.slice(8).join('\n')}`, 'latin1'),
    ]);
    const path = file(content);
    const cuts = everyCut(content.length, 211).filter((_, i) => i % 5 === 0);
    await sameInRanges(path, { ...WINDOW, maxLineBytes: 200 }, cuts);
  });

  it('tracks and counts clients like the single pass at the maxClients cap, wherever ranges cut', async () => {
    for (const seed of [1, 2]) {
      const content = manyClients(400, seed);
      const path = file(content);
      const size = content.length;
      for (const maxClients of [1, 7, 30, 115, 116]) {
        const opts = { ...WINDOW, maxClients };
        const cuts: number[][] = [];
        for (let c = 0; c <= size; c += 613)
          cuts.push([c], [c, c + 1500], [size - c, size - c / 2, size - c / 3]);
        await sameInRanges(path, opts, cuts);
      }
      expect((await single(path, { ...WINDOW, maxClients: 30 })).clientsCapped).toBe(true);
      await sameInRanges(path, { ...WINDOW, maxClients: 30 }, [[size / 3, size / 2, size * 0.9]], 'workers');
      await sameInRanges(path, { ...WINDOW, maxClients: 7 }, [[size / 2]], 'workers');
    }
  });

  it('gives the single-thread summary on random logs, caps and cuts', async () => {
    const pool = [
      ...EDGE_LINES.slice(0, 12),
      line({ client: '10.1.1.1:1' }),
      line({ client: '10.1.1.2:1', bs: 'app/web2' }),
      line({ client: '10.1.1.3:1', bs: 'api/<NOSRV>', status: '503', req: 'GET /z' }),
      line({ client: '10.1.1.4:1', date: '12/Mar/2024:09:59:30.000' }),
      ...COOKIE_LINES,
      line({ bs: 'app/web3', rest: '512 session=u-5 - --NI 1/1/0/0/0 0/0' }),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: pool.length - 1 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat({ max: 5000 }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 12 }),
        fc.boolean(),
        async (picks, cuts, maxClients, crlf) => {
          const content = picks.map((i) => pool[i]!).join(crlf ? '\r\n' : '\n');
          const path = file(content);
          const f = content.length / 5000;
          await sameInRanges(path, { ...WINDOW, maxClients }, [cuts.map((c) => Math.floor(c * f))]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stops its workers and rejects when the signal aborts', async () => {
    const path = file(manyClients(200_000, 3));
    const ac = new AbortController();
    const p = summarizeHaproxyHttpLog(path, {
      ...ALL,
      parallelMinBytes: 0,
      threads: 2,
      chunkBytes: 4096,
      signal: ac.signal,
    });
    setTimeout(() => ac.abort(new Error('stop')), 20);
    await expect(p).rejects.toThrow('stop');
    // and unaborted, it finishes with the single-thread result
    await sameInRanges(path, ALL, [[1_000_000]], 'workers');
  });
});
