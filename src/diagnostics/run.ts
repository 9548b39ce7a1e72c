import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckResult } from '../core/check.js';
import { CHECK_IDS, type CheckId, runsPerLoadBalancer } from '../core/check-ids.js';
import { runPoolHealth } from './checks/pool-health.js';
import { runRecentChange } from './checks/recent-change.js';
import { checkDatabase, checkEndpoints, runBackendConnect, runTrafficVolume } from './checks/red-herrings.js';
import { makeResult } from './checks/result.js';
import { runRouting } from './checks/routing.js';
import type { ObservedCount } from './checks/traffic-distribution.js';
import { runTrafficDistribution } from './checks/traffic-distribution.js';
import type { DiagnosticsConfig, LoadBalancerTarget } from './config.js';
import { elbv2Findings, envoyFindings } from './lb-findings.js';
import type {
  DiagnosticsState,
  LbCheckRunner,
  LbSources,
  ParsedConfig,
  PoolsView,
  RunOptions,
} from './lb-sources.js';
import { poolsFromHaproxyConfig, poolsFromNginxConfig, poolsFromStats } from './model.js';
import { ProbeAllow } from './probe-allow.js';
import { probeHttp, probePostgres, probeTcp } from './probes.js';
import {
  type Elbv2Target,
  fetchTargetHealth,
  poolFromTargets,
  readTargetHealthFile,
} from './sources/aws-elbv2.js';
import {
  type EnvoyCluster,
  EnvoyClustersError,
  fetchEnvoyClusters,
  parseEnvoyClusters,
  poolsFromEnvoyClusters,
} from './sources/envoy-clusters.js';
import { parseHaproxyConfig } from './sources/haproxy-config.js';
import { summarizeHaproxyHttpLog } from './sources/haproxy-log-scan.js';
import { fetchHaproxyStats, parseHaproxyStatsCsv, type StatsSnapshot } from './sources/haproxy-stats.js';
import { parseUtcOffset } from './sources/lines.js';
import { type LogWindowSummary, summarizeAccessLog, toLineParser } from './sources/log-window.js';
import { loadNginxConfig } from './sources/nginx-config.js';
import { compileNginxLogFormat, NGINX_COMBINED } from './sources/nginx-log.js';
import { CHECK_BUDGET_MS } from './thresholds.js';

export { CHECK_IDS, type CheckId } from '../core/check-ids.js';
export type { DiagnosticsState, RunOptions } from './lb-sources.js';

/** One runnable unit (a BullMQ job): a check id and its target (load balancer name, `database` or `endpoints`). */
export interface CheckRef {
  checkId: CheckId;
  target: string;
}

/** The access log a load balancer is configured with (HAProxy `log`, nginx `accessLog`); Envoy and ELB have none here. */
function accessLogOf(lb: LoadBalancerTarget): string | undefined {
  return lb.kind === 'haproxy' ? lb.log : lb.kind === 'nginx' ? lb.accessLog : undefined;
}

/** The config file a load balancer is configured with (HAProxy and nginx only). */
function configFileOf(lb: LoadBalancerTarget): string | undefined {
  return lb.kind === 'haproxy' || lb.kind === 'nginx' ? lb.config : undefined;
}

/** The checks a config supports, one per (check, target); order follows {@link CHECK_IDS}. */
export function listChecks(config: DiagnosticsConfig): CheckRef[] {
  const refs: CheckRef[] = [];
  for (const id of CHECK_IDS) {
    if (runsPerLoadBalancer(id)) {
      for (const lb of config.loadBalancers) {
        if (id === 'traffic-volume' && !accessLogOf(lb)) continue;
        if (id === 'recent-change' && !configFileOf(lb)) continue;
        // Envoy's /clusters and ELB target health say nothing of routes (listeners, RDS, listener rules).
        if (id === 'routing' && (lb.kind === 'envoy' || lb.kind === 'aws-elbv2')) continue;
        refs.push({ checkId: id, target: lb.name });
      }
    } else if (id === 'database' && config.probes.database) refs.push({ checkId: id, target: 'database' });
    else if (id === 'endpoints' && config.probes.endpoints.length > 0)
      refs.push({ checkId: id, target: 'endpoints' });
  }
  return refs;
}

