import { open } from 'node:fs/promises';
import { parseHaproxyHttpLogLine } from './haproxy-log.js';
import { looksBinary } from './lines.js';
import type { LogWindowSummary, NoServerTally, ServerTally, SummarizeOptions } from './log-window.js';

/** Options for {@link summarizeHaproxyHttpLog}: those of `summarizeAccessLog` plus HAProxy's clock zone and read sizes. */
export interface HaproxyLogScanOptions extends SummarizeOptions {
  /** Zone of HAProxy's `%tr` clock, minutes east of UTC (0 = UTC); NaN makes every line unparsable, as in the parser. */
  utcOffsetMinutes?: number;
  /** Longer lines (excluding `\n`, including `\r`) are skipped and counted as truncated (default 64 KiB). */
  maxLineBytes?: number;
  /** Bytes per read (default 4 MiB); small values exist for tests of lines split across reads. */
  chunkBytes?: number;
}

const FNV_SEED = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** "No '[' before the end of this chunk": larger than any offset. */
const NONE = 0x7fffffff;
const MONTH_BYTES = 'JanFebMarAprMayJunJulAugSepOctNovDec';
const NOSRV = [60, 78, 79, 83, 82, 86, 62]; // <NOSRV>
const STATS = [60, 83, 84, 65, 84, 83, 62]; // <STATS>

/** Set of byte strings with insertion-ordered ids: an open-addressing table over a growing byte arena. */
class ByteKeys {
  size = 0;
  private arena = new Uint8Array(4096);
  private used = 0;
  private off = new Int32Array(64);
  private len = new Int32Array(64);
  private hashes = new Int32Array(64);
  /** Slot → id + 1 (0 = empty). */
  private slots = new Int32Array(128);
  private mask = 127;

