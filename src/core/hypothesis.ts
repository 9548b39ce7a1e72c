import type { CheckResult, HypothesisCategory } from './check.js';
import { judgesLoadBalancer } from './check-ids.js';
import type { Hypothesis, Incident } from './incident.js';

const CATEGORY_WORDS: [HypothesisCategory, RegExp][] = [
  [
    'load-balancer',
    /\b(load[- ]?balanc\w*|lb|haproxy|nginx|envoy|elb|alb|weights?|upstreams?|backend pool|pool|routing|route|vip|ingress)\b/i,
  ],
  [
    'database',
    /\b(db|database|postgres\w*|mysql|mariadb|sql|quer(y|ies)|replica\w*|primary|index(es)?|deadlocks?|connection pool|pgbouncer)\b/i,
  ],
  [
    'traffic-surge',
    /\b(ddos|dos|attack|surge|spike|flood|bots?|traffic (spike|surge|increase)|scrap\w*|load spike)\b/i,
  ],
  [
    'network',
    /\b(network|dns|packet( loss)?|tcp|bgp|firewall|mtu|latency between|peering|vpc|subnet|routing table)\b/i,
  ],
  ['application', /\b(deploy\w*|release|bug|memory leak|gc|thread\w*|code|regression|app(lication)?)\b/i],
];

/** Guesses which usual suspect a hypothesis is about from its words ("the DB is overloaded" → database); `other` when none match. */
export function categorize(text: string): HypothesisCategory {
  // The red herrings first: "database behind the load balancer" is a database suspicion.
  const order: HypothesisCategory[] = [
    'database',
    'traffic-surge',
    'network',
    'load-balancer',
    'application',
  ];
  for (const cat of order) {
    const re = CATEGORY_WORDS.find(([c]) => c === cat)![1];
    if (re.test(text)) return cat;
  }
  return 'other';
}

/** The next hypothesis id: H1, H2, … */
export function nextHypothesisId(inc: Incident): string {
  return `H${inc.hypotheses.length + 1}`;
}

/** Finds a hypothesis by id (`H2`, `h2`, `2`). */
export function findHypothesis(inc: Incident, ref: string): Hypothesis | undefined {
  const id = `H${ref.trim().replace(/^h/i, '')}`;
  return inc.hypotheses.find((h) => h.id === id);
}

function pct(x: number | undefined): string {
  return x === undefined ? '?' : `${Math.round(x * 100)}%`;
}

/**
 * The sharpest line of evidence a load-balancer check has: for traffic distribution, the server
 * taking the most traffic against an even split, and whether its weight or something else sent it
 * there; otherwise the check's summary.
 */
export function lbEvidence(r: CheckResult): string {
  const top = [...r.servers]
    .filter((s) => s.observedShare !== undefined && s.evenShare !== undefined)
    .sort((a, b) => b.observedShare! - b.evenShare! - (a.observedShare! - a.evenShare!))[0];
  if (r.checkId === 'traffic-distribution' && top && top.observedShare! > top.evenShare! * 1.5) {
    const takes = `${top.server} takes ${pct(top.observedShare)} of requests on ${r.target}`;
    const peers = r.servers.filter(
      (s) => s.backend === top.backend && s.server !== top.server && s.weight !== undefined,
    );
    if (top.expectedShare !== undefined && top.expectedShare > top.evenShare! * 1.5) {
      return `${takes}, where an even split would give it ${pct(top.evenShare)}: its weight (${top.weight ?? '?'} against ${peers.map((p) => p.weight).join(', ') || 'its peers'}) sends it ${pct(top.expectedShare)}`;
    }
    const byWeight = top.expectedShare ?? top.evenShare!;
    const differs = Math.abs(byWeight - top.evenShare!) > 0.02;
    return `${takes}, expected ${pct(byWeight)}${differs ? ` by weight (${pct(top.evenShare)} if even)` : ''}`;
  }
  return `${r.checkId} on ${r.target}: ${r.summary}`;
}

/**
 * What the bot should say when the team suspects `category`: the checks that rule it out and any
 * failing load-balancer check, as one sentence ("Before digging into the database: web-01 takes
 * 97% of requests, expected 33%. The database check passed: …"); null when the checks say nothing.
 */
export function nudgeFor(inc: Incident, category: HypothesisCategory): string | null {
  if (category === 'load-balancer' || category === 'other') return null;
  const against = inc.checks.filter(
    (c) => c.verdict === 'pass' && c.bears.some((b) => b.hypothesis === category && b.effect === 'rules-out'),
  );
  const lbFailing = inc.checks.filter(
    (c) =>
      judgesLoadBalancer(c.checkId) &&
      (c.verdict === 'fail' || c.verdict === 'warn') &&
      c.bears.some((b) => b.hypothesis === 'load-balancer' && b.effect === 'supports'),
  );
  if (against.length === 0 && lbFailing.length === 0) return null;
  const noun = {
    database: 'the database',
    'traffic-surge': 'a traffic surge or DDoS',
    network: 'the network',
    application: 'the application',
  }[category];
  const parts: string[] = [];
  // Failures before warnings: the skewed pool matters more than the config change behind it.
  lbFailing.sort((a, b) => (a.verdict === b.verdict ? 0 : a.verdict === 'fail' ? -1 : 1));
  if (lbFailing.length > 0) parts.push(`${lbFailing.map(lbEvidence).join('; ')}.`);
  if (against.length > 0)
    parts.push(
      `Evidence against ${noun}: ${against.map((c) => `${c.checkId} on ${c.target} passed (${c.summary})`).join('; ')}.`,
    );
  return `Before digging into ${noun}: ${parts.join(' ')}`;
}
