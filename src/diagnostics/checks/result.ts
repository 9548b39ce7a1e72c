import type { CheckResult, ServerFigures, Verdict } from '../../core/check.js';

const RANK: Record<Verdict, number> = { skipped: 0, pass: 1, warn: 2, error: 3, fail: 4 };

/** The worse of verdicts (`fail` > `error` > `warn` > `pass` > `skipped`); `pass` for none. */
export function worst(verdicts: Verdict[]): Verdict {
  let w: Verdict | undefined;
  for (const v of verdicts) if (w === undefined || RANK[v] > RANK[w]) w = v;
  return w ?? 'pass';
}

/** Where the checks that always look at one place see their evidence from (the others say it themselves). */
const SEEN_FROM: Partial<Record<string, NonNullable<CheckResult['seenFrom']>>> = {
  'recent-change': ['lb-config'],
  'traffic-volume': ['lb-log'],
  database: ['bot-probe'],
  endpoints: ['bot-probe'],
};

/** Builds a CheckResult with empty defaults filled in (and `seenFrom` for checks that always look at one place). */
export function makeResult(
  r: Pick<CheckResult, 'checkId' | 'target' | 'verdict' | 'summary'> & Partial<CheckResult>,
): CheckResult {
  const seen = r.verdict === 'skipped' || r.verdict === 'error' ? undefined : SEEN_FROM[r.checkId];
  return {
    evidence: [],
    servers: [],
    bears: [],
    notes: [],
    ...(seen ? { seenFrom: seen } : {}),
    ...r,
  };
}

/** `supports load-balancer` when the verdict reports a fault, nothing otherwise. */
export function lbBearing(verdict: Verdict): CheckResult['bears'] {
  return verdict === 'fail' || verdict === 'warn'
    ? [{ hypothesis: 'load-balancer', effect: 'supports' }]
    : [];
}

export type { CheckResult, ServerFigures, Verdict };
