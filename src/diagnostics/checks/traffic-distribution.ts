import { type LbSources, skippedOn } from '../lb-sources.js';
import { type Pool, type PoolServer, pct, sharingServers } from '../model.js';
import type { HaproxyConfig, HaproxyRule } from '../sources/haproxy-config.js';
import { type CookieTally, problemNotes } from '../sources/log-window.js';
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
  /** The busiest clients in the window (explains `balance source` / `ip_hash` / cookie concentration). */
  topClients?: { client: string; requests: number }[];
  /** The busiest session cookies in the window (explain concentration under cookie-keyed persistence or hashing). */
  topCookies?: CookieTally[];
  /** Distinct session cookies in the window; `cookiesCapped`: more than were tracked. */
  distinctCookies?: number;
  cookiesCapped?: boolean;
  /** False when there is no stats source or config, only a log: pools are built from what the log saw. */
  weightsKnown?: boolean;
  thresholds?: Thresholds;
}

const HASHING = /^(source|uri|url_param|hdr|rdp-cookie|hash|ip_hash|random)/;
/** Algorithms keyed on the client: few client addresses (a proxy in front) concentrate them by design. */
const CLIENT_KEYED = /^(source|ip_hash|hash \$remote_addr|hash \$binary_remote_addr)/;

/**
 * The cookie a pool's requests are keyed on, when its persistence or hashing follows a client's own cookie:
 * HAProxy `stick on|match req.cook(<name>)` (or `cook(<name>)`), `cookie <name> prefix` (the value keeps the
 * application's session after the server's prefix), nginx `hash $cookie_<name>`. Not `cookie <name> insert` /
 * `rewrite`: there the value names the server, so its diversity says nothing about the clients.
 * https://docs.haproxy.org/2.6/configuration.html#4.2-cookie, https://nginx.org/en/docs/http/ngx_http_upstream_module.html#hash
 */
export function keyCookieName(pool: Pick<Pool, 'algo' | 'persistence'>): string | undefined {
  const p = pool.persistence ?? '';
  const stick = /^stick\s+(?:on|match)\s+(?:req\.)?cook(?:ie)?\(([^)]+)\)/.exec(p);
  if (stick) return stick[1]!.trim();
  const prefixed = /^cookie\s+(\S+)\s+.*\bprefix\b/.exec(p);
  if (prefixed) return prefixed[1];
  return /^hash\s+\$cookie_(\w+)/.exec(pool.algo ?? '')?.[1];
}

/**
 * Whether a pool's algorithm promises shares by weight: HAProxy `roundrobin` / `static-rr` and nginx's default
 * round-robin do. `leastconn` / `least_conn`, `first`, `random`, hashing (`source`, `uri`, `url_param`, `hdr`,
 * `hash`, `ip_hash`), cookie persistence and stick tables do not: their shares follow load or keys.
 * https://docs.haproxy.org/2.6/configuration.html#4.2-balance, https://nginx.org/en/docs/http/ngx_http_upstream_module.html
 */
