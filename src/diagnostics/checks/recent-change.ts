import { type DiagnosticsState, type LbSources, type RunOptions, skippedOn } from '../lb-sources.js';
import type { Pool } from '../model.js';
import type { HaproxyConfig } from '../sources/haproxy-config.js';
import type { NginxConfig } from '../sources/nginx-config.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../thresholds.js';
import { type CheckResult, lbBearing, makeResult, type Verdict } from './result.js';

/** The routing-relevant lines of a config, normalized for diffing (servers with weights and flags, balance, rules). */
export function routingLines(cfg: { haproxy?: HaproxyConfig; nginx?: NginxConfig }): string[] {
  const out: string[] = [];
  for (const p of cfg.haproxy?.proxies ?? []) {
    if (p.balance) out.push(`${p.kind} ${p.name}: balance ${p.balance}`);
    for (const s of p.servers) {
      const flags = [s.check ? 'check' : '', s.backup ? 'backup' : '', s.disabled ? 'disabled' : ''].filter(
        Boolean,
      );
      out.push(
        `${p.kind} ${p.name}: server ${s.name} ${s.address} weight ${s.weight}${flags.length ? ` ${flags.join(' ')}` : ''}`,
      );
    }
    for (const r of p.rules)
      out.push(`${p.kind} ${p.name}: ${r.kind} ${r.target}${r.condition ? ` if ${r.condition}` : ''}`);
    if (p.defaultBackend) out.push(`${p.kind} ${p.name}: default_backend ${p.defaultBackend}`);
  }
  // Lines from an included nginx file start with its name (`conf.d/api.conf: upstream api: ...`); main-file lines have none.
  const from = (file: string | undefined) => (file === undefined ? '' : `${file}: `);
  for (const u of cfg.nginx?.upstreams ?? []) {
    if (u.method !== 'round-robin') out.push(`${from(u.file)}upstream ${u.name}: ${u.method}`);
    for (const s of u.servers) {
      const flags = [s.down ? 'down' : '', s.backup ? 'backup' : ''].filter(Boolean);
      out.push(
        `${from(s.file)}upstream ${u.name}: server ${s.address} weight=${s.weight}${flags.length ? ` ${flags.join(' ')}` : ''}`,
      );
    }
  }
  for (const r of cfg.nginx?.routes ?? [])
    out.push(`${from(r.file)}location ${r.location}: proxy_pass ${r.proxyPass}`);
  return out;
}

/** Lines only in `before` (`- `) or only in `after` (`+ `), in order: a small unified-ish diff of routing lines. */
export function diffLines(before: string[], after: string[]): string[] {
  const b = new Set(before);
  const a = new Set(after);
  return [
    ...before.filter((l) => !a.has(l)).map((l) => `- ${l}`),
    ...after.filter((l) => !b.has(l)).map((l) => `+ ${l}`),
  ];
}

/** Input for {@link checkRecentChange}; `now` and `mtimeMs` are epoch ms; hashes are hex sha256 of the config file (and its includes). */
export interface RecentChangeInput {
  target: string;
  now: number;
  configPath?: string;
  hash?: string;
  mtimeMs?: number;
  /** The file `mtimeMs` belongs to when it is not `configPath` (an nginx included file modified last). */
  modifiedPath?: string;
  previousHash?: string;
  /** Routing lines of the current and (when the caller kept it) the previous config, for a diff. */
  currentLines?: string[];
  previousLines?: string[];
  pools?: Pool[];
  windowMs?: number;
  thresholds?: Thresholds;
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172_800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}

/**
 * recent-change: warns when the LB config changed recently: its content hash differs from the last one seen
 * (`previousHash`, kept by the caller) or its mtime is within `recentChangeMinutes`; shows a diff of the
 * routing lines when the previous content is known, and servers whose state changed (`lastchg`) in the window.
 */
export function checkRecentChange(input: RecentChangeInput): CheckResult {
  const th = input.thresholds ?? DEFAULT_THRESHOLDS;
  const evidence: string[] = [];
  const headlines: string[] = [];
  let verdict: Verdict = 'pass';
  if (input.hash === undefined) {
    return makeResult({
      checkId: 'recent-change',
      target: input.target,
      verdict: 'skipped',
      summary: 'no config file configured for this load balancer',
    });
  }
  const changedContent = input.previousHash !== undefined && input.previousHash !== input.hash;
  if (changedContent) {
    verdict = 'warn';
    headlines.push(`${input.configPath ?? 'config'} changed since the last check`);
    evidence.push(`sha256 ${(input.previousHash ?? '').slice(0, 12)} -> ${input.hash.slice(0, 12)}`);
  }
  if (input.mtimeMs !== undefined) {
    const age = input.now - input.mtimeMs;
    const modified = input.modifiedPath ?? input.configPath ?? 'config';
    if (age <= th.recentChangeMinutes * 60_000) {
      verdict = 'warn';
      headlines.push(`${modified} was modified ${ago(age)}`);
    }
    const which =
      input.modifiedPath && input.modifiedPath !== input.configPath ? `${input.modifiedPath} ` : '';
    evidence.push(`${which}modified ${new Date(input.mtimeMs).toISOString()} (${ago(age)})`);
  }
  if (input.previousLines && input.currentLines) {
    const diff = diffLines(input.previousLines, input.currentLines);
    if (diff.length > 0) evidence.push('routing changes:', ...diff);
    else if (changedContent) evidence.push('no change to servers, weights or routing rules');
  }
  if (input.windowMs !== undefined) {
    for (const p of input.pools ?? []) {
      for (const s of p.servers) {
        if (s.lastChangeSec !== undefined && s.lastChangeSec * 1000 <= input.windowMs) {
          evidence.push(`${p.name}/${s.name} became ${s.status} ${ago(s.lastChangeSec * 1000)}`);
        }
      }
    }
  }
  const summary =
    headlines.length > 0
      ? headlines.join('; ')
      : input.previousHash === undefined
        ? `config unchanged for ${input.mtimeMs !== undefined ? ago(input.now - input.mtimeMs).replace(' ago', '') : 'a while'} (first look: no previous hash)`
        : 'config unchanged since the last check';
  return makeResult({
    checkId: 'recent-change',
    target: input.target,
    verdict,
    summary,
    evidence,
    bears: lbBearing(verdict),
  });
}

/**
 * Runs recent-change on a load balancer: its config file's hash, mtime and routing lines against those the
 * previous run kept (`opts.previous`); records this run's in `state` for the next.
 */
export async function runRecentChange(
  ctx: LbSources,
  opts: RunOptions,
  state: DiagnosticsState,
): Promise<CheckResult> {
  const target = ctx.lb.name;
  const cfg = await ctx.parsedConfig();
  if (!cfg) return skippedOn(ctx, 'recent-change', 'no config file configured');
  const pools = await ctx.pools().catch(() => undefined);
  const lines = routingLines(cfg);
  state.configHashes[target] = cfg.hash;
  state.configLines[target] = lines;
  return checkRecentChange({
    target,
    now: (opts.now ?? opts.to).getTime(),
    configPath: cfg.path,
    hash: cfg.hash,
    mtimeMs: cfg.mtimeMs,
    modifiedPath: cfg.modifiedPath,
    previousHash: opts.previous?.configHashes[target],
    previousLines: opts.previous?.configLines?.[target],
    currentLines: lines,
    pools: pools?.pools,
    windowMs: opts.to.getTime() - opts.from.getTime(),
    thresholds: ctx.config.thresholds,
  });
}