  /** The id of the bytes `b[s..e)` with hash `h`, or -1. */
  find(b: Uint8Array, s: number, e: number, h: number): number {
    const n = e - s;
    let i = h & this.mask;
    for (;;) {
      const slot = this.slots[i]!;
      if (slot === 0) return -1;
      const id = slot - 1;
      if (this.hashes[id] === h && this.len[id] === n) {
        const a = this.arena;
        let k = this.off[id]!;
        let j = s;
        while (j < e && a[k] === b[j]) {
          j++;
          k++;
        }
        if (j === e) return id;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Adds bytes `b[s..e)` (not present) with hash `h`; returns the new id. */
  add(b: Uint8Array, s: number, e: number, h: number): number {
    const n = e - s;
    if (this.used + n > this.arena.length) {
      const a = new Uint8Array(Math.max(this.arena.length * 2, this.used + n));
      a.set(this.arena.subarray(0, this.used));
      this.arena = a;
    }
    this.arena.set(b.subarray(s, e), this.used);
    const id = this.size++;
    if (id === this.off.length) {
      this.off = grow(this.off);
      this.len = grow(this.len);
      this.hashes = grow(this.hashes);
    }
    this.off[id] = this.used;
    this.len[id] = n;
    this.hashes[id] = h;
    this.used += n;
    if (this.size * 2 > this.mask) this.rehash();
    else this.place(id);
    return id;
  }

  /** The key of `id`, latin1-decoded (the same string the line splitter would have produced). */
  key(id: number): string {
    const o = this.off[id]!;
    return Buffer.from(this.arena.buffer, this.arena.byteOffset + o, this.len[id]!).toString('latin1');
  }

  private place(id: number): void {
    let i = this.hashes[id]! & this.mask;
    while (this.slots[i] !== 0) i = (i + 1) & this.mask;
    this.slots[i] = id + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    this.mask = this.slots.length - 1;
    for (let id = 0; id < this.size; id++) this.place(id);
  }
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

function hashForward(b: Uint8Array, s: number, e: number): number {
  let h = FNV_SEED;
  for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME);
  return h;
}

/** Client keys are hashed last byte first, because the scanner walks back from the date to find them. */
function hashBackward(b: Uint8Array, s: number, e: number): number {
  let h = FNV_SEED;
  for (let i = e - 1; i >= s; i--) h = Math.imul(h ^ b[i]!, FNV_PRIME);
  return h;
}

function same(b: Uint8Array, s: number, e: number, k: number[]): boolean {
  if (e - s !== k.length) return false;
  for (let i = 0; i < k.length; i++) if (b[s + i] !== k[i]) return false;
  return true;
}

interface NoServerEntry {
  tally: NoServerTally;
  statuses: Map<number, number>;
  sampleBytes: Uint8Array[];
}

/**
 * The tallies of one pass. `line(b, s, e)` reads a line straight from the read buffer: a fast path for lines in
 * the exact shape HAProxy writes, which allocates nothing per line, and for anything else the full
 * {@link parseHaproxyHttpLogLine} on the decoded line, so both paths accept and read the same lines.
 */
class Scan {
  lines = 0;
  inWindow = 0;
  previousWindow = 0;
  errors5xx = 0;
  firstTime = Number.POSITIVE_INFINITY;
  lastTime = Number.NEGATIVE_INFINITY;
  unparsable = 0;
  binary = 0;
  truncated = 0;
  clientsCapped = false;
  readonly clientKeys = new ByteKeys();
  clientCounts: number[] = [];
  readonly serverKeys = new ByteKeys();
  readonly servers: ServerTally[] = [];
  readonly noServerKeys = new ByteKeys();
  readonly noServer: NoServerEntry[] = [];
  /** Next '[' at or after the current line in the current chunk (NONE when there is none). */
  private nextBracket = NONE;
  /** The last `dd/Mon/yyyy:HH:M` seen (bytes 1..16 after '[' as four little-endian words, then the minute's last digit) and its epoch ms. */
  private k0 = -1;
  private k1 = -1;
  private k2 = -1;
  private k3 = -1;
  private k4 = -1;
  private minuteMs = 0;
  private readonly prevFrom: number;

  constructor(
    private readonly from: number,
    private readonly to: number,
    private readonly offsetMinutes: number,
    private readonly maxClients: number,
  ) {
    this.prevFrom = from - (to - from);
  }

  /** Starts a chunk: `v` is the read buffer cut at the end of valid data (so native searches stop there). */
  chunk(): void {
    this.nextBracket = -1;
  }

  /** One line `b[s..e)` (no `\n`; a trailing `\r` is dropped here). `v` is `b` as a Buffer bounded to valid data. */
  line(b: Buffer, dv: DataView, s: number, e: number): void {
    this.lines++;
    if (e > s && b[e - 1] === 13) e--;
    if (e > s && !this.fast(b, dv, s, e)) this.slow(b, s, e);
  }

  /** Reads and tallies a line in the exact shape HAProxy writes; false (having counted nothing) for any other line. */
  private fast(b: Buffer, dv: DataView, s: number, e: number): boolean {
    // The first '[' that opens `dd/Mon/yyyy:` after a space, as findDateBracket in the parser.
    let p = this.nextBracket;
    if (p < s) p = b.indexOf(91, s);
    if (p === -1) p = NONE;
    while (
      p < e &&
      !(
        p > s &&
        p + 12 < e &&
        b[p - 1] === 32 &&
        b[p + 3] === 47 &&
        b[p + 7] === 47 &&
        b[p + 12] === 58 &&
        b[p + 1]! >= 48 &&
        b[p + 1]! <= 57
      )
    ) {
      p = b.indexOf(91, p + 1);
      if (p === -1) p = NONE;
    }
    this.nextBracket = p;
    if (p >= e || p + 27 >= e) return false;
    const lb = p;
    // Date: the minute prefix is compared as words against the last one; seconds and millis are read here.
    if (
      dv.getInt32(lb + 13, true) !== this.k3 ||
      b[lb + 17] !== this.k4 ||
      dv.getInt32(lb + 1, true) !== this.k0 ||
      dv.getInt32(lb + 5, true) !== this.k1 ||
      dv.getInt32(lb + 9, true) !== this.k2
    ) {
      if (!this.newMinute(b, dv, lb)) return false;
    }
    const s1 = b[lb + 19]! - 48;
    const s2 = b[lb + 20]! - 48;
    const m1 = b[lb + 22]! - 48;
    const m2 = b[lb + 23]! - 48;
    const m3 = b[lb + 24]! - 48;
    if (
      b[lb + 18] !== 58 ||
      b[lb + 21] !== 46 ||
      b[lb + 25] !== 93 ||
      b[lb + 26] !== 32 ||
      s1 < 0 ||
      s1 > 9 ||
      s2 < 0 ||
      s2 > 9 ||
      m1 < 0 ||
      m1 > 9 ||
      m2 < 0 ||
      m2 > 9 ||
      m3 < 0 ||
      m3 > 9
    )
      return false;
    const time = this.minuteMs + (s1 * 10 + s2) * 1000 + m1 * 100 + m2 * 10 + m3;
    // frontend
    let i = lb + 27;
    const feS = i;
    while (i < e && b[i] !== 32) i++;
    if (i === feS || i >= e) return false;
    const feE = i;
    // backend/server, hashed as it goes; hB is the backend's hash at the first '/'
    const bsS = ++i;
    let h = FNV_SEED;
    let hB = 0;
    let slash = -1;
    for (; i < e; i++) {
      const c = b[i]!;
      if (c === 32) break;
      if (c === 47 && slash === -1) {
        slash = i;
        hB = h;
      }
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    if (slash === -1 || i >= e) return false;
    const bsE = i;
    // TR/Tw/Tc/Tr/Ta: five parts
    let n = 0;
    for (i++; i < e; i++) {
      const c = b[i];
      if (c === 32) break;
      if (c === 47) n++;
    }
    if (n !== 4 || i >= e) return false;
    // status: -?digits
    i++;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    const stS = i;
    let status = 0;
    for (; i < e; i++) {
      const c = b[i]! - 48;
      if (c < 0 || c > 9) break;
      status = status * 10 + c;
    }
    if (i === stS || i - stS > 9 || i >= e || b[i] !== 32) return false;
    if (neg) status = -status;
    // bytes_read (non-empty), then the two cookie fields (may be empty)
    const byS = ++i;
    while (i < e && b[i] !== 32) i++;
    if (i === byS || i >= e) return false;
    for (i++; i < e && b[i] !== 32; i++);
    if (i >= e) return false;
    for (i++; i < e && b[i] !== 32; i++);
    // termination state: four characters
    i++;
    if (i + 4 >= e || b[i + 4] !== 32 || b[i] === 32 || b[i + 1] === 32 || b[i + 2] === 32 || b[i + 3] === 32)
      return false;
    // actconn/feconn/beconn/srv_conn/retries: five parts
    n = 0;
    for (i += 5; i < e; i++) {
      const c = b[i];
      if (c === 32) break;
      if (c === 47) n++;
    }
    if (n !== 4 || i >= e) return false;
    // srv_queue/backend_queue: two parts, possibly the last field
    n = 0;
    for (i++; i < e; i++) {
      const c = b[i];
      if (c === 32) break;
      if (c === 47) n++;
    }
    if (n !== 1) return false;
    if (!this.counts(time)) return true;
    // client: walk back from the space before '[' to the previous space, remembering the last ':'
    let hc = FNV_SEED;
    let colon = -1;
    let j = lb - 2;
    for (; j >= s; j--) {
      const c = b[j]!;
      if (c === 32) break;
      if (c === 58 && colon === -1) {
        colon = j;
        hc = FNV_SEED;
        continue;
      }
      hc = Math.imul(hc ^ c, FNV_PRIME);
    }
    const afterQueues = i < e ? i + 1 : e;
    this.record(
      status,
      b,
      j + 1,
      colon === -1 ? lb - 1 : colon,
      hc,
      h,
      bsS,
      slash,
      bsE,
      hB,
      feS,
      feE,
      afterQueues,
      e,
    );
    return true;
  }

  /** Counts a parsed request's time; true when it falls in the window and should be tallied. */
  private counts(time: number): boolean {
    if (time < this.firstTime) this.firstTime = time;
    if (time > this.lastTime) this.lastTime = time;
    if (time < this.from) {
      if (time >= this.prevFrom) this.previousWindow++;
      return false;
    }
    return time < this.to;
  }

  /** Reads and checks `dd/Mon/yyyy:HH:M` at `lb + 1` into the minute cache; false when it is not a date. */
  private newMinute(b: Buffer, dv: DataView, lb: number): boolean {
    const d = (k: number) => {
      const c = b[lb + k]! - 48;
      return c >= 0 && c <= 9 ? c : Number.NaN;
    };
    const day = d(1) * 10 + d(2);
    const year = d(8) * 1000 + d(9) * 100 + d(10) * 10 + d(11);
    const hour = d(13) * 10 + d(14);
    const minute = d(16) * 10 + d(17);
    const mi = MONTH_BYTES.indexOf(String.fromCharCode(b[lb + 4]!, b[lb + 5]!, b[lb + 6]!));
    if (mi < 0 || mi % 3 !== 0 || b[lb + 15] !== 58) return false;
    const ms = Date.UTC(year, mi / 3, day, hour, minute, 0, 0) - this.offsetMinutes * 60_000;
    if (Number.isNaN(ms)) return false;
    this.minuteMs = ms;
    this.k0 = dv.getInt32(lb + 1, true);
    this.k1 = dv.getInt32(lb + 5, true);
    this.k2 = dv.getInt32(lb + 9, true);
    this.k3 = dv.getInt32(lb + 13, true);
    this.k4 = b[lb + 17]!;
    return true;
  }

  /** Any line the fast path does not take: the full parser decides, on the same latin1 text as the line reader. */
  private slow(b: Buffer, s: number, e: number): void {
    const text = b.toString('latin1', s, e);
    const r = parseHaproxyHttpLogLine(text, this.offsetMinutes);
    if (!r) {
      if (looksBinary(text)) this.binary++;
      else this.unparsable++;
      return;
    }
    if (!this.counts(r.time)) return;
    // Lay the fields out as bytes as the fast path finds them in a line: client, frontend, backend/server, path.
    const path = r.path ?? '';
    const k = Buffer.from(`${r.client} ${r.frontend} ${r.backend}/${r.serverField} ${path}`, 'latin1');
    const ce = r.client.length;
    const feS = ce + 1;
    const feE = feS + r.frontend.length;
    const bsS = feE + 1;
    const slash = bsS + r.backend.length;
    const bsE = slash + 1 + r.serverField.length;
    const hasPath = r.path !== undefined;
    this.record(
      r.status,
      k,
      0,
      ce,
      hashBackward(k, 0, ce),
      hashForward(k, bsS, bsE),
      bsS,
      slash,
      bsE,
      hashForward(k, bsS, slash),
      feS,
      feE,
      k.length,
      k.length,
      hasPath ? bsE + 1 : -1,
    );
  }

  /**
   * Tallies one request in the window, as summarizeAccessLog does: client `b[cs..ce)` with hash `hc` (hashed
   * backwards), `backend/server` at `b[bsS..bsE)` with hash `h` (`hB`: the backend's), frontend `b[feS..feE)`;
   * `afterQueues..e` holds the quoted request (the fast path) unless `pathStart` says where the path is.
   */
  private record(
    status: number,
    b: Uint8Array,
    cs: number,
    ce: number,
    hc: number,
    h: number,
    bsS: number,
    slash: number,
    bsE: number,
    hB: number,
    feS: number,
    feE: number,
    afterQueues: number,
    e: number,
    pathStart = -2,
  ): void {
    this.inWindow++;
    const is5xx = status >= 500 && status <= 599;
    if (is5xx) this.errors5xx++;
    const ci = this.clientKeys.find(b, cs, ce, hc);
    if (ci !== -1) this.clientCounts[ci]!++;
    else if (this.clientKeys.size < this.maxClients) {
      this.clientKeys.add(b, cs, ce, hc);
      this.clientCounts.push(1);
    } else this.clientsCapped = true;
    if (b[slash + 1] === 60) {
      if (same(b, slash + 1, bsE, NOSRV)) {
        this.recordNoServer(status, b, bsS, slash, hB, feS, feE, afterQueues, e, pathStart);
        return;
      }
      if (same(b, slash + 1, bsE, STATS)) return;
    }
    let si = this.serverKeys.find(b, bsS, bsE, h);
    if (si === -1) {
      si = this.serverKeys.add(b, bsS, bsE, h);
      const bb = Buffer.from(b.buffer, b.byteOffset, b.length);
      this.servers.push({
        backend: bb.toString('latin1', bsS, slash),
        server: bb.toString('latin1', slash + 1, bsE),
        requests: 0,
        errors5xx: 0,
      });
    }
    const st = this.servers[si]!;
    st.requests++;
    if (is5xx) st.errors5xx++;
  }

  private recordNoServer(
    status: number,
    b: Uint8Array,
    bsS: number,
    slash: number,
    hB: number,
    feS: number,
    feE: number,
    afterQueues: number,
    e: number,
    pathStart: number,
  ): void {
    const bb = Buffer.from(b.buffer, b.byteOffset, b.length);
    let ni = this.noServerKeys.find(b, bsS, slash, hB);
    if (ni === -1) {
      ni = this.noServerKeys.add(b, bsS, slash, hB);
      this.noServer.push({
        tally: {
          backend: bb.toString('latin1', bsS, slash),
          frontend: bb.toString('latin1', feS, feE),
          requests: 0,
          statuses: {},
          samplePaths: [],
        },
        statuses: new Map(),
        sampleBytes: [],
      });
    }
    const ns = this.noServer[ni]!;
    ns.tally.requests++;
    ns.statuses.set(status, (ns.statuses.get(status) ?? 0) + 1);
    if (ns.sampleBytes.length >= 5) return;
    // The path, as the parser reads it: the second word of the text between the first '"' after the queue
    // field and the line's last '"' (or its end).
    let ps = pathStart;
    let pe = e;
    if (ps === -2) {
      let q1 = afterQueues;
      while (q1 < e && b[q1] !== 34) q1++;
      if (q1 >= e) return;
      let q2 = e - 1;
      while (q2 > q1 && b[q2] !== 34) q2--;
      const re = q2 > q1 ? q2 : e;
      let sp = q1 + 1;
      while (sp < re && b[sp] !== 32) sp++;
      if (sp >= re) return;
      ps = sp + 1;
      pe = ps;
      while (pe < re && b[pe] !== 32) pe++;
    }
    if (ps < 0 || pe === ps) return;
    for (const k of ns.sampleBytes) {
      if (k.length !== pe - ps) continue;
      let j = 0;
      while (j < k.length && k[j] === b[ps + j]) j++;
      if (j === k.length) return;
    }
    ns.sampleBytes.push(Uint8Array.prototype.slice.call(b, ps, pe));
    ns.tally.samplePaths.push(bb.toString('latin1', ps, pe));
  }

  summary(): LogWindowSummary {
    const top = topIds(this.clientCounts, 10);
    const noServer = this.noServer.map(({ tally, statuses }) => {
      for (const [st, n] of statuses) tally.statuses[String(st)] = n;
      return tally;
    });
    return {
      from: this.from,
      to: this.to,
      lines: this.lines,
      inWindow: this.inWindow,
      previousWindow: this.previousWindow,
      firstTime: this.firstTime !== Number.POSITIVE_INFINITY ? this.firstTime : undefined,
      lastTime: this.lastTime !== Number.NEGATIVE_INFINITY ? this.lastTime : undefined,
      servers: this.servers,
      noServer,
      errors5xx: this.errors5xx,
      topClients: top.map((id) => ({ client: this.clientKeys.key(id), requests: this.clientCounts[id]! })),
      distinctClients: this.clientKeys.size,
      clientsCapped: this.clientsCapped,
      problems: { unparsable: this.unparsable, binary: this.binary, truncated: this.truncated },
    };
  }
}

/** Ids of the `k` largest counts, largest first, ties in id order (what a stable sort by count gives). */
function topIds(counts: number[], k: number): number[] {
  const top: number[] = [];
  for (let id = 0; id < counts.length; id++) {
    const c = counts[id]!;
    if (top.length === k && c <= counts[top[k - 1]!]!) continue;
    let at = top.length;
    while (at > 0 && counts[top[at - 1]!]! < c) at--;
    top.splice(at, 0, id);
    if (top.length > k) top.pop();
  }
  return top;
}

/**
 * Summarizes an HAProxy `option httplog` file over `[from, to)` exactly as
 * `summarizeAccessLog(path, scanHaproxyHttpLogLine...)` would with the full parser, but scanning the bytes of a
 * reused read buffer: no string per line, one native newline search per line, per-server and per-client tallies
 * keyed by the bytes themselves. Memory is bounded by the buffer (chunk + max line) and the tracked clients.
 * Rejects when the file cannot be read or `signal` aborts.
 * Format: https://docs.haproxy.org/2.6/configuration.html#8.2.3
 */
export async function summarizeHaproxyHttpLog(
  path: string,
  opts: HaproxyLogScanOptions,
): Promise<LogWindowSummary> {
  const max = opts.maxLineBytes ?? 64 * 1024;
  const chunk = Math.max(1, opts.chunkBytes ?? 4 * 1024 * 1024);
  const scan = new Scan(
    opts.from.getTime(),
    opts.to.getTime(),
    opts.utcOffsetMinutes ?? 0,
    opts.maxClients ?? 100_000,
  );
  // [head | chunk]: a partial last line (at most `max` bytes) is moved to just before where the next read lands,
  // so every complete line is contiguous. The 32 spare bytes let the date check read words past a short line.
  const head = max + 1;
  const buf = Buffer.alloc(head + chunk + 32);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  opts.signal?.throwIfAborted();
  const fh = await open(path, 'r');
  try {
    let tail = 0;
    let dropping = false;
    for (;;) {
      opts.signal?.throwIfAborted();
      const { bytesRead } = await fh.read(buf, head, chunk, null);
      if (bytesRead === 0) break;
      const end = head + bytesRead;
      // Native searches must not run into stale bytes past `end`.
      const v = buf.subarray(0, end);
      scan.chunk();
      let s = head - tail;
      let nl = v.indexOf(10, head);
      if (dropping) {
        if (nl === -1) continue;
        dropping = false;
        s = nl + 1;
        nl = v.indexOf(10, s);
      }
      while (nl !== -1) {
        if (nl - s > max) scan.truncated++;
        else scan.line(v, dv, s, nl);
        s = nl + 1;
        nl = v.indexOf(10, s);
      }
      tail = end - s;
      if (tail > max) {
        // An over-long line is skipped up to its end, so memory stays bounded.
        scan.truncated++;
        dropping = true;
        tail = 0;
      } else if (tail > 0) {
        buf.copyWithin(head - tail, s, end);
      }
    }
    if (tail > 0 && !dropping) {
      scan.chunk();
      scan.line(buf.subarray(0, head), dv, head - tail, head);
    }
  } finally {
    await fh.close();
  }
  return scan.summary();
}
