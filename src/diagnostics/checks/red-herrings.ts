import { type LbSources, skippedOn } from '../lb-sources.js';
import type { Pool, PoolServer } from '../model.js';
import { ProbeAllow } from '../probe-allow.js';
import { type ProbeResult, probeTcp, splitHostPort } from '../probes.js';
import { type LogWindowSummary, problemNotes } from '../sources/log-window.js';
import { DEFAULT_THRESHOLDS, type Thresholds } from '../thresholds.js';
import { type CheckResult, makeResult, type ServerFigures, type Verdict } from './result.js';

const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

/** database: `rules-out database` when it answered within `databaseMs`; warn when slow, fail when unreachable. */
export function checkDatabase(input: {
  target: string;
  kind: string;
  probe: ProbeResult;
  thresholds?: Thresholds;
}): CheckResult {
  const th = input.thresholds ?? DEFAULT_THRESHOLDS;
  const p = input.probe;
  if (!p.ok) {
    return makeResult({
      checkId: 'database',
      target: input.target,
      verdict: 'fail',
      summary: `database unreachable: ${p.error}`,
      evidence: [`${input.kind} probe failed after ${ms(p.ms)}`],
      bears: [{ hypothesis: 'database', effect: 'supports' }],
    });
  }
  const slow = p.ms > th.databaseMs;
  return makeResult({
    checkId: 'database',
    target: input.target,
    verdict: slow ? 'warn' : 'pass',
    summary: slow
      ? `database answered in ${ms(p.ms)}, slower than ${th.databaseMs} ms`
      : `database reachable and fast (${ms(p.ms)}): not the cause`,
    evidence: [
      `${input.kind}: ${p.detail ?? 'connected'} (${ms(p.ms)} total, threshold ${th.databaseMs} ms)`,
    ],
    bears: [{ hypothesis: 'database', effect: slow ? 'supports' : 'rules-out' }],
  });
}

/**
 * traffic-volume: requests in the window vs the window before it, plus the busiest clients' share.
 * `rules-out traffic-surge` when volume did not rise by `surgeRatio` (with a baseline to compare);
 * `skipped` when the log does not cover the previous window.
 */
export function checkTrafficVolume(input: {
  target: string;
  summary: LogWindowSummary;
  thresholds?: Thresholds;
}): CheckResult {
  const th = input.thresholds ?? DEFAULT_THRESHOLDS;
  const s = input.summary;
  const len = s.to - s.from;
  const evidence: string[] = [];
  const minutes = len / 60_000;
  evidence.push(
    `${s.inWindow} requests in the window (${(s.inWindow / Math.max(minutes, 1 / 60)).toFixed(0)}/min), ${s.previousWindow} in the ${minutes.toFixed(0)} min before`,
  );
  const top = s.topClients.slice(0, 3);
  if (s.inWindow > 0 && top.length > 0) {
    evidence.push(
      `top clients: ${top.map((c) => `${c.client} ${((c.requests / s.inWindow) * 100).toFixed(0)}%`).join(', ')} of ${s.distinctClients}${s.clientsCapped ? '+' : ''} distinct`,
    );
  }
  const covered = s.firstTime !== undefined && s.firstTime <= s.from - len * 0.9;
  if (!covered) {
    return makeResult({
      checkId: 'traffic-volume',
      target: input.target,
      verdict: 'skipped',
      summary:
        'the log does not reach back over the previous window, so there is no baseline to compare volume with',
      evidence,
    });
  }
  const ratio =
    s.previousWindow > 0 ? s.inWindow / s.previousWindow : s.inWindow > 0 ? Number.POSITIVE_INFINITY : 1;
  const topShare = s.inWindow > 0 && top[0] ? top[0].requests / s.inWindow : 0;
  let verdict: Verdict = 'pass';
  let summary = `no sign of a traffic surge or DDoS: volume ${ratio.toFixed(2)}x the previous window`;
  if (ratio >= th.surgeRatio) {
    verdict = 'fail';
    summary = `traffic surge: ${ratio.toFixed(1)}x the previous window${topShare > 0.5 ? `, ${Math.round(topShare * 100)}% from ${top[0]!.client}` : ''}`;
  } else if (ratio >= 1.5) {
    verdict = 'warn';
    summary = `volume rose ${ratio.toFixed(1)}x over the previous window (below the ${th.surgeRatio}x surge threshold)`;
  }
  return makeResult({
    checkId: 'traffic-volume',
    target: input.target,
    verdict,
    summary,
    evidence,
    bears: [{ hypothesis: 'traffic-surge', effect: verdict === 'pass' ? 'rules-out' : 'supports' }],
  });
}

