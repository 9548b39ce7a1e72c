import { z } from 'zod';

/** Outcome of one diagnostic check: `pass` (no problem), `warn`, `fail` (evidence of a fault), `error` (could not run), `skipped`. */
export const Verdict = z.enum(['pass', 'warn', 'fail', 'error', 'skipped']);
export type Verdict = z.infer<typeof Verdict>;

/**
 * The hypotheses an incident team usually weighs. `load-balancer` is the real cause in every seed;
 * the others are the red herrings teams chased first.
 */
export const HypothesisCategory = z.enum([
  'load-balancer',
  'database',
  'traffic-surge',
  'network',
  'application',
  'other',
]);
export type HypothesisCategory = z.infer<typeof HypothesisCategory>;

/** How a check result bears on a hypothesis: it supports it, or rules it out. */
export const Bearing = z.object({
  hypothesis: HypothesisCategory,
  effect: z.enum(['supports', 'rules-out']),
});
export type Bearing = z.infer<typeof Bearing>;

/** Per-server figures behind a pool-health or traffic-distribution verdict; shares are fractions 0..1. */
export const ServerFigures = z.object({
  backend: z.string(),
  server: z.string(),
  status: z.string().optional(),
  weight: z.number().optional(),
  requests: z.number().optional(),
  observedShare: z.number().optional(),
  expectedShare: z.number().optional(),
  evenShare: z.number().optional(),
  errors5xx: z.number().optional(),
  connectMs: z.number().optional(),
});
export type ServerFigures = z.infer<typeof ServerFigures>;

/** The result of one check against one target, as posted in the checklist and recorded on the timeline. */
export const CheckResult = z.object({
  /** Stable check id: pool-health, traffic-distribution, routing, recent-change, database, traffic-volume, backend-connect, endpoints. */
  checkId: z.string(),
  /** What was checked: a load balancer name from the targets config, or a probe name. */
  target: z.string(),
  verdict: Verdict,
  /** One sentence a responder can act on ("web-01 takes 97% of requests, expected 33%"). */
  summary: z.string(),
  /** Evidence lines: numbers, server names, the time window. */
  evidence: z.array(z.string()).default([]),
  servers: z.array(ServerFigures).default([]),
  bears: z.array(Bearing).default([]),
  window: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }).optional(),
  /**
   * Where the evidence was seen from: the load balancer's own stats, health checks, log or config, or the bot's
   * own probes from its host. The bot's probes never override the load balancer's evidence.
   */
  seenFrom: z.array(z.enum(['lb-stats', 'lb-health-checks', 'lb-log', 'lb-config', 'bot-probe'])).optional(),
  /** Input problems that did not stop the check ("skipped 12 unparsable lines"). */
  notes: z.array(z.string()).default([]),
  durationMs: z.number().optional(),
});
export type CheckResult = z.infer<typeof CheckResult>;

const SEEN: Record<NonNullable<CheckResult['seenFrom']>[number], string> = {
  'lb-stats': "the load balancer's stats",
  'lb-health-checks': "the load balancer's health checks",
  'lb-log': "the load balancer's log",
  'lb-config': "the load balancer's config",
  'bot-probe': "incident-bot's own probes from its host",
};

/** "the load balancer's stats, the load balancer's log" for a result's `seenFrom`. */
export function describeSeenFrom(seen: NonNullable<CheckResult['seenFrom']>): string {
  return seen.map((s) => SEEN[s]).join(', ');
}
