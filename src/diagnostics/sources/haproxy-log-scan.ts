import { open, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { haproxyNoise } from './client-noise.js';
import { isHaproxyEventLine, parseHaproxyHttpLogLine } from './haproxy-log.js';
import { looksBinary } from './lines.js';
import {
  type CookieCount,
  cookieSummary,
  countCookie,
  type LogWindowSummary,
  type NoServerTally,
  type ServerTally,
  type SummarizeOptions,
} from './log-window.js';

/** Options for {@link summarizeHaproxyHttpLog}: those of `summarizeAccessLog` plus HAProxy's clock zone and read sizes. */
export interface HaproxyLogScanOptions extends SummarizeOptions {
  /** Zone of HAProxy's `%tr` clock, minutes east of UTC (0 = UTC); NaN makes every line unparsable, as in the parser. */
  utcOffsetMinutes?: number;
  /** Longer lines (excluding `\n`, including `\r`) are skipped and counted as truncated (default 64 KiB). */
  maxLineBytes?: number;
  /** Bytes per read (default 4 MiB); small values exist for tests of lines split across reads. */
  chunkBytes?: number;
  /**
   * Files of at least this many bytes are split into line-aligned byte ranges scanned by worker threads
   * (default 512 MiB; `Infinity` never splits). The result is identical to the single-thread scan. Below about
   * 3M lines (~500 MiB) the split was slower on the 2-core bench machine under tsx: a worker takes ~0.1-0.2 s
   * to start and two threads scan only ~1.3x as fast as one.
   */
  parallelMinBytes?: number;
  /** Ranges (and threads) for a split file (default `min(availableParallelism(), 4)`; 1 never splits). */
  threads?: number;
}

const MONTH_BYTES = 'JanFebMarAprMayJunJulAugSepOctNovDec';
const NOSRV = [60, 78, 79, 83, 82, 86, 62]; // <NOSRV>
/** Termination state `SC` as two bytes, little end first. */
const SC = 83 | (67 << 8);
const STATS = [60, 83, 84, 65, 84, 83, 62]; // <STATS>

/**
 * Hash of the bytes `b[s..e)`, read four at a time (`dv` views the same memory as `b`). A function of the bytes
 * alone, so a key hashes the same wherever it lies.
 */
function keyHash(b: Uint8Array, dv: DataView, s: number, e: number): number {
  let h = Math.imul(e - s, 0x9e3779b1);
  if (e - s < 4) {
    for (let i = s; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  } else {
    for (let i = s; i + 4 < e; i += 4) {
      h ^= dv.getInt32(i, true);
      h = Math.imul((h << 13) | (h >>> 19), 0x9e3779b1);
    }
    h ^= dv.getInt32(e - 4, true);
    h = Math.imul((h << 13) | (h >>> 19), 0x9e3779b1);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h;
}

/** Set of byte strings with insertion-ordered ids: an open-addressing table over a growing byte arena. */
class ByteKeys {
  size = 0;
  private arena = new Uint8Array(4096);
  private adv = new DataView(this.arena.buffer);
  private used = 0;
  private off = new Int32Array(64);
  private len = new Int32Array(64);
  private hashes = new Int32Array(64);
  /**
   * Open addressing, linear probing: slot `i` is `slots[2i]` = the key's hash and `slots[2i + 1]` = id + 1 (0 =
   * empty), side by side so a probe that misses reads one cache line, not the key's own arrays.
   */
  private slots = new Int32Array(256);
  private mask = 127;
  /** The largest slots array this table has had: `slots` is a prefix of it (see reset). */
  private slotsCap = this.slots;
  /**
   * With `filterBits`, a bit per hash value `h >>> (32 - filterBits)`, set for every key added: a clear bit
   * answers "absent" from a table small enough to stay in cache (the client table's slots do not, and most
   * lookups of a log with many clients miss).
   */
  private readonly filter: Int32Array | null;
  private readonly filterShift: number;

  constructor(filterBits = 0) {
    this.filter = filterBits > 0 ? new Int32Array(2 ** Math.max(0, filterBits - 5)) : null;
    this.filterShift = 32 - filterBits;
  }

  /** The id of the bytes `b[s..e)` (`dv` views `b`) with hash `h`, or -1. */
  find(b: Uint8Array, dv: DataView, s: number, e: number, h: number): number {
    const filter = this.filter;
    if (filter !== null) {
      const f = h >>> this.filterShift;
      if ((filter[f >>> 5]! & (1 << (f & 31))) === 0) return -1;
    }
    const n = e - s;
    const slots = this.slots;
    let i = h & this.mask;
    for (;;) {
      const slot = slots[2 * i + 1]!;
      if (slot === 0) return -1;
      if (slots[2 * i] === h) {
        const id = slot - 1;
        if (this.len[id] === n && this.equal(b, dv, s, n, this.off[id]!)) return id;
      }
      i = (i + 1) & this.mask;
    }
  }

  private equal(b: Uint8Array, dv: DataView, s: number, n: number, o: number): boolean {
    if (n < 4) {
      for (let k = 0; k < n; k++) if (this.arena[o + k] !== b[s + k]) return false;
      return true;
    }
    const a = this.adv;
    for (let k = 0; k + 4 < n; k += 4) if (a.getInt32(o + k, true) !== dv.getInt32(s + k, true)) return false;
    return a.getInt32(o + n - 4, true) === dv.getInt32(s + n - 4, true);
  }

  /** Adds bytes `b[s..e)` (not present) with hash `h`; returns the new id. */
  add(b: Uint8Array, s: number, e: number, h: number): number {
    const n = e - s;
    if (this.used + n > this.arena.length) {
      const a = new Uint8Array(Math.max(this.arena.length * 2, this.used + n));
      a.set(this.arena.subarray(0, this.used));
      this.arena = a;
      this.adv = new DataView(a.buffer);
    }
    // A byte loop: for keys this short it beats `set(b.subarray(..))`, which allocates a view per key.
    const arena = this.arena;
    for (let k = 0, o = this.used; k < n; k++) arena[o + k] = b[s + k]!;
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
    if (this.filter !== null) {
      const f = h >>> this.filterShift;
      this.filter[f >>> 5]! |= 1 << (f & 31);
    }
    if (this.size * 2 > this.mask) this.rehash();
    else this.place(id);
    return id;
  }

  /** The key of `id`, latin1-decoded (the same string the line splitter would have produced). */
  key(id: number): string {
    return Buffer.from(this.arena.buffer, this.off[id]!, this.len[id]!).toString('latin1');
  }

  /** The first `n` keys (default all) in id order, copied (the arena holds them back to back in id order). */
  export(n = this.size): KeyList {
    const used = n === this.size ? this.used : n === 0 ? 0 : this.off[n - 1]! + this.len[n - 1]!;
    return { bytes: this.arena.slice(0, used), lens: this.len.slice(0, n) };
  }

  /** Calls `f(id, isNew)` for each key of `list` in order, adding the absent ones while `size < cap`. */
  merge(list: KeyList, cap: number, f: (id: number, k: number) => void): void {
    const b = list.bytes;
    const dv = new DataView(b.buffer, b.byteOffset, b.length);
    let s = 0;
    for (let k = 0; k < list.lens.length; k++) {
      const e = s + list.lens[k]!;
      const h = keyHash(b, dv, s, e);
      let id = this.find(b, dv, s, e, h);
      if (id === -1 && this.size < cap) id = this.add(b, s, e, h);
      f(id, k);
      s = e;
    }
  }

  private place(id: number): void {
    const h = this.hashes[id]!;
    let i = h & this.mask;
    while (this.slots[2 * i + 1] !== 0) i = (i + 1) & this.mask;
    this.slots[2 * i] = h;
    this.slots[2 * i + 1] = id + 1;
  }

  private rehash(): void {
    const n = this.slots.length * 2;
    // (the old slots are not read: every id is placed again from `hashes`)
    if (n <= this.slotsCap.length) this.slots = this.slotsCap.subarray(0, n).fill(0);
    else this.slots = this.slotsCap = new Int32Array(n);
    this.mask = n / 2 - 1;
    for (let id = 0; id < this.size; id++) this.place(id);
  }

  /**
   * Empties the table and makes its arrays big enough for `keys` keys of `bytes` bytes in all, written once so
   * their pages are mapped now (see reset).
   */
  reserve(keys: number, bytes: number): void {
    // Doubling from 64 ids, and slots rehashed while size * 2 > mask, as `add` grows them.
    let ids = this.off.length;
    while (ids < keys) ids *= 2;
    let entries = this.slotsCap.length / 2;
    while (entries - 1 < 2 * keys) entries *= 2;
    if (ids > this.off.length) {
      this.off = new Int32Array(ids).fill(0);
      this.len = new Int32Array(ids).fill(0);
      this.hashes = new Int32Array(ids).fill(0);
    }
    if (2 * entries > this.slotsCap.length) this.slotsCap = new Int32Array(2 * entries).fill(0);
    if (bytes > this.arena.length) {
      this.arena = new Uint8Array(bytes).fill(0);
      this.adv = new DataView(this.arena.buffer);
    }
    this.reset();
  }

  /**
   * Empties the table but keeps its arrays, so a table used again neither allocates nor touches fresh memory
   * (each new page is a page fault: ~3,000 of them, ~25 ms on the bench machine, for 100,000 clients). The
   * slots start small again, as a prefix of the largest ones, so a small log's probes stay in cache.
   */
  reset(): void {
    this.size = 0;
    this.used = 0;
    this.filter?.fill(0);
    this.slots = this.slotsCap.subarray(0, 256).fill(0);
    this.mask = 127;
  }
}

/**
 * One client table (with its arrays at the largest size a scan needed) and one pair of read buffers kept by
 * this thread between scans, for the reason in ByteKeys.reset: a long-lived worker process scans without
 * allocating them again. Memory, held from the first scan on: the table, ~5.3 MiB for 100,000 IPv4 clients (more
 * for longer addresses), and 2 x (chunk + 64 KiB) of buffers, 8.1 MiB by default. A scan that finds them taken
 * (scans at once) allocates its own.
 */
const spare: { clientKeys?: ByteKeys; bufs?: readonly [Buffer, Buffer] } = {};

/**
 * Allocates now what a scan keeps between scans (see `spare`): the client table, at the size `maxClients`
 * clients of ~16 bytes need, and read buffers for `chunkBytes` reads of lines up to `maxLineBytes`; about 13 MiB
 * with the defaults. The worker's start-up warm-up calls it, so the first diagnosis neither allocates them nor
 * meets their pages for the first time.
 */
export function reserveScanMemory(
  opts: { maxClients?: number; chunkBytes?: number; maxLineBytes?: number } = {},
): void {
  const keys = spare.clientKeys ?? new ByteKeys(20);
  const clients = opts.maxClients ?? 100_000;
  keys.reserve(clients, clients * 16);
  spare.clientKeys = keys;
  const n = (opts.maxLineBytes ?? 64 * 1024) + 8 + (opts.chunkBytes ?? 4 * 1024 * 1024) + 8;
  // fill: Buffer.alloc's zeroed memory is mapped only when first written; this writes it now.
  if (!spare.bufs || spare.bufs[0].length < n)
    spare.bufs = [Buffer.alloc(n).fill(0), Buffer.alloc(n).fill(0)];
}

function takeClientKeys(): ByteKeys {
  const k = spare.clientKeys;
  if (!k) return new ByteKeys(20);
  spare.clientKeys = undefined;
  k.reset();
  return k;
}

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

function same(b: Uint8Array, s: number, e: number, k: number[]): boolean {
  if (e - s !== k.length) return false;
  for (let i = 0; i < k.length; i++) if (b[s + i] !== k[i]) return false;
  return true;
}

/** Byte strings in order: their bytes back to back and each one's length (cheap to post to another thread). */
export interface KeyList {
  bytes: Uint8Array;
  lens: Int32Array;
}

/**
 * The raw tallies of one scanned byte range, which {@link mergeTallies} folds (in file order) into a summary.
 * `clients` holds the range's first-seen clients (the first `tracked`), then any `maxClients` keys it was given
 * when it hit the cap (see `Scan.onCap`); `clientsCapped`: an in-window client it could not count.
 */
export interface RangeTally {
  lines: number;
  inWindow: number;
  previousWindow: number;
  errors5xx: number;
  firstTime: number;
  lastTime: number;
  unparsable: number;
  events: number;
  binary: number;
  truncated: number;
  clientsCapped: boolean;
  clients: KeyList;
  tracked: number;
  clientCounts: number[];
  servers: ServerTally[];
  noServer: { tally: NoServerTally; statuses: [number, number][] }[];
  noise: [string, number][];
  /** Session cookies in first-seen order (at most `maxClients`); `cookiesCapped`: one more could not be counted. */
  cookies: CookieCount[];
  cookiesCapped: boolean;
}

interface NoServerEntry {
  tally: NoServerTally;
  statuses: Map<number, number>;
  sampleBytes: Uint8Array[];
}

/**
 * The tallies of one pass. `line` reads a line straight from the read buffer: a fast path for lines in the exact
 * shape HAProxy writes, which allocates nothing, and for any other line the full {@link parseHaproxyHttpLogLine}
 * on the decoded text, so both accept and read the same lines.
 *
 * The fast path's token loops stop at any byte <= 32, so they need no bounds checks: every line is followed by
 * `\r`, `\n` or the end of the buffer, and preceded by `\n` (the reader puts one there for a chunk's first line).
 * A token that ends on a control byte rather than a space goes to the slow path.
 */
class Scan {
  lines = 0;
  inWindow = 0;
  previousWindow = 0;
  errors5xx = 0;
  firstTime = Number.POSITIVE_INFINITY;
  lastTime = Number.NEGATIVE_INFINITY;
  unparsable = 0;
  events = 0;
  binary = 0;
  truncated = 0;
  clientsCapped = false;
  /**
   * For a range scan: called once, when a new client arrives with `maxClients` tracked, with the tracked ones;
   * returns the clients of the whole file's first `maxClients` (the ones the single pass tracks), which are
   * added (uncounted so far: none of the untracked ones has appeared in this range yet) and counted from here
   * on. Without it, the rest are dropped as in the single pass.
   */
  onCap: ((tracked: KeyList) => KeyList) | undefined;
  /** Clients first seen in this range, before any `onCap` additions. */
  private tracked = -1;
  readonly clientKeys = takeClientKeys();
  readonly clientCounts: number[] = [];
  readonly serverKeys = new ByteKeys();
  readonly servers: ServerTally[] = [];
  readonly noServerKeys = new ByteKeys();
  readonly noServer: NoServerEntry[] = [];
  /** Client noise per reason (see haproxyNoise), in first-seen order. */
  readonly noise = new Map<string, number>();
  /**
   * Captured request cookies (`%CC`): per id its requests, the server id of its first one and its requests there,
   * and (rare: the cookie moved) `[server id, requests]` pairs for the others, in first-seen order.
   */
  readonly cookieKeys = new ByteKeys();
  readonly cookieCounts: number[] = [];
  readonly cookieServer: number[] = [];
  readonly cookieOnServer: number[] = [];
  readonly cookieMoves = new Map<number, number[]>();
  cookiesCapped = false;
  /** The first '[' at or after the current line's start, when a search has already run past it; else -1. */
  private nextBracket = -1;
  /** The last `dd/Mon/yyyy:HH:M` seen (bytes 1..16 after '[' as four words, then byte 17) and its epoch ms. */
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

  /** Starts a chunk (cached search results point into the previous one). */
  chunk(): void {
    this.nextBracket = -1;
  }

  /** One line `b[s..e)` without its `\n`; a trailing `\r` is dropped here. `b` ends where valid data ends. */
  line(b: Buffer, dv: DataView, s: number, e: number): void {
    this.lines++;
    if (e > s && b[e - 1] === 13) e--;
    if (e > s && !this.fast(b, dv, s, e)) this.slow(b, s, e);
  }

  /**
   * Reads and tallies a line in the exact shape HAProxy writes; false (having counted nothing) for any other.
   *
   * Searches go a word (4 bytes) at a time: with `w` four bytes read little-endian,
   * `(w - 0x21212121) & ~w & 0x80808080` flags bytes below 0x21 (space, control bytes; never bytes >= 0x80) and,
   * with `y = w ^ 0xXXXXXXXX`, `~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y) & 0x80808080` flags bytes equal to XX.
   * Flags above a true one can be spurious (borrows), so only the lowest is used: the first match in memory, or
   * the last when read big-endian to walk backwards. The searches are written out here rather than called
   * because V8 stops inlining small functions into a function this size. Each is a `do`/`while` that steps a
   * whole word and steps back after it: no statement runs only for tokens longer than the first lines had, so
   * V8 never meets code without type feedback in the optimized function and deoptimizes it (a 4-digit byte
   * count first seen 800 lines in did, and cost a cold 1M-line scan ~15 ms).
   */
  private fast(b: Buffer, dv: DataView, s: number, e: number): boolean {
    // The first '[' that opens `dd/Mon/yyyy:` after a space, as findDateBracket in the parser. The reader puts
    // a '[' after the data, so the search needs no bound; what it finds past this line serves the next ones.
    let z = 0;
    let p = this.nextBracket;
    let from = p < s ? s : -1;
    for (;;) {
      if (from !== -1) {
        p = from;
        do {
          const y = dv.getInt32(p, true) ^ 0x5b5b5b5b;
          z = ~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y) & 0x80808080;
          p += 4;
        } while (z === 0);
        p += ((31 - Math.clz32(z & -z)) >> 3) - 4;
      }
      if (
        p >= e ||
        (p > s &&
          p + 12 < e &&
          b[p - 1] === 32 &&
          b[p + 3] === 47 &&
          b[p + 7] === 47 &&
          b[p + 12] === 58 &&
          b[p + 1]! >= 48 &&
          b[p + 1]! <= 57)
      )
        break;
      from = p + 1;
    }
    this.nextBracket = p;
    if (p + 27 >= e) return false;
    const lb = p;
    // Date: the minute is compared as words with the last one seen; seconds and millis are read here. The first
    // lines of a scan read it anyway, so V8 has seen newMinute called from here before it optimizes this
    // function (otherwise the first new minute, 60,000 lines in at 1,000 requests a second, deoptimizes it).
    if (
      this.lines <= 64 ||
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
      (s1 | s2 | m1 | m2 | m3) < 0 ||
      s1 > 9 ||
      s2 > 9 ||
      m1 > 9 ||
      m2 > 9 ||
      m3 > 9
    )
      return false;
    const time = this.minuteMs + (s1 * 10 + s2) * 1000 + m1 * 100 + m2 * 10 + m3;
    // client: the token before " [", up to its last ':' (walking back to a ':' or a byte <= 32)
    let j = lb - 2;
    do {
      const w = dv.getInt32(j - 3, false);
      const y = w ^ 0x3a3a3a3a;
      z = ((w - 0x21212121) & ~w & 0x80808080) | (~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y) & 0x80808080);
      j -= 4;
    } while (z === 0);
    j -= ((31 - Math.clz32(z & -z)) >> 3) - 4;
    let ce = lb - 1;
    if (b[j] === 58) {
      ce = j--;
      do {
        const w = dv.getInt32(j - 3, false);
        z = (w - 0x21212121) & ~w & 0x80808080;
        j -= 4;
      } while (z === 0);
      j -= ((31 - Math.clz32(z & -z)) >> 3) - 4;
    }
    if (b[j] !== 32 && j >= s) return false;
    const cs = j + 1;
    // frontend
    let i = lb + 27;
    do {
      const w = dv.getInt32(i, true);
      z = (w - 0x21212121) & ~w & 0x80808080;
      i += 4;
    } while (z === 0);
    i += ((31 - Math.clz32(z & -z)) >> 3) - 4;
    if (i === lb + 27 || b[i] !== 32) return false;
    const feE = i;
    // backend '/' server
    const bsS = ++i;
    do {
      const w = dv.getInt32(i, true);
      const y = w ^ 0x2f2f2f2f;
      z = ((w - 0x21212121) & ~w & 0x80808080) | (~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y) & 0x80808080);
      i += 4;
    } while (z === 0);
    i += ((31 - Math.clz32(z & -z)) >> 3) - 4;
    if (b[i] !== 47) return false;
    const slash = i++;
    do {
      const w = dv.getInt32(i, true);
      z = (w - 0x21212121) & ~w & 0x80808080;
      i += 4;
    } while (z === 0);
    i += ((31 - Math.clz32(z & -z)) >> 3) - 4;
    if (b[i] !== 32) return false;
    const bsE = i++;
    // TR/Tw/Tc/Tr/Ta: five parts
    let n = 0;
    do {
      const w = dv.getInt32(i, true);
      z = (w - 0x21212121) & ~w & 0x80808080;
      const y = w ^ 0x2f2f2f2f;
      // ~(z | -z): the bytes before the first one <= 32, or all four when there is none
      n +=
        Math.imul((~(z | -z) & ~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y) & 0x80808080) >>> 7, 0x01010101) >>> 24;
      i += 4;
    } while (z === 0);
    i += ((31 - Math.clz32(z & -z)) >> 3) - 4;
    if (n !== 4 || b[i] !== 32) return false;
    // status: -?digits
    let neg = false;
    if (b[++i] === 45) {
      neg = true;
      i++;
    }
    const stS = i;
    let status = 0;
    let d = b[i]! - 48;
    while (d >= 0 && d <= 9) {
      status = status * 10 + d;
      d = b[++i]! - 48;
    }
    if (i === stS || i - stS > 9 || b[i] !== 32) return false;
    if (neg) status = -status;
    // bytes_read (non-empty), then the two captured cookies (may be empty): three tokens; the request cookie's
    // bounds are kept
    const byS = ++i;
    let ckS = 0;
    let ckE = 0;
    for (let k = 0; k < 3; k++) {
      if (k === 1) ckS = i;
      do {
        const w = dv.getInt32(i, true);
        z = (w - 0x21212121) & ~w & 0x80808080;
        i += 4;
      } while (z === 0);
      i += ((31 - Math.clz32(z & -z)) >> 3) - 4;
      if (b[i] !== 32 || i === byS) return false;
      if (k === 1) ckE = i;
      i++;
    }
    // termination state: four characters
    if (b[i]! <= 32 || b[i + 1]! <= 32 || b[i + 2]! <= 32 || b[i + 3]! <= 32 || b[i + 4] !== 32) return false;
    const term = b[i]! | (b[i + 1]! << 8);
    i += 5;
    // actconn/feconn/beconn/srv_conn/retries: five parts; then srv_queue/backend_queue: two parts, possibly the
    // last field
    for (let k = 0; k < 2; k++) {
      n = 0;
      do {
        const w = dv.getInt32(i, true);
        z = (w - 0x21212121) & ~w & 0x80808080;
        const y = w ^ 0x2f2f2f2f;
        // ~(z | -z): the bytes before the first one <= 32, or all four when there is none
        n +=
          Math.imul((~(z | -z) & ~(((y & 0x7f7f7f7f) + 0x7f7f7f7f) | y) & 0x80808080) >>> 7, 0x01010101) >>>
          24;
        i += 4;
      } while (z === 0);
      i += ((31 - Math.clz32(z & -z)) >> 3) - 4;
      if (k === 0 ? n !== 4 || b[i] !== 32 : n !== 1 || (b[i] !== 32 && i < e)) return false;
      i++;
    }
    if (!this.counts(time)) return true;
    this.record(status, term, b, dv, cs, ce, lb + 27, feE, bsS, slash, bsE, Math.min(i, e), e, -2, ckS, ckE);
    return true;
  }

  /** Reads and checks `dd/Mon/yyyy:HH:M` after the '[' at `lb` into the minute cache; false when it is not a date. */
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

  /** Any line the fast path does not take: the full parser decides, on the same latin1 text as the line reader. */
  private slow(b: Buffer, s: number, e: number): void {
    const text = b.toString('latin1', s, e);
    const r = parseHaproxyHttpLogLine(text, this.offsetMinutes);
    if (!r) {
      if (looksBinary(text)) this.binary++;
      else if (isHaproxyEventLine(text)) this.events++;
      else this.unparsable++;
      return;
    }
    if (!this.counts(r.time)) return;
    // The fields laid out as bytes, so they are keyed exactly like the fast path's:
    // client fe backend/server cookie path
    const cookie = r.cookie ?? '-';
    const k = Buffer.from(
      `${r.client} ${r.frontend} ${r.backend}/${r.serverField} ${cookie} ${r.path ?? ''}`,
      'latin1',
    );
    const ce = r.client.length;
    const feE = ce + 1 + r.frontend.length;
    const slash = feE + 1 + r.backend.length;
    const bsE = slash + 1 + r.serverField.length;
    const ckE = bsE + 1 + cookie.length;
    const kdv = new DataView(k.buffer, k.byteOffset, k.length);
    this.record(
      r.status,
      r.termination.charCodeAt(0) | (r.termination.charCodeAt(1) << 8),
      k,
      kdv,
      0,
      ce,
      ce + 1,
      feE,
      feE + 1,
      slash,
      bsE,
      k.length,
      k.length,
      r.path ? ckE + 1 : -1,
      bsE + 1,
      ckE,
    );
  }

  /**
   * Tallies one request in the window, as summarizeAccessLog does: client `b[cs..ce)`, frontend `b[feS..feE)`,
   * `backend/server` at `b[bsS..bsE)` split at `slash`. For `<NOSRV>`, the path is the second word of the quoted
   * request at `b[afterQueues..e)` when `pathStart` is -2, else `b[pathStart..e)` (-1: none). The captured request
   * cookie is `b[ckS..ckE)` (`-` or empty: none).
   */
  private record(
    status: number,
    term: number,
    b: Uint8Array,
    dv: DataView,
    cs: number,
    ce: number,
    feS: number,
    feE: number,
    bsS: number,
    slash: number,
    bsE: number,
    afterQueues: number,
    e: number,
    pathStart: number,
    ckS: number,
    ckE: number,
  ): void {
    this.inWindow++;
    const is5xx = status >= 500 && status <= 599;
    if (is5xx) this.errors5xx++;
    const hc = keyHash(b, dv, cs, ce);
    const ci = this.clientKeys.find(b, dv, cs, ce, hc);
    if (ci !== -1) this.clientCounts[ci]!++;
    else if (this.tracked === -1 && this.clientKeys.size < this.maxClients) {
      this.clientKeys.add(b, cs, ce, hc);
      this.clientCounts.push(1);
    } else this.capped(b, dv, cs, ce, hc);
    if (b[slash + 1] === 60) {
      if (same(b, slash + 1, bsE, NOSRV)) {
        const noise = haproxyNoise(status, term & 0xff, term >> 8);
        if (noise !== undefined) {
          this.noise.set(noise, (this.noise.get(noise) ?? 0) + 1);
          return;
        }
        this.recordNoServer(status, b, dv, feS, feE, bsS, slash, afterQueues, e, pathStart);
        return;
      }
      if (same(b, slash + 1, bsE, STATS)) return;
    }
    const h = keyHash(b, dv, bsS, bsE);
    let si = this.serverKeys.find(b, dv, bsS, bsE, h);
    if (si === -1) {
      si = this.serverKeys.add(b, bsS, bsE, h);
      const text = Buffer.from(b.buffer, b.byteOffset, b.length);
      this.servers.push({
        backend: text.toString('latin1', bsS, slash),
        server: text.toString('latin1', slash + 1, bsE),
        requests: 0,
        errors5xx: 0,
        connectFailures: 0,
      });
    }
    const st = this.servers[si]!;
    st.requests++;
    if (is5xx) st.errors5xx++;
    // 'S' 'C': the server refused or did not answer the connection, as the load balancer saw it.
    if (term === SC) st.connectFailures!++;
    if (ckE - ckS > 1 || (ckE - ckS === 1 && b[ckS] !== 45)) this.cookie(b, dv, ckS, ckE, si);
  }

  /** Counts a captured request cookie `b[s..e)` of a request server `si` answered. */
  private cookie(b: Uint8Array, dv: DataView, s: number, e: number, si: number): void {
    const h = keyHash(b, dv, s, e);
    const id = this.cookieKeys.find(b, dv, s, e, h);
    if (id !== -1) {
      this.cookieCounts[id]!++;
      if (this.cookieServer[id] === si) this.cookieOnServer[id]!++;
      else {
        const moves = this.cookieMoves.get(id) ?? [];
        let k = 0;
        while (k < moves.length && moves[k] !== si) k += 2;
        if (k < moves.length) moves[k + 1]!++;
        else moves.push(si, 1);
        this.cookieMoves.set(id, moves);
      }
    } else if (this.cookieKeys.size < this.maxClients) {
      this.cookieKeys.add(b, s, e, h);
      this.cookieCounts.push(1);
      this.cookieServer.push(si);
      this.cookieOnServer.push(1);
    } else this.cookiesCapped = true;
  }

  /**
   * Starts a range with the clients the single pass tracks, when they are already known (the ranges before it
   * had `maxClients` of them): it counts those and no others, and its own first-seen ones do not matter.
   */
  seed(all: KeyList): void {
    this.onCap = undefined;
    this.tracked = 0;
    this.addUncounted(all);
  }

  private addUncounted(list: KeyList): void {
    this.clientKeys.merge(list, Number.POSITIVE_INFINITY, (id) => {
      if (id === this.clientCounts.length) this.clientCounts.push(0);
    });
  }

  private capped(b: Uint8Array, dv: DataView, cs: number, ce: number, hc: number): void {
    const onCap = this.onCap;
    if (onCap) {
      this.onCap = undefined;
      this.tracked = this.clientKeys.size;
      const own = this.clientKeys.export();
      const all = onCap(own);
      if (all !== own) this.addUncounted(all);
      const ci = this.clientKeys.find(b, dv, cs, ce, hc);
      if (ci !== -1) {
        this.clientCounts[ci]!++;
        return;
      }
    }
    this.clientsCapped = true;
  }

  private recordNoServer(
    status: number,
    b: Uint8Array,
    dv: DataView,
    feS: number,
    feE: number,
    bsS: number,
    slash: number,
    afterQueues: number,
    e: number,
    pathStart: number,
  ): void {
    const h = keyHash(b, dv, bsS, slash);
    let ni = this.noServerKeys.find(b, dv, bsS, slash, h);
    if (ni === -1) {
      const text = Buffer.from(b.buffer, b.byteOffset, b.length);
      ni = this.noServerKeys.add(b, bsS, slash, h);
      this.noServer.push({
        tally: {
          backend: text.toString('latin1', bsS, slash),
          frontend: text.toString('latin1', feS, feE),
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
    // The path as the parser reads it: the second word between the first '"' after the queue field and the
    // line's last '"' (or its end).
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
    // a copy: the read buffer is reused
    ns.sampleBytes.push(Uint8Array.prototype.slice.call(b, ps, pe));
    ns.tally.samplePaths.push(Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1', ps, pe));
  }

  tally(): RangeTally {
    return {
      lines: this.lines,
      inWindow: this.inWindow,
      previousWindow: this.previousWindow,
      errors5xx: this.errors5xx,
      firstTime: this.firstTime,
      lastTime: this.lastTime,
      unparsable: this.unparsable,
      events: this.events,
      binary: this.binary,
      truncated: this.truncated,
      clientsCapped: this.clientsCapped,
      clients: this.clientKeys.export(),
      tracked: this.tracked === -1 ? this.clientKeys.size : this.tracked,
      clientCounts: this.clientCounts,
      servers: this.servers,
      noServer: this.noServer.map(({ tally, statuses }) => ({ tally, statuses: [...statuses] })),
      noise: [...this.noise],
      cookies: this.cookieTallies(),
      cookiesCapped: this.cookiesCapped,
    };
  }

  private cookieTallies(): CookieCount[] {
    if (this.cookieKeys.size === 0) return [];
    const list = this.cookieKeys.export();
    const text = Buffer.from(list.bytes.buffer, list.bytes.byteOffset, list.bytes.length);
    const out: CookieCount[] = [];
    const at = (si: number, n: number): [string, string, number] => {
      const st = this.servers[si]!;
      return [st.backend, st.server, n];
    };
    let o = 0;
    for (let id = 0; id < list.lens.length; id++) {
      const on = [at(this.cookieServer[id]!, this.cookieOnServer[id]!)];
      const moves = this.cookieMoves.get(id) ?? [];
      for (let k = 0; k < moves.length; k += 2) on.push(at(moves[k]!, moves[k + 1]!));
      out.push({
        cookie: text.toString('latin1', o, o + list.lens[id]!),
        requests: this.cookieCounts[id]!,
        on,
      });
      o += list.lens[id]!;
    }
    return out;
  }
}

/**
 * Folds the tallies of consecutive byte ranges, in file order, into exactly the summary one pass over them all
 * gives: counts summed; servers, `<NOSRV>` backends, statuses and sample paths in first-seen order (a range's
 * new keys after those of the ranges before it); the clients the single pass would track (the first
 * `maxClients` in file order) with their counts summed, and the top ten rebuilt from those.
 */
export function mergeTallies(
  from: number,
  to: number,
  maxClients: number,
  tallies: RangeTally[],
): LogWindowSummary {
  const t0 = tallies[0]!;
  let counts = t0.clientCounts;
  let keys: (id: number) => string;
  let distinct = t0.tracked;
  let clientsCapped = t0.clientsCapped;
  const sum = {
    lines: 0,
    inWindow: 0,
    previousWindow: 0,
    errors5xx: 0,
    unparsable: 0,
    events: 0,
    binary: 0,
    truncated: 0,
  };
  let firstTime = Number.POSITIVE_INFINITY;
  let lastTime = Number.NEGATIVE_INFINITY;
  const servers = new Map<string, ServerTally>();
  const noServer = new Map<string, { tally: NoServerTally; statuses: Map<number, number> }>();
  const noise: Record<string, number> = {};
  // Cookies in file order, up to maxClients; past that only the cap is reported (see cookieSummary).
  const cookies = new Map<string, CookieCount>();
  let cookiesCapped = false;
  for (const t of tallies) {
    for (const [reason, n] of t.noise) noise[reason] = (noise[reason] ?? 0) + n;
    if (t.cookiesCapped) cookiesCapped = true;
    for (const c of t.cookies)
      for (const [backend, server, n] of c.on)
        if (!countCookie(cookies, c.cookie, backend, server, maxClients, n)) cookiesCapped = true;
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += t[k];
    firstTime = Math.min(firstTime, t.firstTime);
    lastTime = Math.max(lastTime, t.lastTime);
    for (const st of t.servers) {
      const k = `${st.backend}/${st.server}`;
      const m = servers.get(k);
      if (!m) servers.set(k, tallies.length === 1 ? st : { ...st });
      else {
        m.requests += st.requests;
        m.errors5xx += st.errors5xx;
        m.connectFailures = (m.connectFailures ?? 0) + (st.connectFailures ?? 0);
      }
    }
    for (const ns of t.noServer) {
      let m = noServer.get(ns.tally.backend);
      if (!m) {
        m = { tally: { ...ns.tally, requests: 0, statuses: {}, samplePaths: [] }, statuses: new Map() };
        noServer.set(ns.tally.backend, m);
      }
      m.tally.requests += ns.tally.requests;
      for (const [st, n] of ns.statuses) m.statuses.set(st, (m.statuses.get(st) ?? 0) + n);
      // Each range kept its first five distinct paths, so the first five of all are among them.
      for (const p of ns.tally.samplePaths)
        if (m.tally.samplePaths.length < 5 && !m.tally.samplePaths.includes(p)) m.tally.samplePaths.push(p);
    }
  }
  if (tallies.length === 1) {
    const list = t0.clients;
    const offs = new Int32Array(list.lens.length + 1);
    for (let i = 0; i < list.lens.length; i++) offs[i + 1] = offs[i]! + list.lens[i]!;
    const text = Buffer.from(list.bytes.buffer, list.bytes.byteOffset, list.bytes.length);
    keys = (id) => text.toString('latin1', offs[id]!, offs[id + 1]!);
  } else {
    // The single pass tracks the first maxClients in file order: each range's own first-seen ones, in order,
    // then the range's counts (for the keys added at its cap, too) go to the tracked ones.
    const merged = new ByteKeys();
    counts = [];
    for (const t of tallies) {
      if (t.clientsCapped) clientsCapped = true;
      merged.merge(
        { bytes: t.clients.bytes, lens: t.clients.lens.subarray(0, t.tracked) },
        maxClients,
        (id) => {
          if (id === -1) clientsCapped = true;
          else if (id === counts.length) counts.push(0);
        },
      );
    }
    for (const t of tallies)
      merged.merge(t.clients, 0, (id, k) => {
        if (id !== -1) counts[id]! += t.clientCounts[k]!;
      });
    distinct = merged.size;
    keys = (id) => merged.key(id);
  }
  const top = topIds(counts, 10);
  return {
    from,
    to,
    lines: sum.lines,
    inWindow: sum.inWindow,
    previousWindow: sum.previousWindow,
    firstTime: firstTime !== Number.POSITIVE_INFINITY ? firstTime : undefined,
    lastTime: lastTime !== Number.NEGATIVE_INFINITY ? lastTime : undefined,
    servers: [...servers.values()],
    noServer: [...noServer.values()].map(({ tally, statuses }) => {
      for (const [st, n] of statuses) tally.statuses[String(st)] = n;
      return tally;
    }),
    errors5xx: sum.errors5xx,
    noise,
    topClients: top.map((id) => ({ client: keys(id), requests: counts[id]! })),
    distinctClients: distinct,
    clientsCapped,
    ...cookieSummary(cookies, cookiesCapped),
    problems: {
      unparsable: sum.unparsable,
      binary: sum.binary,
      truncated: sum.truncated,
      events: sum.events,
    },
  };
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

/** One range scan, as plain data (it may go to a worker thread). */
export interface RangeJob {
  path: string;
  /** A line start. */
  start: number;
  /** A line start or the end of the file (`Infinity`: read to the end). */
  end: number;
  from: number;
  to: number;
  offsetMinutes: number;
  maxClients: number;
  maxLineBytes: number;
  chunkBytes: number;
}

function jobOf(path: string, opts: HaproxyLogScanOptions, start: number, end: number): RangeJob {
  return {
    path,
    start,
    end,
    from: opts.from.getTime(),
    to: opts.to.getTime(),
    offsetMinutes: opts.utcOffsetMinutes ?? 0,
    maxClients: opts.maxClients ?? 100_000,
    maxLineBytes: opts.maxLineBytes ?? 64 * 1024,
    chunkBytes: Math.max(1, opts.chunkBytes ?? 4 * 1024 * 1024),
  };
}

/**
 * The raw tallies of the lines in `[job.start, job.end)`, read from one reused buffer: no string per line, one
 * native newline search per line, per-server and per-client tallies keyed by the bytes themselves. Memory: the
 * buffers (`chunkBytes` + `maxLineBytes`, twice) plus the tracked clients. `clients`: see `Scan.onCap` and
 * `Scan.seed`.
 */
export async function scanRange(
  job: RangeJob,
  clients: { onCap?: (tracked: KeyList) => KeyList; seed?: KeyList } = {},
  signal?: AbortSignal,
): Promise<RangeTally> {
  const max = job.maxLineBytes;
  const chunk = Math.min(job.chunkBytes, Math.max(1, job.end - job.start));
  const scan = new Scan(job.from, job.to, job.offsetMinutes, job.maxClients);
  scan.onCap = clients.onCap;
  if (clients.seed) scan.seed(clients.seed);
  // [head | chunk | pad]: an unfinished last line (at most `max` bytes) moves to just before where the next
  // read lands, so every complete line is contiguous; the byte before it is set to '\n' (see Scan). Head and
  // pad leave room for word reads on either side.
  const head = max + 8;
  // Two buffers: the next read lands in one while the other is scanned (the copy from the page cache runs on
  // Node's I/O pool; the scan stays on this thread).
  // Kept between scans (see `spare`); a kept pair at least this long serves, as every index below is < its length.
  let bufs = spare.bufs;
  if (bufs && bufs[0].length >= head + chunk + 8) spare.bufs = undefined;
  else bufs = [Buffer.alloc(head + chunk + 8), Buffer.alloc(head + chunk + 8)] as const;
  const dvs = bufs.map((b) => new DataView(b.buffer, b.byteOffset, b.length));
  signal?.throwIfAborted();
  const fh = await open(job.path, 'r');
  let pos = job.start;
  const read = (b: Buffer) => {
    const n = Math.min(chunk, job.end - pos);
    return n > 0 ? fh.read(b, head, n, pos) : Promise.resolve({ bytesRead: 0 });
  };
  let cur = 0;
  let tail = 0;
  let dropping = false;
  let pending: Promise<{ bytesRead: number }> | undefined = read(bufs[0]);
  try {
    for (;;) {
      const { bytesRead } = await pending;
      pending = undefined;
      if (bytesRead === 0) break;
      pos += bytesRead;
      signal?.throwIfAborted();
      const buf = bufs[cur]!;
      const dv = dvs[cur]!;
      const next = bufs[cur ^ 1]!;
      pending = read(next);
      const end = head + bytesRead;
      // Bounded, so native searches never run into stale bytes past `end`.
      const v = buf.subarray(0, end);
      buf[end] = 91;
      scan.chunk();
      let s = head - tail;
      buf[s - 1] = 10;
      let nl = v.indexOf(10, head);
      if (dropping && nl !== -1) {
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
      tail = dropping ? 0 : end - s;
      if (tail > max) {
        // An over-long line is skipped up to its end, so memory stays bounded.
        scan.truncated++;
        dropping = true;
        tail = 0;
      } else if (tail > 0) {
        // The unfinished line goes just before where the pending read lands (that read only writes after it).
        buf.copy(next, head - tail, s, end);
      }
      cur ^= 1;
    }
  } finally {
    if (pending) await pending.catch(() => undefined);
    await fh.close();
  }
  if (tail > 0 && !dropping) {
    const buf = bufs[cur]!;
    scan.chunk();
    buf[head - tail - 1] = 10;
    buf[head] = 10;
    buf[head + 1] = 91;
    scan.line(buf.subarray(0, head), dvs[cur]!, head - tail, head);
  }
  const tally = scan.tally();
  // The tally holds copies of the client keys, so the table and buffers can serve the next scan.
  if (!spare.clientKeys) spare.clientKeys = scan.clientKeys;
  if (!spare.bufs || spare.bufs[0].length < bufs[0].length) spare.bufs = bufs;
  return tally;
}

/**
 * Summarizes an HAProxy `option httplog` file over `[from, to)` to exactly what `summarizeAccessLog` gives with
 * {@link parseHaproxyHttpLogLine} (see {@link scanRange}). A file of at least `parallelMinBytes` is cut into
 * `threads` line-aligned ranges scanned by worker threads and merged ({@link mergeTallies}); when the workers
 * cannot start (say, no tsx loader for the `.ts` worker), one thread scans it. Rejects when the file cannot be
 * read or `signal` aborts (which stops the workers).
 * Format: https://docs.haproxy.org/2.6/configuration.html#8.2.3
 */
export async function summarizeHaproxyHttpLog(
  path: string,
  opts: HaproxyLogScanOptions,
): Promise<LogWindowSummary> {
  opts.signal?.throwIfAborted();
  const threads = Math.max(1, Math.floor(opts.threads ?? Math.min(availableParallelism(), 4)));
  if (threads > 1) {
    const size = (await stat(path)).size;
    if (size > 0 && size >= (opts.parallelMinBytes ?? 512 * 1024 * 1024)) {
      // The first range runs here from the start; a worker starts later (~0.1 s under tsx on the bench
      // machine), so the first range is longer by about what this thread scans meanwhile.
      const head = Math.min(size, startupBytes());
      const w = (size - head) / threads;
      const cuts = Array.from({ length: threads - 1 }, (_, k) => Math.floor(head + w * (k + 1)));
      const r = await summarizeInRanges(path, opts, cuts, 'workers');
      if (r) return r;
    }
  }
  const job = jobOf(path, opts, 0, Number.POSITIVE_INFINITY);
  return mergeTallies(job.from, job.to, job.maxClients, [await scanRange(job, {}, opts.signal)]);
}

/** Bytes the first range gets beyond its share (see summarizeHaproxyHttpLog): rough, from the 10M-line bench. */
const startupBytes = () => (import.meta.url.endsWith('.ts') ? 32 * 1024 * 1024 : 8 * 1024 * 1024);

/** `[start, end)` ranges covering the file, cut at the first line start at or after each of `cuts`. */
async function lineRanges(path: string, cuts: number[]): Promise<[number, number][]> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const bounds = [0];
    const b = Buffer.alloc(64 * 1024);
    for (const cut of cuts.map(Math.floor).sort((x, y) => x - y)) {
      let at = Math.max(cut, bounds.at(-1)!);
      if (at <= 0) continue;
      // the first '\n' at or after at - 1
      let nl = -1;
      for (let p = at - 1; nl === -1 && p < size; ) {
        const { bytesRead } = await fh.read(b, 0, b.length, p);
        if (bytesRead === 0) break;
        const i = b.subarray(0, bytesRead).indexOf(10);
        if (i !== -1) nl = p + i;
        p += bytesRead;
      }
      at = nl === -1 ? size : nl + 1;
      if (at > bounds.at(-1)! && at < size) bounds.push(at);
    }
    bounds.push(size);
    return bounds.slice(1).map((e, k) => [bounds[k]!, e]);
  } finally {
    await fh.close();
  }
}

/**
 * Hands each capped range the clients the single pass tracks (the first `maxClients` of the whole file) once
 * they are known: from the first-seen lists of the ranges before it (final when a range ends or caps) and its own.
 * A range waits only on earlier ones, and the first never waits, so this cannot deadlock.
 */
class CapCoordinator {
  private readonly lists: (KeyList | undefined)[];
  private readonly waiting = new Map<number, (t: KeyList) => void>();
  private tracked: KeyList | undefined;

  constructor(
    n: number,
    private readonly maxClients: number,
  ) {
    this.lists = new Array(n).fill(undefined);
  }

  capped(j: number, list: KeyList, reply: (t: KeyList) => void): void {
    this.lists[j] = list;
    this.waiting.set(j, reply);
    this.flush();
  }

  done(j: number, t: RangeTally): void {
    this.lists[j] ??= t.clients;
    this.flush();
  }

  /** The clients the single pass tracks, if the lists known so far decide them. */
  known(): KeyList | undefined {
    if (this.tracked) return this.tracked;
    const first = this.lists[0];
    // The first list alone: already in order and at most maxClients long
    if (first && first.lens.length >= this.maxClients) this.tracked = first;
    else {
      const keys = new ByteKeys();
      for (const list of this.lists) {
        if (keys.size >= this.maxClients) break;
        if (!list) return undefined;
        keys.merge(list, this.maxClients, () => {});
      }
      if (keys.size < this.maxClients) return undefined;
      this.tracked = keys.export();
    }
    return this.tracked;
  }

  private flush(): void {
    if (this.waiting.size === 0) return;
    const t = this.known();
    if (!t) return;
    for (const [j, reply] of this.waiting) {
      this.waiting.delete(j);
      reply(t);
    }
  }
}

/**
 * The summary from ranges cut at `cuts` (see {@link lineRanges}). The first range is scanned on this thread (at
 * its cap its own clients decide, so it never waits) and each other one by a worker thread, or all of them here
 * one after the other (`inline`, for tests). Undefined when a worker fails: the caller scans on one thread,
 * which reports any real read error.
 */
export async function summarizeInRanges(
  path: string,
  opts: HaproxyLogScanOptions,
  cuts: number[],
  mode: 'workers' | 'inline',
): Promise<LogWindowSummary | undefined> {
  const ranges = await lineRanges(path, cuts);
  const jobs = ranges.map(([s, e]) => jobOf(path, opts, s, e));
  const { from, to, maxClients } = jobs[0]!;
  const coord = new CapCoordinator(jobs.length, maxClients);
  // Here, a range before this one is done or capped, so a cap is answered at once.
  const here = async (j: number) => {
    const onCap = (list: KeyList) => {
      let got: KeyList | undefined;
      coord.capped(j, list, (t) => {
        got = t;
      });
      return got!;
    };
    const t = await scanRange(jobs[j]!, { onCap, seed: j > 0 ? coord.known() : undefined }, opts.signal);
    coord.done(j, t);
    return t;
  };
  if (mode === 'inline') {
    const tallies: RangeTally[] = [];
    for (let j = 0; j < jobs.length; j++) tallies.push(await here(j));
    return mergeTallies(from, to, maxClients, tallies);
  }
  const flags = new SharedArrayBuffer(4 * jobs.length);
  // One failed worker stops them all: a later range may be waiting for its clients.
  const stop = () => {
    for (const w of workers) w.stop();
  };
  const workers = jobs.slice(1).map((job, k) => runWorker(job, k + 1, coord, flags, stop));
  opts.signal?.addEventListener('abort', stop, { once: true });
  try {
    const first = await here(0);
    const rest = await Promise.all(workers.map((w) => w.tally));
    opts.signal?.throwIfAborted();
    const tallies = [first, ...rest];
    return tallies.every((t) => t !== undefined) ? mergeTallies(from, to, maxClients, tallies) : undefined;
  } finally {
    opts.signal?.removeEventListener('abort', stop);
    stop();
  }
}

/**
 * A range worker. Under tsx the worker is a `.ts` file, and Node 20 does not apply the `--import tsx` loader
 * inherited through execArgv to a worker's entry module (ERR_UNKNOWN_FILE_EXTENSION). Registering tsx's ESM
 * hooks in the worker works but costs ~0.15-0.3 s (a hooks thread per worker); its CommonJS hook loads the
 * worker in ~40 ms, so the worker and the modules it imports avoid top-level await and read `import.meta` only
 * in functions the main thread calls. Without tsx installed the worker fails and the scan runs on one thread.
 */
function startWorker(data: RangeWorkerData, port: MessagePort): Worker {
  const opts = { workerData: data, transferList: [port] };
  const ts = import.meta.url.endsWith('.ts');
  const worker = new URL(`./haproxy-log-scan-worker.${ts ? 'ts' : 'js'}`, import.meta.url);
  if (!ts) return new Worker(worker, opts);
  const api = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const code = `require(${JSON.stringify(api)}).register(); require(${JSON.stringify(fileURLToPath(worker))});`;
  return new Worker(code, { ...opts, eval: true });
}

/** Data a range worker starts with (see haproxy-log-scan-worker.ts). */
export interface RangeWorkerData {
  job: RangeJob;
  /** Where the coordinator's answer to a cap arrives. */
  port: MessagePort;
  /** One Int32 per range, incremented when an answer is posted (the worker blocks on it). */
  flags: SharedArrayBuffer;
  index: number;
}

/** Messages from a range worker. */
export type RangeWorkerMessage =
  | { type: 'start' }
  | { type: 'cap'; list: KeyList }
  | { type: 'done'; tally: RangeTally };

/** Scans range `j` in a worker; `tally` is undefined when the worker fails or is stopped. */
function runWorker(
  job: RangeJob,
  j: number,
  coord: CapCoordinator,
  flags: SharedArrayBuffer,
  failed: () => void,
): { tally: Promise<RangeTally | undefined>; stop: () => void } {
  const flag = new Int32Array(flags);
  let w: Worker | undefined;
  let resolve: (t: RangeTally | undefined) => void = () => {};
  const tally = new Promise<RangeTally | undefined>((r) => {
    resolve = r;
  });
  let settled = false;
  const settle = (t: RangeTally | undefined) => {
    settled = true;
    resolve(t);
  };
  const fail = () => {
    if (settled) return;
    settle(undefined);
    failed();
  };
  try {
    const { port1, port2 } = new MessageChannel();
    w = startWorker({ job, port: port2, flags, index: j }, port2);
    const reply = (t: KeyList | null) => {
      port1.postMessage(t);
      Atomics.add(flag, j, 1);
      Atomics.notify(flag, j);
    };
    w.on('message', (m: RangeWorkerMessage) => {
      if (m.type === 'start') return reply(coord.known() ?? null);
      if (m.type === 'cap') return coord.capped(j, m.list, reply);
      coord.done(j, m.tally);
      port1.close();
      settle(m.tally);
    });
    w.on('error', fail);
    // (a worker's last messages arrive before its exit)
    w.on('exit', () => setImmediate(fail));
  } catch {
    queueMicrotask(fail);
  }
  return {
    tally,
    stop: () => {
      settle(undefined);
      void w?.terminate();
    },
  };
}
