import type { CheckResult, ServerFigures, Verdict } from '../../core/check.js';

const RANK: Record<Verdict, number> = { skipped: 0, pass: 1, warn: 2, error: 3, fail: 4 };

/** The worse of verdicts (`fail` > `error` > `warn` > `pass` > `skipped`); `pass` for none. */
export function worst(verdicts: Verdict[]): Verdict {
  let w: Verdict | undefined;
  for (const v of verdicts) if (w === undefined || RANK[v] > RANK[w]) w = v;
  return w ?? 'pass';
}

/** Builds a CheckResult with empty defaults filled in. */
export function makeResult(
  r: Pick<CheckResult, 'checkId' | 'target' | 'verdict' | 'summary'> & Partial<CheckResult>,
): CheckResult {
  return {
    evidence: [],
    servers: [],
    bears: [],
    notes: [],
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