/** Lazily gathers each source once per load balancer, so checks that share a source read it once. */
class LbContext implements LbSources {
  private memo = new Map<string, Promise<unknown>>();
  constructor(
    readonly lb: LoadBalancerTarget,
    readonly config: DiagnosticsConfig,
    readonly opts: RunOptions,
    readonly signal: AbortSignal,
  ) {}

  private once<T>(key: string, f: () => Promise<T>): Promise<T> {
    let p = this.memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = f();
      // Avoid unhandled rejections for sources some checks never await.
      p.catch(() => {});
      this.memo.set(key, p);
    }
    return p;
  }

  /** When the first stats sample was taken (`performance.now()` midway through its fetch). */
  private statsTakenAt = 0;

  /** Fetches the stats source; resolves with its text and the moment it was sampled (midway through the fetch). */
  private async fetchStats(url: string): Promise<{ text: string; at: number }> {
    const started = performance.now();
    const text = await fetchHaproxyStats(url, {
      timeoutMs: this.config.thresholds.probeTimeoutMs,
      signal: this.signal,
    });
    return { text, at: (started + performance.now()) / 2 };
  }

  stats(): Promise<StatsSnapshot | undefined> {
    return this.once('stats', async () => {
      if (this.lb.kind !== 'haproxy' || !this.lb.stats) return undefined;
      const { text, at } = await this.fetchStats(this.lb.stats);
      this.statsTakenAt = at;
      const snap = parseHaproxyStatsCsv(text);
      if (snap.rows.length === 0)
        throw new Error(`stats ${this.lb.stats}: no rows (is this HAProxy "show stat" CSV?)`);
      return snap;
    });
  }

  /**
   * A second stats sample `statsSampleMs` after the first, for `stot` deltas, with the measured time between
   * the two samples (middle of one fetch to middle of the other: the configured wait plus half of each fetch).
   */
  statsLater(): Promise<{ snapshot: StatsSnapshot; gapMs: number } | undefined> {
    return this.once('stats2', async () => {
      const first = await this.stats();
      if (!first || this.lb.kind !== 'haproxy' || !this.lb.stats) return undefined;
      await this.waitSample();
      const { text, at } = await this.fetchStats(this.lb.stats);
      return { snapshot: parseHaproxyStatsCsv(text), gapMs: at - this.statsTakenAt };
    });
  }

  parsedConfig(): Promise<ParsedConfig | undefined> {
    return this.once('config', async () => {
      const path = configFileOf(this.lb);
      if (!path) return undefined;
      if (this.lb.kind === 'haproxy') {
        const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
        const hash = createHash('sha256').update(text).digest('hex');
        const haproxy = parseHaproxyConfig(text);
        return { path, hash, mtimeMs: st.mtimeMs, modifiedPath: path, haproxy, problems: haproxy.problems };
      }
      const { files, ...nginx } = await loadNginxConfig(path);
      // The main file's text, then each included file (name and text) in include order: without includes
      // this is the plain sha256 of the file, as before includes were followed.
      const h = createHash('sha256');
      for (const [i, f] of files.entries()) {
        if (i > 0) h.update(`\0${f.label}\0`);
        h.update(f.text);
      }
      const newest = files.reduce((a, b) => (b.mtimeMs > a.mtimeMs ? b : a));
      return {
        path,
        hash: h.digest('hex'),
        mtimeMs: newest.mtimeMs,
        modifiedPath: newest === files[0] ? path : newest.path,
        nginx,
        problems: nginx.problems,
      };
    });
  }

  /** Reads and parses Envoy's `/clusters` once more; resolves with the clusters and the moment (middle of the read). */
  private async readEnvoy(source: string): Promise<{ clusters: EnvoyCluster[]; at: number }> {
    const started = performance.now();
    const text = await fetchEnvoyClusters(source, {
      timeoutMs: this.config.thresholds.probeTimeoutMs,
      signal: this.signal,
    });
    const at = (started + performance.now()) / 2;
    try {
      return { clusters: parseEnvoyClusters(text), at };
    } catch (err) {
      if (err instanceof EnvoyClustersError)
        throw new EnvoyClustersError(`envoy clusters ${source}: ${err.message}`);
      throw err;
    }
  }

  /** Envoy's `/clusters` (first sample). */
  envoy(): Promise<{ clusters: EnvoyCluster[]; at: number } | undefined> {
    return this.once('envoy', async () =>
      this.lb.kind === 'envoy' ? await this.readEnvoy(this.lb.clusters) : undefined,
    );
  }

  /** A second `/clusters` sample `statsSampleMs` after the first, for `rq_total` deltas. */
  envoyLater(): Promise<{ clusters: EnvoyCluster[]; at: number } | undefined> {
    return this.once('envoy2', async () => {
      const first = await this.envoy();
      if (!first || this.lb.kind !== 'envoy') return undefined;
      await this.waitSample();
      return await this.readEnvoy(this.lb.clusters);
    });
  }

  private async waitSample(): Promise<void> {
    // timers/promises removes its abort listener when the wait ends either way
    await sleep(this.config.thresholds.statsSampleMs, undefined, { signal: this.signal }).catch((err) => {
      throw this.signal.aborted ? new Error('aborted while waiting for the second stats sample') : err;
    });
  }

  /** An ELBv2 target group's targets: from the `targetHealth` file, else fetched for `targetGroupArn`. */
  elbv2(): Promise<Elbv2Target[] | undefined> {
    return this.once('elbv2', async () => {
      const lb = this.lb;
      if (lb.kind !== 'aws-elbv2') return undefined;
      if (lb.targetHealth) return await readTargetHealthFile(lb.targetHealth, this.signal);
      return await fetchTargetHealth(
        { targetGroupArn: lb.targetGroupArn!, region: lb.region!, endpoint: lb.endpoint },
        { timeoutMs: this.config.thresholds.probeTimeoutMs, signal: this.signal },
      );
    });
  }

  /**
   * Requests per server between two samples `statsSampleMs` apart: HAProxy `stot` deltas, or Envoy `rq_total`
   * deltas; with where the counts come from (the measured gap between the samples).
   */
  requestDeltas(): Promise<{ observed: ObservedCount[]; source: string } | undefined> {
    return this.once('deltas', async () => {
      if (this.lb.kind === 'envoy') {
        const first = await this.envoy();
        const later = await this.envoyLater();
        if (!first || !later) return undefined;
        const before = new Map(
          first.clusters.flatMap((c) =>
            c.hosts.map((h) => [`${c.name}/${h.address}`, h.stats.rq_total ?? 0]),
          ),
        );
        const observed = later.clusters.flatMap((c) =>
          c.hosts.map((h) => ({
            backend: c.name,
            server: h.address,
            requests: Math.max(0, (h.stats.rq_total ?? 0) - (before.get(`${c.name}/${h.address}`) ?? 0)),
          })),
        );
        const gap = ((later.at - first.at) / 1000).toFixed(2);
        return { observed, source: `rq_total deltas between two /clusters samples ${gap} s apart` };
      }
      const first = await this.stats();
      const later = await this.statsLater();
      if (!first || !later) return undefined;
      const second = later.snapshot;
      const before = new Map(
        first.rows.filter((r) => r.type === 2).map((r) => [`${r.pxname}/${r.svname}`, r.stot ?? 0]),
      );
      const observed = second.rows
        .filter((r) => r.type === 2)
        .map((r) => ({
          backend: r.pxname,
          server: r.svname,
          requests: Math.max(0, (r.stot ?? 0) - (before.get(`${r.pxname}/${r.svname}`) ?? 0)),
        }));
      // The measured gap, not `statsSampleMs`: slow fetches stretch it, and the counts cover what was measured.
      return {
        observed,
        source: `stot deltas between two stats samples ${(later.gapMs / 1000).toFixed(2)} s apart`,
      };
    });
  }

  /** Pools with live status from stats (Envoy clusters, ELB target health) when configured, else from the config file. */
  pools(): Promise<PoolsView | undefined> {
    return this.once('pools', async () => {
      if (this.lb.kind === 'envoy') {
        const e = await this.envoy();
        return e
          ? { pools: poolsFromEnvoyClusters(e.clusters), live: true, ...envoyFindings(e.clusters) }
          : undefined;
      }
      if (this.lb.kind === 'aws-elbv2') {
        const targets = await this.elbv2();
        return targets
          ? { pools: [poolFromTargets(this.lb.name, targets)], live: true, ...elbv2Findings(targets) }
          : undefined;
      }
      const stats = await this.stats();
      const cfg = await this.parsedConfig().catch(() => undefined);
      if (stats) {
        const pools = poolsFromStats(stats);
        // HAProxy 2.6 leaves `addr` empty in show stat; the config knows each server's address.
        for (const p of cfg?.haproxy?.proxies ?? []) {
          const pool = pools.find((x) => x.name === p.name);
          if (pool && !pool.algo) pool.algo = p.balance ?? 'roundrobin';
          if (pool && p.persistence !== undefined) pool.persistence = p.persistence;
          for (const s of p.servers) {
            const server = pool?.servers.find((x) => x.name === s.name);
            if (server && !server.address) server.address = s.address;
            if (server && s.slowstartMs !== undefined) server.slowstartMs = s.slowstartMs;
          }
        }
        return { pools, live: true };
      }
      if (cfg?.haproxy) return { pools: poolsFromHaproxyConfig(cfg.haproxy), live: false };
      if (cfg?.nginx) return { pools: poolsFromNginxConfig(cfg.nginx), live: false };
      return undefined;
    });
  }

  log(): Promise<LogWindowSummary | undefined> {
    return this.once('log', async () => {
      const { from, to } = this.opts;
      if (this.lb.kind === 'haproxy') {
        if (!this.lb.log) return undefined;
        // The byte-level scanner: same results as the full parser, a fraction of its time and memory.
        return await summarizeHaproxyHttpLog(this.lb.log, {
          from,
          to,
          signal: this.signal,
          utcOffsetMinutes: parseUtcOffset(this.lb.logUtcOffset),
        });
      }
      if (this.lb.kind !== 'nginx' || !this.lb.accessLog) return undefined;
      const parser = compileNginxLogFormat(this.lb.logFormat ?? NGINX_COMBINED);
      const cfg = await this.parsedConfig().catch(() => undefined);
      // $upstream_addr holds addresses; the config says which upstream group each belongs to.
      const groupOf = new Map<string, string>();
      for (const u of cfg?.nginx?.upstreams ?? [])
        for (const s of u.servers) if (!groupOf.has(s.address)) groupOf.set(s.address, u.name);
      const base = toLineParser(parser.parse);
      return await summarizeAccessLog(
        this.lb.accessLog,
        (l, o) => {
          if (!base(l, o)) return false;
          if (o.server !== undefined) o.backend = groupOf.get(o.server) ?? '';
          return true;
        },
        { from, to, signal: this.signal },
      );
    });
  }
}

