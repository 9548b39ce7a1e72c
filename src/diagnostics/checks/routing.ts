import { configNotes, type LbSources, skippedOn } from '../lb-sources.js';
import { type Pool, pct, sharingServers } from '../model.js';
import { noiseEvidence } from '../sources/client-noise.js';
import type { HaproxyConfig } from '../sources/haproxy-config.js';
import { type NoServerTally, problemNotes } from '../sources/log-window.js';
import type { NginxConfig } from '../sources/nginx-config.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../thresholds.js';
import { type CheckResult, lbBearing, makeResult, type Verdict, worst } from './result.js';

/** A rule that sends requests somewhere: `from` (frontend or nginx server_name), a readable condition, the backend, the config line. */
export interface Route {
  from: string;
  condition: string;
  backend: string;
  line: number;
  /** The included file the line is in (nginx); absent for the main config file. */
  file?: string;
}

/** Routes from a HAProxy config: every `use_backend` (in order) and the `default_backend` of each frontend/listen. */
export function routesFromHaproxyConfig(cfg: HaproxyConfig): Route[] {
  const routes: Route[] = [];
  for (const p of cfg.proxies) {
    if (p.kind === 'backend') continue;
    for (const r of p.rules) {
      if (r.kind === 'use_backend')
        routes.push({ from: p.name, condition: r.condition || 'always', backend: r.target, line: r.line });
    }
    if (p.defaultBackend)
      routes.push({ from: p.name, condition: 'default', backend: p.defaultBackend, line: p.line });
  }
  return routes;
}

/** Routes from an nginx config: each `location` whose `proxy_pass` names an upstream group. */
export function routesFromNginxConfig(cfg: NginxConfig): Route[] {
  return cfg.routes
    .filter((r) => r.upstream !== undefined)
    .map((r) => ({
      from: r.serverNames.join(' ') || 'server',
      condition: `location ${r.location}`,
      backend: r.upstream!,
      line: r.line,
      ...(r.file !== undefined ? { file: r.file } : {}),
    }));
}

/** Input for {@link checkRouting}. */
export interface RoutingInput {
  target: string;
  pools: Pool[];
  routes?: Route[];
  /** Requests that found no server, from the access log window. */
  noServer?: NoServerTally[];
  /** Whether `pools` reflect live status (stats) or only the config. */
  liveStatus: boolean;
  /** The window's request count and client noise (from the same log as `noServer`), for the share threshold and the evidence. */
  log?: { inWindow: number; noise?: Record<string, number> };
  thresholds?: Thresholds;
}

/**
 * routing: requests that got no server (`<NOSRV>`; nginx logs the upstream group name in `$upstream_addr`)
 * and config rules that send a path/host to a backend that does not exist or has no usable server.
 */
export function checkRouting(input: RoutingInput): CheckResult {
  const th = input.thresholds ?? DEFAULT_THRESHOLDS;
  const evidence: string[] = [];
  const notes: string[] = [];
  const verdicts: Verdict[] = [];
  const headlines: string[] = [];
  const pools = new Map(input.pools.map((p) => [p.name, p]));
  for (const r of input.routes ?? []) {
    const pool = pools.get(r.backend);
    const rule = `${r.from}: ${r.condition === 'default' ? 'default_backend' : r.condition} -> ${r.backend} (${r.file !== undefined ? `${r.file} ` : ''}line ${r.line})`;
    if (!pool) {
      verdicts.push('fail');
      headlines.push(`${r.from} sends "${r.condition}" to ${r.backend}, which does not exist`);
      evidence.push(`${rule}: no such backend`);
    } else if (pool.servers.length === 0 || sharingServers(pool).length === 0) {
      verdicts.push('fail');
      const why =
        pool.servers.length === 0
          ? 'which has no servers'
          : `whose servers are all unusable (${pool.servers.map((s) => `${s.name} ${s.status}`).join(', ')})`;
      headlines.push(`${r.from} sends "${r.condition}" to ${r.backend}, ${why}`);
      evidence.push(`${rule}: no usable server${input.liveStatus ? '' : ' (per config)'}`);
    } else {
      evidence.push(`${rule}: ${sharingServers(pool).length} usable server(s)`);
    }
  }
  const total = input.log?.inWindow;
  for (const ns of input.noServer ?? []) {
    if (ns.requests === 0) continue;
    const statuses = Object.entries(ns.statuses)
      .map(([s, n]) => `${n}x ${s}`)
      .join(', ');
    const share = total ? ns.requests / total : undefined;
    // A finding needs both a count and a share: one stray 503 among thousands is not a broken route.
    if (ns.requests >= th.noServerMinCount && (share === undefined || share >= th.noServerMinShare)) {
      verdicts.push('fail');
      headlines.push(`${ns.requests} requests to ${ns.backend || 'a frontend'} found no server`);
    } else {
      notes.push(
        `${ns.requests} request(s) to ${ns.backend || 'a frontend'} found no server${share !== undefined ? ` (${pct(share)} of ${total})` : ''}: below the finding threshold (${th.noServerMinCount} requests and ${pct(th.noServerMinShare)} of the window)`,
      );
    }
    evidence.push(
      `${ns.frontend ? `${ns.frontend} -> ` : ''}${ns.backend || '?'}: ${ns.requests} requests with no server (${statuses})` +
        (ns.samplePaths.length ? `, e.g. ${ns.samplePaths.join(' ')}` : ''),
    );
  }
  evidence.push(...noiseEvidence(input.log?.noise));
  const verdict = worst(verdicts);
  const summary =
    headlines.length > 0
      ? headlines.join('; ')
      : input.routes && input.routes.length > 0
        ? `all ${input.routes.length} routing rules lead to backends with usable servers; no request went without a server`
        : 'no request went without a server';
  return makeResult({
    checkId: 'routing',
    target: input.target,
    verdict,
    summary,
    evidence,
    notes,
    seenFrom: [
      ...(input.routes ? (['lb-config'] as const) : []),
      ...(input.liveStatus ? (['lb-stats'] as const) : []),
      ...(input.noServer ? (['lb-log'] as const) : []),
    ],
    bears: lbBearing(verdict),
  });
}

/** Runs routing on a load balancer: routes from its config file, servers from stats or config, `<NOSRV>` tallies from its log. */
export async function runRouting(ctx: LbSources): Promise<CheckResult> {
  const pools = await ctx.pools();
  const cfg = await ctx.parsedConfig();
  const log = await ctx.log();
  if (!pools && !log) return skippedOn(ctx, 'routing', 'needs stats, a config file or an access log');
  let routes: Route[] | undefined;
  if (cfg?.haproxy) routes = routesFromHaproxyConfig(cfg.haproxy);
  else if (cfg?.nginx) routes = routesFromNginxConfig(cfg.nginx);
  const r = checkRouting({
    target: ctx.lb.name,
    pools: pools?.pools ?? [],
    routes,
    noServer: log?.noServer,
    liveStatus: !!pools?.live,
    log,
    thresholds: ctx.config.thresholds,
  });
  r.notes.push(...configNotes(cfg), ...(log ? problemNotes(log.problems) : []));
  return r;
}
