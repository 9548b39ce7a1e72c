import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (benchmarks spawn `src/web.ts` / `src/worker.ts` from here). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const SIGNING_SECRET = 'bench-signing-secret-0123456789';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A unique Redis key prefix for one benchmark run (cleaned up at the end). */
export function benchPrefix(name: string): string {
  return `ibbench-${name}-${randomBytes(3).toString('hex')}`;
}

/** The machine, as BENCHMARKS.md reports it. */
export function machine() {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
  };
}

/** A free TCP port on loopback (closed again before returning; a tiny race is acceptable in a bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `check` every `everyMs` until it returns a truthy value, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** A child process started by a benchmark; `stop()` sends SIGTERM and waits for the exit. */
export interface Child {
  proc: ChildProcess;
  stderr: () => string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx <script>` from the repository root with `env` added to this process's. */
export function spawnNode(
  script: string,
  env: NodeJS.ProcessEnv,
  args: string[] = [],
  nodeArgs: string[] = [],
): Child {
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  return {
    proc,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/** Resolves once `url` answers with any HTTP status (the server is listening). */
export function waitHttp(url: string, child?: Child, timeoutMs = 30_000): Promise<number> {
  return until(
    `${url} to answer`,
    async () => {
      if (child && child.proc.exitCode !== null)
        throw new Error(`process exited (${child.proc.exitCode}): ${child.stderr()}`);
      const res = await fetch(url);
      await res.arrayBuffer();
      return res.status;
    },
    timeoutMs,
  );
}

/** The value at quantile `q` (0..1) of an ascending array. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Median of a list of numbers. */
export function median(xs: number[]): number {
  return quantile(
    [...xs].sort((a, b) => a - b),
    0.5,
  );
}

/** Rounds for display: 3 significant digits below 100, integers above. */
export function fmt(v: unknown): string {
  if (typeof v !== 'number') return String(v ?? '');
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 100) return Math.round(v).toLocaleString('en-US');
  return String(Number(v.toPrecision(3)));
}

/** Prints a titled table of rows (objects with the same keys) to stdout. */
export function printTable(title: string, rows: Record<string, unknown>[]): void {
  console.log(`\n## ${title}`);
  if (rows.length === 0) {
    console.log('(no rows)');
    return;
  }
  const cols = Object.keys(rows[0]!);
  const cells = rows.map((r) => cols.map((c) => fmt(r[c])));
  const width = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (xs: string[]) => `| ${xs.map((x, i) => x.padEnd(width[i]!)).join(' | ')} |`;
  console.log(line(cols));
  console.log(`|${width.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of cells) console.log(line(r));
}

/** Result of {@link timed}: wall time and peak RSS of a child process as `/usr/bin/time -v` reports them. */
export interface TimedRun {
  wallMs: number;
  maxRssKiB: number;
  stdout: string;
  exitCode: number | null;
}

/**
 * Runs `cmd args` under `/usr/bin/time -v` (stdin from `stdinFile` when given) and reports wall time
 * and "Maximum resident set size". Peak RSS is the kernel's figure for that one process.
 */
export function timed(cmd: string, args: string[], opts: { stdinFile?: string } = {}): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const shellArgs = ['-v', cmd, ...args];
    // The shell does the redirect so the measured process reads the file itself, as `halog < file` would.
    const script = opts.stdinFile
      ? `exec /usr/bin/time ${shellArgs.map(q).join(' ')} < ${q(opts.stdinFile)}`
      : `exec /usr/bin/time ${shellArgs.map(q).join(' ')}`;
    const t0 = performance.now();
    const p = spawn('/bin/sh', ['-c', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    p.once('error', reject);
    p.once('close', (code) => {
      const wallMs = performance.now() - t0;
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      if (!rss) return reject(new Error(`no /usr/bin/time output for ${cmd}: ${err.slice(-2000)}`));
      resolve({ wallMs, maxRssKiB: Number(rss[1]), stdout: out, exitCode: code });
    });
  });
}

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One benchmark: its name (for `npm run bench -- <name>`) and a run function returning JSON-able results. */
export interface Bench {
  name: string;
  description: string;
  run(): Promise<Record<string, unknown>>;
}
