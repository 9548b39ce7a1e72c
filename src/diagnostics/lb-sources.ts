import type { CheckResult } from '../core/check.js';
import type { CheckId } from '../core/check-ids.js';
import { makeResult } from './checks/result.js';
import type { ObservedCount } from './checks/traffic-distribution.js';
import type { DiagnosticsConfig, LoadBalancerTarget } from './config.js';
import type { Pool } from './model.js';
import type { HaproxyConfig } from './sources/haproxy-config.js';
import type { StatsSnapshot } from './sources/haproxy-stats.js';
import type { LogWindowSummary } from './sources/log-window.js';
import type { NginxConfig } from './sources/nginx-config.js';

/** What the caller keeps between runs (e.g. in Redis): config hashes and routing lines per load balancer. */
export interface DiagnosticsState {
  configHashes: Record<string, string>;
  configLines: Record<string, string[]>;
}

/** Options for `runDiagnostics` / `runCheck`: the incident window, a filter, the previous state, cancellation. */
export interface RunOptions {
  from: Date;
  to: Date;
  /** Check ids or `checkId:target` refs to run; all when absent. */
  only?: string[];
  previous?: { configHashes: Record<string, string>; configLines?: Record<string, string[]> };
  signal?: AbortSignal;
  /** Clock for change ages; defaults to `to`. */
  now?: Date;
  /** Per-check budget in ms (default CHECK_BUDGET_MS, 25 000: the bot's, which `statsSampleMs` is validated against). */
  checkTimeoutMs?: number;
}

/** A load balancer's config file, parsed, with what identifies its version. */
export interface ParsedConfig {
  path: string;
  /** sha256 of the config file; for nginx, of the main file then each included file. */
  hash: string;
  /** The newest mtime of the config and its included files, and which file has it. */
  mtimeMs: number;
  modifiedPath: string;
  haproxy?: HaproxyConfig;
  nginx?: NginxConfig;
  problems: string[];
}

/** A load balancer's pools as its live status (or its config file) shows them, with what its kind adds. */
export interface PoolsView {
  pools: Pool[];
  /** From live status (stats, Envoy /clusters, ELB target health), not a config file. */
  live: boolean;
  /** What the load balancer's own evidence adds beyond the pools (Envoy connect failures, ELB fail-open), as evidence lines. */
  findings?: string[];
  /** A sentence the check's summary ends with (ELB failing open). */
  headline?: string;
  /** Set when the pool has no targets at all (an empty ELB target group): the reason, for a `fail`. */
  empty?: string;
}

/**
 * The sources of one load balancer, each read at most once per run and shared by the checks that need it
 * (implemented by `LbContext` in run.ts). Each resolves undefined when the target has no such source.
 */
export interface LbSources {
  readonly lb: LoadBalancerTarget;
  readonly config: DiagnosticsConfig;
  stats(): Promise<StatsSnapshot | undefined>;
  /** A second stats sample `statsSampleMs` after the first, with the measured gap between them in ms. */
  statsLater(): Promise<{ snapshot: StatsSnapshot; gapMs: number } | undefined>;
  parsedConfig(): Promise<ParsedConfig | undefined>;
  /** Pools with live status from stats when configured (`live`), else from the config file. */
  pools(): Promise<PoolsView | undefined>;
  log(): Promise<LogWindowSummary | undefined>;
  /** Requests per server between two samples (HAProxy `stot`, Envoy `rq_total`), and where they come from. */
  requestDeltas(): Promise<{ observed: ObservedCount[]; source: string } | undefined>;
}

/** Gathers a load-balancer check's input from the target's sources and runs the check. */
export type LbCheckRunner = (
  ctx: LbSources,
  opts: RunOptions,
  state: DiagnosticsState,
) => Promise<CheckResult>;

/** A `skipped` result of `checkId` on the context's load balancer, saying which source is missing. */
export function skippedOn(ctx: LbSources, checkId: CheckId, summary: string): CheckResult {
  return makeResult({ checkId, target: ctx.lb.name, verdict: 'skipped', summary });
}

/** The config file's problems as notes, each prefixed with the file's path. */
export function configNotes(cfg: ParsedConfig | undefined): string[] {
  return (cfg?.problems ?? []).map((p) => `${cfg?.path}: ${p}`);
}
