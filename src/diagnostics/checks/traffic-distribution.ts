import { type LbSources, skippedOn } from '../lb-sources.js';
import { type Pool, type PoolServer, pct, sharingServers } from '../model.js';
import type { HaproxyConfig, HaproxyRule } from '../sources/haproxy-config.js';
import { problemNotes } from '../sources/log-window.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../thresholds.js';
import {
  type CheckResult,
  lbBearing,
  makeResult,
  type ServerFigures,
  type Verdict,
  worst,
} from './result.js';

/** Requests per server over the window, from the access log or from `stot` deltas between two stats samples. */
export interface ObservedCount {
  backend: string;
  server: string;
  requests: number;
}

/** Input for {@link checkTrafficDistribution}. */
export interface TrafficDistributionInput {
  target: string;
  pools: Pool[];
  observed: ObservedCount[];
  /** Where the counts come from, for the evidence ("access log 10:00-10:15", "stot delta over 5 s"). */
  source: string;
  /** `use-server` rules per backend (they pin requests and explain skew). */
  rules?: Record<string, HaproxyRule[]>;
  /** Distinct client addresses in the window (explains `balance source` skew). */
  distinctClients?: number;
  thresholds?: Thresholds;
}

const HASHING = /^(source|uri|url_param|hdr|rdp-cookie|hash|ip_hash)/;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * traffic-distribution: compares each server's observed share of requests with its expected share by
 * weight (weight / sum of usable peers' weights) and with an even split. Fails when a usable server gets
 * more than `skewHigh`x or less than `skewLow`x its expected share with a binomial z-score above `skewZ`
 * (enough requests to be sure), and when the weights themselves concentrate a pool on one server.
 */
export function checkTrafficDistribution(input: TrafficDistributionInput): CheckResult {
  const th = input.thresholds ?? DEFAULT_THRESHOLDS;
  const evidence: string[] = [`requests counted from ${input.source}`];
  const notes: string[] = [];
  const servers: ServerFigures[] = [];
  const verdicts: Verdict[] = [];
  const headlines: string[] = [];
  let judged = 0;
  for (const pool of input.pools) {
    const sharing = sharingServers(pool);
    const weightSum = sharing.reduce((n, s) => n + s.weight, 0);
    const count = (s: PoolServer) =>
      input.observed.find((o) => o.backend === pool.name && o.server === s.name)?.requests ?? 0;
    const total = pool.servers.reduce((n, s) => n + count(s), 0);
    const expected = (s: PoolServer) => (sharing.includes(s) && weightSum > 0 ? s.weight / weightSum : 0);
    const even = (s: PoolServer) => (sharing.includes(s) ? 1 / sharing.length : 0);
    for (const s of pool.servers) {
      servers.push({
        backend: pool.name,
        server: s.name,
        status: s.status,
        weight: s.weight,
        requests: count(s),
        observedShare: total > 0 ? count(s) / total : undefined,
        expectedShare: expected(s),
        evenShare: even(s),
      });
    }
    if (sharing.length < 2) continue;

    // Weights that concentrate the pool: one peer weighted far above the rest.
    const top = sharing.reduce((a, b) => (b.weight > a.weight ? b : a));
    const others = sharing.filter((s) => s !== top).map((s) => s.weight);
    const topShare = weightSum > 0 ? top.weight / weightSum : 0;
    const med = median(others);
    if (topShare > 0.5 && (med === 0 || top.weight / med >= th.weightRatio)) {
      const weights = sharing.map((s) => `${s.name}=${s.weight}`).join(', ');
      const observedTop = total > 0 ? count(top) / total : undefined;
      const sure = total >= th.minRequests;
      const v: Verdict = observedTop === undefined || !sure ? 'warn' : observedTop > 0.5 ? 'fail' : 'warn';
      verdicts.push(v);
      headlines.push(
        `${pool.name}: weights (${weights}) send ${pct(topShare)} of requests to ${top.name}` +
          (observedTop !== undefined && sure ? `, and it took ${pct(observedTop)}` : '') +
          `; an even split would be ${pct(1 / sharing.length)}`,
      );
      evidence.push(
        `${pool.name}: ${top.name} weight ${top.weight} is ${(med > 0 ? top.weight / med : Number.POSITIVE_INFINITY).toFixed(1)}x the median of its peers (${med})`,
      );
    }

    if (total < th.minRequests) {
      notes.push(
        `${pool.name}: only ${total} requests in the window (need ${th.minRequests}) for a distribution verdict`,
      );
      continue;
    }
    judged++;
    for (const s of sharing) {
      const p = expected(s);
      const n = count(s);
      if (p <= 0 || p >= 1) continue;
      const ratio = n / total / p;
      const z = (n - total * p) / Math.sqrt(total * p * (1 - p));
      if ((ratio > th.skewHigh || ratio < th.skewLow) && Math.abs(z) > th.skewZ) {
        verdicts.push('fail');
        headlines.push(
          `${pool.name}/${s.name} takes ${pct(n / total)} of requests, expected ${pct(p)} by weight`,
        );
        evidence.push(
          `${pool.name}/${s.name}: ${n} of ${total} requests, ${ratio.toFixed(2)}x expected (z=${z.toFixed(1)})`,
        );
      }
    }
    const unusable = pool.servers.filter((s) => !sharing.includes(s) && count(s) > 0);
    for (const s of unusable) {
      notes.push(
        `${pool.name}/${s.name} (${s.status}) served ${count(s)} requests in the window (before its state changed?)`,
      );
    }
    if (verdicts.includes('fail') && pool.algo && HASHING.test(pool.algo)) {
      evidence.push(
        `${pool.name} uses "balance ${pool.algo}": requests hash by client/key` +
          (input.distinctClients !== undefined
            ? `, and the window has ${input.distinctClients} distinct client address(es)`
            : ''),
      );
    }
    for (const r of input.rules?.[pool.name] ?? []) {
      if (r.kind === 'use-server') {
        evidence.push(
          `${pool.name}: "use-server ${r.target}${r.condition ? ` if ${r.condition}` : ''}" (config line ${r.line}) pins requests to ${r.target}`,
        );
      }
    }
  }
  const verdict = verdicts.length > 0 ? worst(verdicts) : judged > 0 ? 'pass' : 'skipped';
  const summary =
    headlines.length > 0
      ? headlines.join('; ')
      : judged > 0
        ? 'requests follow the configured weights within statistical noise'
        : 'not enough requests in the window to judge the distribution';
  return makeResult({
    checkId: 'traffic-distribution',
    target: input.target,
    verdict,
    summary,
    evidence,
    servers,
    notes,
    bears: lbBearing(verdict),
  });
}

function rulesByBackend(cfg: HaproxyConfig | undefined): Record<string, HaproxyRule[]> {
  const out: Record<string, HaproxyRule[]> = {};
  for (const p of cfg?.proxies ?? [])
    if (p.kind !== 'frontend') out[p.name] = p.rules.filter((r) => r.kind === 'use-server');
  return out;
}

/**
 * Runs traffic-distribution on a load balancer: requests per server from its access log in the window, else
 * the `stot` deltas between two stats samples; weights from stats or config.
 */
export async function runTrafficDistribution(ctx: LbSources): Promise<CheckResult> {
  const pools = await ctx.pools();
  if (!pools)
    return skippedOn(
      ctx,
      'traffic-distribution',
      'no stats source or config file to read pools and weights from',
    );
  const cfg = await ctx.parsedConfig().catch(() => undefined);
  const log = await ctx.log();
  let observed: ObservedCount[];
  let source: string;
  const notes: string[] = [];
  if (log) {
    observed = log.servers;
    source = `the access log, ${new Date(log.from).toISOString()} to ${new Date(log.to).toISOString()}`;
    notes.push(...problemNotes(log.problems));
  } else {
    const deltas = await ctx.requestDeltas();
    if (!deltas && ctx.lb.kind === 'aws-elbv2')
      return skippedOn(
        ctx,
        'traffic-distribution',
        'ELB target health has no per-target request counts (CloudWatch RequestCountPerTarget is not read)',
      );
    if (!deltas) return skippedOn(ctx, 'traffic-distribution', 'needs an access log or a stats source');
    observed = deltas.observed;
    source = deltas.source;
  }
  const r = checkTrafficDistribution({
    target: ctx.lb.name,
    pools: pools.pools,
    observed,
    source,
    rules: rulesByBackend(cfg?.haproxy),
    distinctClients: log?.distinctClients,
    thresholds: ctx.config.thresholds,
  });
  r.notes.push(...notes);
  return r;
}