/** What the load balancer itself saw of one server: its health check, what it served, connections it failed. */
export interface LbView {
  /** HAProxy `check_status` (`L7OK`, `L4CON`, ...); absent when there are no health checks or no stats. */
  checkStatus?: string;
  /** Responses the server gave through the load balancer: in the window (log) or since start (stats `stot`). */
  served?: number;
  /** "in the window" or "since HAProxy start". */
  servedWhen?: string;
  /** Connections to it that failed as the load balancer saw them (HAProxy log `SC` in the window). */
  connectFailures?: number;
}

/** One backend server's TCP connect probe, with the LB's own view of it. */
export interface ConnectProbe {
  backend: string;
  server: string;
  address: string;
  /** Whether the LB considers the server usable (a DOWN server that refuses connections is expected). */
  usable: boolean;
  status: string;
  probe: ProbeResult;
  /** The load balancer's own evidence about this server, when stats or a log give any. */
  lb?: LbView;
}

const LB_CONNECT_FAILED = /^(L4CON|L4TOUT|L6TOUT|SOCKERR)$/;
const LB_CHECK_OK = /^L[4-7]OK$/;

/** The load balancer's view of `server` in `pool` from its stats (check status, `stot`) and the log window's tallies. */
export function lbViewOf(
  pool: Pool,
  server: PoolServer,
  tallies?: { backend: string; server: string; requests: number; connectFailures?: number }[],
): LbView | undefined {
  const t = tallies?.find((x) => x.backend === pool.name && x.server === server.name);
  const view: LbView = {};
  if (server.checkStatus) view.checkStatus = server.checkStatus;
  if (t) {
    view.served = t.requests;
    view.servedWhen = 'in the window';
    if (t.connectFailures !== undefined) view.connectFailures = t.connectFailures;
  } else if (tallies) {
    view.served = 0;
    view.servedWhen = 'in the window';
  } else if (server.sessions !== undefined) {
    view.served = server.sessions;
    view.servedWhen = 'since HAProxy start';
  }
  return Object.keys(view).length > 0 ? view : undefined;
}

const n = (x: number) => x.toLocaleString('en-US');

/**
 * backend-connect: TCP connect time from the bot's host to each backend server, weighed against the load
 * balancer's own evidence (health checks, responses served, connect failures in its log). The bot's probe never
 * overrides the load balancer: a usable server the bot cannot reach while the load balancer's checks pass or it
 * serves responses is `warn` ("the bot may be on another network") with no bearing on the network hypothesis;
 * only when the load balancer also saw connect failures to it is it `fail` (supports network). `rules-out
 * network` when every usable server connects within `connectMs`.
 */