export function promisesWeights(pool: Pick<Pool, 'algo' | 'persistence'>): boolean {
  if (pool.persistence) return false;
  const a = (pool.algo ?? 'roundrobin').trim();
  return /^(roundrobin|static-rr|round-robin)$/.test(a);
}

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
  /** Pools judged without weights: their shares are by design (or weights are unknown). */
  const byDesign: string[] = [];
  const weightsKnown = input.weightsKnown !== false;
  const pools = weightsKnown ? input.pools : poolsFromObserved(input.observed);
  if (!weightsKnown)
    evidence.push('weights unknown (no stats source or config): observed shares compared with an even split');
  for (const pool of pools) {
    const ramping = rampingServers(pool);
    const sharing = sharingServers(pool).filter((s) => !ramping.includes(s));
    for (const s of ramping)
      notes.push(
        `${pool.name}/${s.name} is in slowstart (up ${s.lastChangeSec} s of ${Math.round((s.slowstartMs ?? 0) / 1000)} s): its share ramps up, so it is not judged`,
      );
    const weightSum = sharing.reduce((n, s) => n + s.weight, 0);
    const count = (s: PoolServer) =>
      input.observed.find((o) => o.backend === pool.name && o.server === s.name)?.requests ?? 0;
    const total = pool.servers.filter((s) => !ramping.includes(s)).reduce((n, s) => n + count(s), 0);
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

    if (!weightsKnown || !promisesWeights(pool)) {
      const v = judgeWithoutWeights(pool, sharing, count, total, weightsKnown, input, th, {
        evidence,
        notes,
        headlines,
      });
      if (v === 'skipped') continue;
      judged++;
      byDesign.push(
        weightsKnown
          ? `${pool.name} (${pool.persistence ? 'persistence' : pool.algo})`
          : pool.name || 'upstream',
      );
      if (v !== 'pass') verdicts.push(v);
      continue;
    }

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
    const unusable = pool.servers.filter((s) => !sharing.includes(s) && !ramping.includes(s) && count(s) > 0);
    for (const s of unusable) {
      notes.push(
        s.status === 'DRAIN' || s.weight === 0
          ? `${pool.name}/${s.name} (${s.status}, weight ${s.weight}) served ${count(s)} requests in the window: a drained server takes no new load-balanced requests but keeps persistent ones`
          : `${pool.name}/${s.name} (${s.status}) served ${count(s)} requests in the window (before its state changed?)`,
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
        ? byDesign.length === judged
          ? weightsKnown
            ? `no extreme concentration; ${byDesign.join(', ')} promise${byDesign.length === 1 ? 's' : ''} no shares by weight, so uneven shares are by design`
            : 'no upstream takes far more than an even split (weights unknown: add `config` to compare with them)'
          : `requests follow the configured weights within statistical noise${byDesign.length > 0 ? `; ${byDesign.join(', ')} promise${byDesign.length === 1 ? 's' : ''} no shares by weight and show no extreme concentration` : ''}`
        : 'not enough requests in the window to judge the distribution';
  return makeResult({
    checkId: 'traffic-distribution',
    target: input.target,
    verdict,
    summary,
    evidence,
    servers,
    notes,
    seenFrom: [
      /log/.test(input.source) ? 'lb-log' : 'lb-stats',
      ...(weightsKnown ? (['lb-config'] as const) : []),
    ],
    bears: lbBearing(verdict),
  });
}

/** Pools as the log saw them, when there are no weights to read: one per backend, each server weight 1. */
function poolsFromObserved(observed: ObservedCount[]): Pool[] {
  const pools = new Map<string, Pool>();
  for (const o of observed) {
    let p = pools.get(o.backend);
    if (!p) {
      p = { name: o.backend, servers: [] };
      pools.set(o.backend, p);
    }
    p.servers.push({ name: o.server, status: 'seen in log', usable: true, weight: 1, backup: false });
  }
  return [...pools.values()];
}

/** Servers still ramping up after coming back (HAProxy `slowstart`): up for less than their slowstart time. */
function rampingServers(pool: Pool): PoolServer[] {
  return pool.servers.filter(
    (s) =>
      s.usable &&
      s.slowstartMs !== undefined &&
      s.lastChangeSec !== undefined &&
      s.lastChangeSec * 1000 < s.slowstartMs,
  );
}

/**
 * A pool whose algorithm promises no shares by weight, or whose weights are unknown: report the observed shares
 * against an even split. With unknown weights, one server taking more than `evenSplitRatio` x an even split (and
 * z > skewZ) warns. With a client-keyed algorithm (`source`, `ip_hash`, cookie persistence), such a
 * concentration fails only when the clients explain it (one client address sends most requests: a proxy in
 * front); otherwise (leastconn around a slower server, hashing on few keys) it is a pass with a note.
 */
function judgeWithoutWeights(
  pool: Pool,
  sharing: PoolServer[],
  count: (s: PoolServer) => number,
  total: number,
  weightsKnown: boolean,
  input: TrafficDistributionInput,
  th: Thresholds,
  out: { evidence: string[]; notes: string[]; headlines: string[] },
): Verdict {
  const name = pool.name || 'upstream';
  const even = 1 / sharing.length;
  const shares = sharing.map((s) => `${s.name} ${total > 0 ? pct(count(s) / total) : '-'}`).join(', ');
  const how = !weightsKnown
    ? 'weights unknown'
    : pool.persistence
      ? `${pool.persistence} keeps each client on its server`
      : `"${pool.algo}" promises no shares by weight`;
  if (total < th.minRequests) {
    out.notes.push(
      `${name}: only ${total} requests in the window (need ${th.minRequests}) for a distribution verdict`,
    );
    return 'skipped';
  }
  out.evidence.push(`${name}: ${how}; observed shares ${shares} (an even split is ${pct(even)})`);
  const top = sharing.reduce((a, b) => (count(b) > count(a) ? b : a));
  const n = count(top);
  const ratio = n / total / even;
  const z = even < 1 ? (n - total * even) / Math.sqrt(total * even * (1 - even)) : 0;
  const concentrated = ratio > th.evenSplitRatio && z > th.skewZ;
  if (!concentrated) {
    if (ratio > th.skewHigh || sharing.some((s) => count(s) / total / even < th.skewLow))
      out.notes.push(
        `${name}: uneven by design (${how}): ${shares}` +
          (/^least/.test(pool.algo ?? '')
            ? '; leastconn sends less to a server that is slower to finish its requests'
            : ''),
      );
    return 'pass';
  }
  if (!weightsKnown) {
    out.headlines.push(
      `${name}/${top.name} takes ${pct(n / total)} of requests, ${ratio.toFixed(1)}x an even split (weights unknown: add \`config\` to compare with them)`,
    );
    return 'warn';
  }
  const cookieName = keyCookieName(pool);
  const clientKeyed =
    CLIENT_KEYED.test(pool.algo ?? '') || pool.persistence !== undefined || cookieName !== undefined;
  const keyedOn = pool.persistence
    ? `"${pool.persistence}"`
    : `"${/^hash /.test(pool.algo ?? '') ? '' : 'balance '}${pool.algo}"`;
  const busiest = input.topClients?.[0];
  if (cookieName !== undefined) {
    const v = judgeByCookie(name, top.name, n, total, ratio, cookieName, keyedOn, input, out);
    if (v !== undefined) return v;
  }
  const clientsExplain =
    clientKeyed &&
    ((input.distinctClients !== undefined && input.distinctClients <= sharing.length) ||
      (busiest !== undefined && busiest.requests >= total * 0.5));
  if (clientsExplain) {
    const who =
      busiest !== undefined
        ? `${busiest.client} sent ${pct(Math.min(1, busiest.requests / Math.max(total, 1)))} of the requests`
        : `${input.distinctClients} distinct client address(es)`;
    out.headlines.push(
      `${name}/${top.name} takes ${pct(n / total)} of requests: ${pool.persistence ? `"${pool.persistence}" pins each client to one server` : `"balance ${pool.algo}" sends each client address to one server`}, and ${who} (a proxy or NAT in front?)`,
    );
    out.evidence.push(
      `${name} uses "${pool.persistence ?? `balance ${pool.algo}`}": requests hash by client` +
        (input.distinctClients !== undefined
          ? `, and the window has ${input.distinctClients} distinct client address(es)`
          : ''),
    );
    return 'fail';
  }
  if (clientKeyed && input.distinctClients === undefined && busiest === undefined) {
    out.headlines.push(
      `${name}/${top.name} takes ${pct(n / total)} of requests, ${ratio.toFixed(1)}x an even split, and ${pool.persistence ? `"${pool.persistence}"` : `"balance ${pool.algo}"`} keys on the client: add the access log to see whether a few client addresses explain it`,
    );
    return 'warn';
  }
  out.notes.push(
    `${name}/${top.name} takes ${pct(n / total)} of requests (${how}); the key diversity does not explain it as a misconfiguration, so it is not flagged`,
  );
  return 'pass';
}

/**
 * A concentration under cookie keying, judged by the session cookies the log carries: `fail` when one cookie sent
 * at least half of the pool's requests to the busy server (one session: a load test, a bot, a shared token),
 * `warn` when the log carries no such cookie, `undefined` (go on with the client addresses) when the cookies are
 * too many to count or none explains it.
 */
function judgeByCookie(
  name: string,
  server: string,
  n: number,
  total: number,
  ratio: number,
  cookieName: string,
  keyedOn: string,
  input: TrafficDistributionInput,
  out: { evidence: string[]; notes: string[]; headlines: string[] },
): Verdict | undefined {
  const ours = (input.topCookies ?? []).filter((c) => c.cookie.split('=')[0] === cookieName);
  if (input.distinctCookies === undefined || (ours.length === 0 && !input.cookiesCapped)) {
    out.headlines.push(
      `${name}/${server} takes ${pct(n / total)} of requests, ${ratio.toFixed(1)}x an even split, and ${keyedOn} keys on the cookie "${cookieName}": ${input.distinctClients === undefined ? 'add the access log, with the cookie in it' : 'log it'} (HAProxy \`capture cookie ${cookieName}= len 64\`, nginx \`$cookie_${cookieName}\` in log_format) to see whether one session explains it`,
    );
    return 'warn';
  }
  if (input.cookiesCapped) {
    out.notes.push(
      `${name}: more than ${input.distinctCookies} distinct session cookies in the window, too many to count one by one`,
    );
    return undefined;
  }
  const mine = ours.filter((c) => c.backend === name && c.server === server);
  const busiest = mine.reduce<CookieTally | undefined>(
    (a, c) => (!a || c.onServer > a.onServer ? c : a),
    undefined,
  );
  const seen = `${input.distinctCookies} distinct session cookie${input.distinctCookies === 1 ? '' : 's'} in the window`;
  if (busiest === undefined || busiest.onServer < total * 0.5) {
    out.evidence.push(
      `${name}: ${seen}` +
        (busiest
          ? `; the busiest on ${server}, ${busiest.cookie}, sent ${pct(busiest.onServer / total)} of the requests`
          : ''),
    );
    return undefined;
  }
  out.headlines.push(
    `${name}/${server} takes ${pct(n / total)} of requests: ${keyedOn} keeps each session on one server, and one cookie (${busiest.cookie}) sent ${pct(busiest.onServer / total)} of them (a load test, a bot or a shared session?)`,
  );
  out.evidence.push(
    `${name}: ${seen}; ${busiest.cookie} sent ${busiest.onServer} of ${total} requests, ${busiest.onServer === busiest.requests ? 'all' : `${busiest.onServer} of its ${busiest.requests}`} to ${server}`,
  );
  return 'fail';
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
  const cfg = await ctx.parsedConfig().catch(() => undefined);
  const log = await ctx.log();
  // Logs alone are enough for observed shares (weights unknown); no source at all is a skip.
  if (!pools && !log)
    return skippedOn(
      ctx,
      'traffic-distribution',
      'no stats source, config file or access log to count requests from',
    );
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
    pools: pools?.pools ?? [],
    observed,
    source,
    rules: rulesByBackend(cfg?.haproxy),
    distinctClients: log?.distinctClients,
    topClients: log?.topClients,
    topCookies: log?.topCookies,
    distinctCookies: log?.distinctCookies,
    cookiesCapped: log?.cookiesCapped,
    weightsKnown: !!pools,
    thresholds: ctx.config.thresholds,
  });
  r.notes.push(...notes);
  return r;
}
