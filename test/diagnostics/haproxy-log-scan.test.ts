import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseHaproxyHttpLogLine } from '../../src/diagnostics/sources/haproxy-log.js';
import {
  type HaproxyLogScanOptions,
  summarizeHaproxyHttpLog,
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
