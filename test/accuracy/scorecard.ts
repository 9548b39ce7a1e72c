/**
 * The accuracy scorecard: every recorded scenario (test/fixtures/diagnostics/recordings/<lb>-<scenario>/) run
 * through every check the bot would run on it, twice: replayed as recorded (the backends answer the bot's
 * probes, except those that refused connections in the lab) and replayed with every backend gone (as if the bot
 * ran on another network than the load balancer). Each result is compared with the verdicts in the scenario's
 * `expected.yml`. A verdict more severe than expected (warn or fail where pass/skipped is expected, fail where warn
 * is) is a false alarm; a less severe one is a miss; any other difference (pass for skipped, an error) is wrong.
 */
import { once } from 'node:events';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { CheckResult } from '../../src/core/check.js';
import { loadDiagnosticsConfig } from '../../src/diagnostics/config.js';
import { probeTcp } from '../../src/diagnostics/probes.js';
import { runDiagnostics } from '../../src/diagnostics/run.js';

export const RECORDINGS = join(import.meta.dirname, '../fixtures/diagnostics/recordings');

const Verdict = z.enum(['pass', 'warn', 'fail', 'skipped', 'error']);
const Expectation = z.union([
  Verdict,
  z.object({
    verdict: Verdict,
    /** Servers the summary must name (e.g. the one taking the traffic). */
    names: z.array(z.string()).default([]),
  }),
]);
type Expectation = z.infer<typeof Expectation>;

/** One scenario's expected.yml. */
export const Expected = z.strictObject({
  /** What the scenario is, for people. */
  about: z.string().optional(),
  /** Every check the bot runs on this recording, with its verdict. */
  checks: z.record(z.string(), Expectation),
  /** Overrides when the backends are unreachable from the bot (the rest must not change). */
  unreachable: z.record(z.string(), Expectation).default({}),
  /** Backend addresses (`127.0.0.1:port` as recorded) that refused connections in the lab. */
  refused: z.array(z.string()).default([]),
});
export type Expected = z.infer<typeof Expected>;

export type Variant = 'as recorded' | 'backends unreachable';
export type Outcome = 'ok' | 'false alarm' | 'miss' | 'wrong';

/** One cell of the scorecard. */
export interface Row {
  scenario: string;
  variant: Variant;
  check: string;
  expected: string;
  got: string;
  /** Pool servers the summary names. */
  named: string[];
  outcome: Outcome;
  summary: string;
}

