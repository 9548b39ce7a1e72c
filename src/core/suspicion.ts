import type { CheckResult, HypothesisCategory } from './check.js';
import { judgesLoadBalancer } from './check-ids.js';
import { nudgeFor } from './hypothesis.js';
import type { Incident } from './incident.js';
import type { NewEntry } from './timeline.js';

const RED_HERRINGS = new Set<HypothesisCategory>(['database', 'traffic-surge', 'network']);

/** True when a result is evidence on an open red-herring hypothesis: a failing LB check, or a check that rules its category out. */
export function bearsOnSuspicion(r: CheckResult, category: HypothesisCategory): boolean {
  const lbFailing =
    judgesLoadBalancer(r.checkId) &&
    (r.verdict === 'fail' || r.verdict === 'warn') &&
    r.bears.some((b) => b.hypothesis === 'load-balancer' && b.effect === 'supports');
  const against =
    r.verdict === 'pass' && r.bears.some((b) => b.hypothesis === category && b.effect === 'rules-out');
  return lbFailing || against;
}

/** The bot notes a new result earns: one per open database/DDoS/network hypothesis it bears on, from `nudgeFor`. */
export function nudgesFor(inc: Incident, r: CheckResult, at: string): NewEntry[] {
  const out: NewEntry[] = [];
  for (const h of inc.hypotheses) {
    if (h.state !== 'suspected' || !RED_HERRINGS.has(h.category) || !bearsOnSuspicion(r, h.category))
      continue;
    const text = nudgeFor({ ...inc, checks: [r] }, h.category);
    if (text)
      out.push({
        kind: 'note',
        incidentId: inc.id,
        at,
        actor: { type: 'bot' },
        source: 'bot',
        text: `${text} (re ${h.id}: ${h.text})`,
      });
  }
  return out;
}