/** Each load-balancer check's runner, which gathers its input from the sources (see the check's own file). */
const LB_CHECK_RUNNERS: Partial<Record<CheckId, LbCheckRunner>> = {
  'pool-health': runPoolHealth,
  'traffic-distribution': runTrafficDistribution,
  routing: runRouting,
  'recent-change': runRecentChange,
  'traffic-volume': runTrafficVolume,
  'backend-connect': runBackendConnect,
};

async function runLbCheck(
  id: CheckId,
  ctx: LbContext,
  opts: RunOptions,
  state: DiagnosticsState,
): Promise<CheckResult> {
  const run = LB_CHECK_RUNNERS[id];
  if (!run)
    return makeResult({
      checkId: id,
      target: ctx.lb.name,
      verdict: 'skipped',
      summary: `${id} is not a load balancer check`,
    });
  return run(ctx, opts, state);
}

async function runProbeCheck(id: CheckId, config: DiagnosticsConfig): Promise<CheckResult> {
  const th = config.thresholds;
  const allow = new ProbeAllow(config.probes.allow);
  if (id === 'database') {
    const skipped = (summary: string) =>
      makeResult({ checkId: id, target: 'database', verdict: 'skipped', summary });
    const db = config.probes.database;
    if (!db) return skipped('no database probe configured');
    const host = db.kind === 'postgres' ? hostOfUrl(db.url) : db.host;
    // A postgres URL without a host means the local unix socket: nothing leaves the machine.
    const admitted = host ? await allow.admits(host) : ({ ok: true } as const);
    if (!admitted.ok) return skipped(`database probe: ${admitted.reason}`);
    const probe =
      db.kind === 'postgres'
        ? await probePostgres(db.url, th.probeTimeoutMs)
        : await probeTcp(db.host, db.port, th.probeTimeoutMs);
    return checkDatabase({ target: 'database', kind: db.kind, probe, thresholds: th });
  }
  const refused: string[] = [];
  const probes = (
    await Promise.all(
      config.probes.endpoints.map(async (url) => {
        const admitted = await allow.admits(hostOfUrl(url) ?? '');
        if (!admitted.ok) {
          refused.push(`${url}: ${admitted.reason}`);
          return [];
        }
        return [{ url, probe: await probeHttp(url, th.probeTimeoutMs) }];
      }),
    )
  ).flat();
  if (probes.length === 0 && refused.length > 0)
    return makeResult({
      checkId: id,
      target: 'endpoints',
      verdict: 'skipped',
      summary: `no endpoint is inside probes.allow (${allow.cidrs.join(', ')}), so the bot probed none`,
      evidence: refused,
    });
  const r = checkEndpoints({ target: 'endpoints', probes, thresholds: th });
  r.notes.push(...refused);
  return r;
}

