import { type LbSources, skippedOn } from '../lb-sources.js';
import { type Pool, pct, sharingServers } from '../model.js';
import type { ServerTally } from '../sources/log-window.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../thresholds.js';
import {
  type CheckResult,
  lbBearing,
  makeResult,
  type ServerFigures,
  type Verdict,
  worst,
} from './result.js';

/** Input for {@link checkPoolHealth}: pools (from stats or config), optional per-server log tallies for 5xx shares. */
export interface PoolHealthInput {
  target: string;
  pools: Pool[];
  /** Window tallies from the access log; when absent, cumulative stats counters are used for 5xx shares. */
  tallies?: ServerTally[];
  thresholds?: Thresholds;
}

const FAILED_CHECKS = /^(L4TOUT|L4CON|L6TOUT|L6RSP|L7TOUT|L7RSP|L7STS|SOCKERR)$/;

/**
 * pool-health: servers DOWN/MAINT/DRAIN, failing health checks, backends with no usable server (fail),
 * queued requests and per-server 5xx shares (warn). Shares are fractions of each server's requests.
 */
export function checkPoolHealth(input: PoolHealthInput): CheckResult {
  const th = input.thresholds ?? DEFAULT_THRESHOLDS;
  const evidence: string[] = [];
  const servers: ServerFigures[] = [];
  const verdicts: Verdict[] = [];
  const headlines: string[] = [];
  const drainedAll: string[] = [];
  for (const pool of input.pools) {
    // Proxies without servers (a `listen stats`, a redirect-only backend) have nothing to be unhealthy;
    // routing flags a rule that sends traffic to one.
    if (pool.servers.length === 0) continue;
    const sharing = sharingServers(pool);
    // DRAIN and weight 0 are an operator taking a server out on purpose: reported, not a finding (unless no
    // server is left, below).
    const drained = pool.servers.filter(
      (s) => !s.usable && (s.status === 'DRAIN' || (s.weight === 0 && /^UP|^up/.test(s.status))),
    );
    const down = pool.servers.filter((s) => !s.usable && !drained.includes(s));
    drainedAll.push(...drained.map((s) => `${pool.name}/${s.name} (${s.status}, weight ${s.weight})`));
    for (const s of drained)
      evidence.push(
        `${pool.name}/${s.name}: ${s.status}, weight ${s.weight}: drained, takes no new requests (on purpose?)`,
      );
    if (sharing.length === 0) {
      verdicts.push('fail');
      headlines.push(
        `backend ${pool.name} has no usable server (${down.map((s) => `${s.name} ${s.status}`).join(', ')})`,
      );
    } else if (down.length > 0) {
      verdicts.push('warn');
      headlines.push(
        `${pool.name}: ${down.map((s) => `${s.name} is ${s.status}`).join(', ')}; ${sharing.length} of ${pool.servers.length} servers usable`,
      );
    }
    if (sharing.length > 0 && sharing.every((s) => s.backup)) {
      verdicts.push('warn');
      evidence.push(`${pool.name}: only backup servers are serving`);
    }
    if ((pool.queued ?? 0) > 0) {
      verdicts.push('warn');
      evidence.push(`${pool.name}: ${pool.queued} requests queued with no server assigned`);
    }
    for (const s of pool.servers) {
      const tally = input.tallies?.find((t) => t.backend === pool.name && t.server === s.name);
      const requests = tally?.requests ?? s.sessions;
      const errors = tally?.errors5xx ?? s.errors5xx;
      if (s.checkStatus && FAILED_CHECKS.test(s.checkStatus)) {
        evidence.push(
          `${pool.name}/${s.name}: health check ${s.checkStatus}${s.checkDetail ? ` (${s.checkDetail})` : ''}, status ${s.status}`,
        );
      } else if (!s.usable && !drained.includes(s)) {
        evidence.push(`${pool.name}/${s.name}: ${s.status}`);
      }
      const failed = tally?.connectFailures ?? 0;
      const attempts = (tally?.requests ?? 0) + failed;
      // The load balancer's own connect failures: a share of its attempts, and either a few or all of them.
      if (failed > 0 && failed / attempts > th.errorShare && (failed >= 5 || (tally?.requests ?? 0) === 0)) {
        verdicts.push('warn');
        headlines.push(
          `${pool.name}/${s.name}: the load balancer failed to connect ${failed} time${failed === 1 ? '' : 's'}`,
        );
        evidence.push(
          `${pool.name}/${s.name}: ${failed} failed connection${failed === 1 ? '' : 's'} and ${tally?.requests ?? 0} responses in the window (the load balancer's log; failed requests were retried on other servers where it could)`,
        );
      }
      if ((s.queued ?? 0) > 0) {
        verdicts.push('warn');
        evidence.push(`${pool.name}/${s.name}: ${s.queued} requests queued`);
      }
      if (
        requests &&
        errors !== undefined &&
        requests >= th.minRequests / 2 &&
        errors >= th.minErrors &&
        errors / requests > th.errorShare
      ) {
        verdicts.push('warn');
        headlines.push(`${pool.name}/${s.name} answers ${pct(errors / requests)} 5xx`);
        evidence.push(
          `${pool.name}/${s.name}: ${errors} of ${requests} responses were 5xx${tally ? ' in the window' : ' since HAProxy start'}`,
        );
      }
      servers.push({
        backend: pool.name,
        server: s.name,
        status: s.status,
        weight: s.weight,
        requests,
        errors5xx: errors,
      });
    }
  }
  const verdict = worst(verdicts);
  const withServers = input.pools.filter((p) => p.servers.length > 0);
  const usable = input.pools.reduce((n, p) => n + sharingServers(p).length, 0);
  const total = input.pools.reduce((n, p) => n + p.servers.length, 0);
  const summary =
    headlines.length > 0
      ? headlines.join('; ')
      : drainedAll.length > 0
        ? `${usable} of ${total} servers in ${withServers.length} backend${withServers.length === 1 ? '' : 's'} are usable; ${drainedAll.join(', ')} drained on purpose`
        : `all ${total} servers in ${withServers.length} backend${withServers.length === 1 ? '' : 's'} are usable`;
  if (headlines.length === 0) evidence.unshift(`${usable} of ${total} servers usable`);
  return makeResult({
    checkId: 'pool-health',
    target: input.target,
    verdict,
    summary,
    evidence,
    servers,
    seenFrom: [
      ...(input.pools.some((p) => p.servers.some((s) => s.sessions !== undefined))
        ? (['lb-stats'] as const)
        : ['lb-config' as const]),
      ...(input.pools.some((p) => p.servers.some((s) => s.checkStatus))
        ? (['lb-health-checks'] as const)
        : []),
      ...(input.tallies ? (['lb-log'] as const) : []),
    ],
    bears: lbBearing(verdict),
  });
}

/** Runs pool-health on a load balancer: pools from its stats (else config), 5xx shares from its log when there is one. */
export async function runPoolHealth(ctx: LbSources): Promise<CheckResult> {
  const pools = await ctx.pools();
  if (!pools) return skippedOn(ctx, 'pool-health', 'no stats source or config file to read pools from');
  if (pools.empty)
    return makeResult({
      checkId: 'pool-health',
      target: ctx.lb.name,
      verdict: 'fail',
      summary: pools.empty,
      evidence: [pools.empty],
      bears: lbBearing('fail'),
    });
  const log = await ctx.log().catch(() => undefined);
  const r = checkPoolHealth({
    target: ctx.lb.name,
    pools: pools.pools,
    tallies: log?.servers,
    thresholds: ctx.config.thresholds,
  });
  // The load balancer's own evidence beyond the pools (Envoy connect failures and panic, ELB fail-open),
  // first: the checklist shows the first few evidence lines only.
  r.evidence.unshift(...(pools.findings ?? []));
  if (pools.headline) r.summary = `${r.summary}; ${pools.headline}`;
  if (!pools.live) r.notes.push('no live stats: server status comes from the config file only');
  return r;
}