/** Reads and validates an expected.yml; throws naming the file and the field to fix. */
export function readExpected(path: string): Expected {
  let data: unknown;
  try {
    data = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = Expected.safeParse(data);
  if (!r.success)
    throw new Error(
      `${path}: ${r.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`).join('; ')}`,
    );
  return r.data;
}

const ADDR = /127\.0\.0\.1:(\d+)(?!\d)/g;

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

/** A loopback port nothing listens on right now (checked with a connect that must be refused). */
async function closedPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    const probe = await probeTcp('127.0.0.1', port, 1000);
    if (!probe.ok) return port;
  }
}

function normalize(e: Expectation): { verdict: string; names: string[] } {
  return typeof e === 'string' ? { verdict: e, names: [] } : e;
}

/** pass and skipped say "nothing wrong"; a verdict more severe than expected is a false alarm, less severe a miss. */
function judge(expected: string, got: string, namesOk: boolean): Outcome {
  if (expected === got) return namesOk ? 'ok' : 'wrong';
  const rank: Record<string, number> = { skipped: 0, pass: 0, warn: 1, fail: 2 };
  const e = rank[expected];
  const g = rank[got];
  if (e === undefined || g === undefined) return 'wrong';
  if (g > e) return 'false alarm';
  if (g < e) return 'miss';
  return 'wrong';
}

function named(r: CheckResult): string[] {
  const names = new Set<string>();
  for (const s of r.servers) if (r.summary.includes(s.server)) names.add(s.server);
  return [...names];
}

/**
 * Replays one recording in a temporary copy whose backend addresses are moved to fresh loopback ports: listened
 * on (as recorded) or left closed (backends unreachable). Resolves with its rows; never leaves a listener behind.
 */
export async function replay(scenario: string, variant: Variant): Promise<Row[]> {
  const src = join(RECORDINGS, scenario);
  const expected = readExpected(join(src, 'expected.yml'));
  const window = JSON.parse(readFileSync(join(src, 'window.json'), 'utf8')) as { recordedAt: string };
  // Newer recordings say which backends refused connections in backends.json (written by record.ts).
  const refused = existsSync(join(src, 'backends.json'))
    ? (JSON.parse(readFileSync(join(src, 'backends.json'), 'utf8')) as { refused: string[] }).refused
    : expected.refused;
  const dir = mkdtempSync(join(tmpdir(), `accuracy-${scenario}-`));
  const listeners: Server[] = [];
  try {
    cpSync(src, dir, { recursive: true });
    const configName = existsSync(join(dir, 'haproxy.cfg')) ? 'haproxy.cfg' : 'nginx.conf';
    const ports = new Map<string, number>();
    const hasConfig = existsSync(join(dir, configName));
    const addrText = hasConfig ? readFileSync(join(dir, configName), 'utf8') : '';
    for (const m of addrText.matchAll(ADDR)) if (!ports.has(m[1]!)) ports.set(m[1]!, await closedPort());
    for (const [old, port] of ports) {
      if (variant === 'backends unreachable' || refused.includes(`127.0.0.1:${old}`)) continue;
      const srv = createServer((sock) => sock.destroy());
      srv.listen(port, '127.0.0.1');
      await once(srv, 'listening');
      listeners.push(srv);
    }
    for (const f of readdirSync(dir)) {
      if (f === 'expected.yml' || f === 'window.json' || f === 'backends.json') continue;
      const p = join(dir, f);
      const text = readFileSync(p, 'latin1');
      writeFileSync(
        p,
        text.replace(ADDR, (all, port: string) => (ports.has(port) ? `127.0.0.1:${ports.get(port)}` : all)),
        'latin1',
      );
    }
    const at = Date.parse(window.recordedAt);
    // The lab aged its config two days so recent-change does not see a fresh file; the copy keeps that age.
    if (hasConfig)
      utimesSync(join(dir, configName), new Date(at - 2 * 86_400_000), new Date(at - 2 * 86_400_000));
    const { config, problems } = await loadDiagnosticsConfig(join(dir, 'targets.yml'));
    if (problems.length > 0) throw new Error(`${scenario}/targets.yml: ${problems.join('; ')}`);
    const to = new Date(at + 60_000);
    const { results } = await runDiagnostics(config, { from: new Date(at - 10 * 60_000), to, now: to });
    const want = { ...expected.checks, ...(variant === 'backends unreachable' ? expected.unreachable : {}) };
    const rows: Row[] = results.map((r) => {
      const e = want[r.checkId];
      const exp = e ? normalize(e) : { verdict: '(none)', names: [] };
      // Shown as recorded, so the table reads the same on every run.
      const back = new Map([...ports].map(([old, now]) => [String(now), old]));
      const got = named(r).map((n) =>
        n.replace(ADDR, (all, port: string) => (back.has(port) ? `127.0.0.1:${back.get(port)}` : all)),
      );
      const moved = (n: string) =>
        n.replace(ADDR, (all, port: string) => (ports.has(port) ? `127.0.0.1:${ports.get(port)}` : all));
      const namesOk = exp.names.every((n) => r.summary.includes(moved(n)));
      return {
        scenario,
        variant,
        check: r.checkId,
        expected: exp.verdict + (exp.names.length ? ` ${exp.names.join(',')}` : ''),
        got: r.verdict,
        named: got,
        outcome: e ? judge(exp.verdict, r.verdict, namesOk) : 'wrong',
        summary: r.summary,
      };
    });
    for (const id of Object.keys(want))
      if (!results.some((r) => r.checkId === id))
        rows.push({
          scenario,
          variant,
          check: id,
          expected: normalize(want[id]!).verdict,
          got: '(not run)',
          named: [],
          outcome: 'wrong',
          summary: 'the bot did not run this check on this recording',
        });
    return rows;
  } finally {
    await Promise.all(listeners.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every recording that has an expected.yml, in name order. */
export function scenarios(): string[] {
  return readdirSync(RECORDINGS)
    .filter((d) => existsSync(join(RECORDINGS, d, 'expected.yml')))
    .sort();
}

/** Runs the whole scorecard: every scenario, both variants. */
export async function scorecard(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const s of scenarios())
    for (const v of ['as recorded', 'backends unreachable'] as const) rows.push(...(await replay(s, v)));
  return rows;
}

/** The table `npm run accuracy` prints, then one line per problem with the check's summary, then the totals. */
export function render(rows: Row[]): string {
  const head = ['scenario', 'backends', 'check', 'expected', 'got', 'servers named', ''];
  const body = rows.map((r) => [
    r.scenario,
    r.variant === 'as recorded' ? 'reachable' : 'unreachable',
    r.check,
    r.expected,
    r.got,
    r.named.join(',') || '-',
    r.outcome === 'ok' ? '' : r.outcome.toUpperCase(),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)];
  const bad = rows.filter((r) => r.outcome !== 'ok');
  if (bad.length > 0) {
    out.push('');
    for (const r of bad) out.push(`${r.outcome}: ${r.scenario} (${r.variant}) ${r.check}: ${r.summary}`);
  }
  const count = (o: Outcome) => rows.filter((r) => r.outcome === o).length;
  out.push(
    '',
    `${rows.length} verdicts over ${new Set(rows.map((r) => r.scenario)).size} scenarios: ${count('ok')} right, ${count('false alarm')} false alarms, ${count('miss')} misses, ${count('wrong')} other wrong verdicts`,
  );
  return out.join('\n');
}