/** The host of a URL (`postgres://u@db:5432/x` → `db`), or undefined when it has none or does not parse. */
function hostOfUrl(url: string): string | undefined {
  try {
    return new URL(url).hostname || undefined;
  } catch {
    return undefined;
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${(err as NodeJS.ErrnoException).path ?? 'file'} does not exist`;
    if (code === 'EACCES') return `${(err as NodeJS.ErrnoException).path ?? 'file'} is not readable`;
    return err.message;
  }
  return String(err);
}

async function isolated(
  ref: CheckRef,
  opts: RunOptions,
  run: (signal: AbortSignal) => Promise<CheckResult>,
): Promise<CheckResult> {
  const started = performance.now();
  const budget = opts.checkTimeoutMs ?? CHECK_BUDGET_MS;
  const timeout = AbortSignal.timeout(budget);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let result: CheckResult;
  try {
    result = await Promise.race([
      run(signal),
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(new Error('aborted'));
        signal.addEventListener('abort', () =>
          reject(new Error(timeout.aborted ? `timed out after ${budget} ms` : 'aborted')),
        );
      }),
    ]);
  } catch (err) {
    result = makeResult({
      checkId: ref.checkId,
      target: ref.target,
      verdict: 'error',
      summary: `could not run: ${errorMessage(err)}`,
    });
  }
  result.window = { from: opts.from.toISOString(), to: opts.to.toISOString() };
  result.durationMs = Math.round(performance.now() - started);
  return result;
}

/** True when `only` (check ids, `check:target` refs or targets) selects the ref; everything when absent. */
export function selectedBy(ref: CheckRef, only: string[] | undefined): boolean {
  return (
    !only || only.some((o) => o === ref.checkId || o === `${ref.checkId}:${ref.target}` || o === ref.target)
  );
}

/**
 * Runs one check against one target, isolated: an unreachable stats URL/socket, a missing log or a timeout
 * becomes an `error` result naming the reason, never a rejection. `state` receives the config hash (recent-change).
 */
export async function runCheck(
  config: DiagnosticsConfig,
  ref: CheckRef,
  opts: RunOptions,
  state: DiagnosticsState = { configHashes: {}, configLines: {} },
  contexts?: Map<string, LbContext>,
): Promise<CheckResult> {
  return isolated(ref, opts, async () => {
    const lb = config.loadBalancers.find((l) => l.name === ref.target);
    if (!lb) return runProbeCheck(ref.checkId, config);
    let ctx = contexts?.get(lb.name);
    if (!ctx) {
      // Sources are shared between checks, so they follow the run's signal, not one check's budget.
      ctx = new LbContext(lb, config, opts, opts.signal ?? new AbortController().signal);
      contexts?.set(lb.name, ctx);
    }
    return runLbCheck(ref.checkId, ctx, opts, state);
  });
}

/**
 * Runs every check the config supports (or those in `only`) concurrently, each isolated, sharing each
 * source read per load balancer. Resolves with results in {@link CHECK_IDS} order and the state to keep
 * for the next run (config hashes and routing lines); never rejects.
 */
export async function runDiagnostics(
  config: DiagnosticsConfig,
  opts: RunOptions,
): Promise<{ results: CheckResult[]; state: DiagnosticsState }> {
  const state: DiagnosticsState = {
    configHashes: { ...(opts.previous?.configHashes ?? {}) },
    configLines: { ...(opts.previous?.configLines ?? {}) },
  };
  const contexts = new Map<string, LbContext>();
  const refs = listChecks(config).filter((r) => selectedBy(r, opts.only));
  const results = await Promise.all(refs.map((ref) => runCheck(config, ref, opts, state, contexts)));
  return { results, state };
}