export function checkBackendConnect(input: {
  target: string;
  probes: ConnectProbe[];
  thresholds?: Thresholds;
}): CheckResult {
  const th = input.thresholds ?? DEFAULT_THRESHOLDS;
  const evidence: string[] = [];
  const servers: ServerFigures[] = [];
  let verdict: Verdict = input.probes.length === 0 ? 'skipped' : 'pass';
  const bad: string[] = [];
  const slow: string[] = [];
  const disputed: ConnectProbe[] = [];
  const unknown: ConnectProbe[] = [];
  for (const c of input.probes) {
    servers.push({
      backend: c.backend,
      server: c.server,
      status: c.status,
      connectMs: c.probe.ok ? c.probe.ms : undefined,
      requests: c.lb?.servedWhen === 'in the window' ? c.lb.served : undefined,
    });
    const lbSaw = describeLb(c);
    if (c.probe.ok) {
      evidence.push(
        `${c.backend}/${c.server} ${c.address}: connected in ${ms(c.probe.ms)} from incident-bot's host`,
      );
      if (c.probe.ms > th.connectMs) slow.push(`${c.server} slow (${ms(c.probe.ms)})`);
      continue;
    }
    evidence.push(
      `${c.backend}/${c.server} ${c.address}: ${c.probe.error} from incident-bot's host${c.usable ? '' : ` (LB already marks it ${c.status})`}${lbSaw ? `; the load balancer saw: ${lbSaw}` : ''}`,
    );
    if (!c.usable) continue;
    const lbFailed =
      (c.lb?.checkStatus !== undefined && LB_CONNECT_FAILED.test(c.lb.checkStatus)) ||
      (c.lb?.connectFailures ?? 0) > 0;
    const lbOk =
      (c.lb?.checkStatus !== undefined && LB_CHECK_OK.test(c.lb.checkStatus)) || (c.lb?.served ?? 0) > 0;
    if (lbFailed)
      bad.push(`${c.server} unreachable (${c.probe.error}), and the load balancer failed to connect too`);
    else if (lbOk) disputed.push(c);
    else unknown.push(c);
  }
  if (bad.length > 0) verdict = 'fail';
  else if (slow.length > 0 || disputed.length > 0 || unknown.length > 0) verdict = 'warn';
  const parts: string[] = [...bad, ...slow];
  if (disputed.length > 0) {
    const checks = disputed.some((c) => c.lb?.checkStatus && LB_CHECK_OK.test(c.lb.checkStatus));
    const served = disputed.reduce((a, c) => a + (c.lb?.served ?? 0), 0);
    const what = [
      checks ? "the load balancer's health checks pass" : '',
      served > 0
        ? `it served ${n(served)} responses${disputed[0]?.lb?.servedWhen ? ` ${disputed[0].lb.servedWhen}` : ''}`
        : '',
    ].filter(Boolean);
    parts.push(
      `${disputed.map((c) => c.server).join(', ')} unreachable from incident-bot's host, but ${what.join(' and ')}: the bot may be on another network`,
    );
  }
  if (unknown.length > 0)
    parts.push(
      `${unknown.map((c) => c.server).join(', ')} unreachable from incident-bot's host; the load balancer's own view is unknown (no health checks, nothing served in its log): add stats or a log to tell`,
    );
  const summary =
    verdict === 'skipped'
      ? 'no backend server addresses known'
      : parts.length > 0
        ? `backend connections: ${parts.join('; ')}`
        : `all ${input.probes.filter((p) => p.usable).length} usable backend servers accept TCP connections quickly: no sign of a network problem`;
  // A probe the load balancer contradicts says nothing about the network the users' requests take.
  const bears: CheckResult['bears'] =
    verdict === 'pass'
      ? [{ hypothesis: 'network', effect: 'rules-out' }]
      : verdict === 'fail' || slow.length > 0
        ? [{ hypothesis: 'network', effect: 'supports' }]
        : [];
  return makeResult({
    checkId: 'backend-connect',
    target: input.target,
    verdict,
    summary,
    evidence,
    servers,
    bears,
    seenFrom: [
      'bot-probe',
      ...(input.probes.some((p) => p.lb?.checkStatus) ? (['lb-health-checks'] as const) : []),
      ...(input.probes.some((p) => p.lb?.servedWhen === 'in the window') ? (['lb-log'] as const) : []),
      ...(input.probes.some((p) => p.lb?.servedWhen === 'since HAProxy start')
        ? (['lb-stats'] as const)
        : []),
    ],
  });
}

function describeLb(c: ConnectProbe): string {
  const v = c.lb;
  if (!v) return '';
  const out: string[] = [];
  if (v.checkStatus) out.push(`health check ${v.checkStatus}`);
  if (v.served !== undefined) out.push(`${n(v.served)} responses ${v.servedWhen ?? ''}`.trim());
  if (v.connectFailures) out.push(`${n(v.connectFailures)} failed connections in its log`);
  return out.join(', ');
}

/** endpoints: each health URL answers 2xx/3xx within `endpointMs`; fail names the ones that do not. */
export function checkEndpoints(input: {
  target: string;
  probes: { url: string; probe: ProbeResult }[];
  thresholds?: Thresholds;
}): CheckResult {
  const th = input.thresholds ?? DEFAULT_THRESHOLDS;
  const failed = input.probes.filter((p) => !p.probe.ok);
  const slow = input.probes.filter((p) => p.probe.ok && p.probe.ms > th.endpointMs);
  const verdict: Verdict =
    input.probes.length === 0 ? 'skipped' : failed.length ? 'fail' : slow.length ? 'warn' : 'pass';
  const evidence = input.probes.map(
    (p) => `${p.url}: ${p.probe.ok ? (p.probe.detail ?? 'ok') : p.probe.error} in ${ms(p.probe.ms)}`,
  );
  const summary =
    verdict === 'skipped'
      ? 'no endpoints configured'
      : failed.length
        ? `${failed.length} of ${input.probes.length} endpoints failing: ${failed.map((p) => p.url).join(', ')}`
        : slow.length
          ? `${slow.length} endpoints slower than ${th.endpointMs} ms`
          : `all ${input.probes.length} endpoints answer`;
  return makeResult({ checkId: 'endpoints', target: input.target, verdict, summary, evidence });
}

/** Runs traffic-volume on a load balancer's access log in the window. */
export async function runTrafficVolume(ctx: LbSources): Promise<CheckResult> {
  const log = await ctx.log();
  if (!log) return skippedOn(ctx, 'traffic-volume', 'no access log configured');
  const r = checkTrafficVolume({ target: ctx.lb.name, summary: log, thresholds: ctx.config.thresholds });
  r.notes.push(...problemNotes(log.problems));
  return r;
}

/**
 * Runs backend-connect: a TCP connect from the bot's host to every server address the load balancer's pools
 * name that `probes.allow` admits; the others are listed as not probed, and when none is admitted the check is
 * `skipped` with the reason.
 */
export async function runBackendConnect(ctx: LbSources): Promise<CheckResult> {
  const th = ctx.config.thresholds;
  const pools = await ctx.pools();
  if (!pools)
    return skippedOn(ctx, 'backend-connect', 'no stats source or config file to read server addresses from');
  const log = await ctx.log().catch(() => undefined);
  const allow = new ProbeAllow(ctx.config.probes.allow);
  const refused: string[] = [];
  const probes = (
    await Promise.all(
      pools.pools.flatMap((p) =>
        p.servers.flatMap((s) => {
          const hp = s.address ? splitHostPort(s.address) : undefined;
          if (!hp) return [];
          return [
            allow.admits(hp.host).then(async (admitted) => {
              if (!admitted.ok) {
                refused.push(`${p.name}/${s.name}: ${admitted.reason}`);
                return [];
              }
              const probe = await probeTcp(hp.host, hp.port, th.probeTimeoutMs);
              return [
                {
                  backend: p.name,
                  server: s.name,
                  address: s.address!,
                  usable: s.usable,
                  status: s.status,
                  probe,
                  lb: lbViewOf(p, s, log?.servers),
                },
              ];
            }),
          ];
        }),
      ),
    )
  ).flat();
  if (probes.length === 0 && refused.length > 0)
    return makeResult({
      checkId: 'backend-connect',
      target: ctx.lb.name,
      verdict: 'skipped',
      summary: `no server address is inside probes.allow (${allow.cidrs.join(', ')}), so the bot probed none`,
      evidence: refused,
    });
  if (probes.length === 0 && ctx.lb.kind === 'aws-elbv2')
    return skippedOn(
      ctx,
      'backend-connect',
      'the target group registers instance ids (or Lambda functions), not IP addresses: nothing for the bot to probe',
    );
  const r = checkBackendConnect({ target: ctx.lb.name, probes, thresholds: th });
  r.notes.push(...refused);
  return r;
}
