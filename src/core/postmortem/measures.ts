/** The "Measures" section: follow-ups the team recorded and measures suggested by failing checks. */
import type { EntryOf, TimelineEntry } from '../timeline.js';
import { checkName, list, refOf, sourced, uniq } from './facts.js';
import { HINT } from './hints.js';
import { markdownText } from './text.js';
import type { FactList, Followup, Suggestion } from './view.js';

/** The follow-ups recorded with `followup_added`, in timeline order, or a hint to add them. */
export function followups(sorted: readonly TimelineEntry[]): FactList<Followup> {
  // Issue 14: the tracker issue a follow-up became (its `followup_issue_created` entry), linked in the draft.
  const issues = new Map(
    sorted
      .filter((e): e is EntryOf<'followup_issue_created'> => e.kind === 'followup_issue_created')
      .map((e) => [e.followupId, e]),
  );
  return list(
    sorted
      .filter((e): e is EntryOf<'followup_added'> => e.kind === 'followup_added')
      .map((e) => {
        const issue = issues.get(e.followupId);
        return {
          ...sourced(markdownText(e.text), issue ? [e.seq, issue.seq] : [e.seq]),
          id: e.followupId,
          owner: e.owner ? markdownText(e.owner) : null,
          issue:
            issue && /^https?:\/\//i.test(issue.url)
              ? { key: markdownText(issue.key), url: issue.url }
              : null,
        };
      }),
    HINT.followups,
  );
}

interface SuggestionRule {
  key: string;
  text: string;
}

/** Measures suggested by a failing check, by check id; deduplicated across checks by `key`. */
export const SUGGESTIONS: Record<string, readonly SuggestionRule[]> = {
  'traffic-distribution': [
    {
      key: 'validate-weights',
      text: 'Validate load-balancer weights against the intended split before each deploy.',
    },
    { key: 'share-alert', text: "Alert on each server's share of requests, not only on latency and errors." },
  ],
  routing: [
    {
      key: 'ci-config-check',
      text: 'Check load-balancer configuration in CI: fail when a route points at an empty pool.',
    },
    { key: 'rollback-plan', text: 'Keep a tested rollback plan for load-balancer configuration changes.' },
  ],
  'pool-health': [
    { key: 'health-alert', text: 'Alert when load-balancer health checks mark a server down.' },
  ],
  'recent-change': [
    { key: 'rollback-plan', text: 'Keep a tested rollback plan for load-balancer configuration changes.' },
  ],
};

/** Measures suggested by failing or warning checks, one per rule key, citing every check that suggests it. */
export function suggestions(checks: EntryOf<'check_result'>[]): Suggestion[] {
  const byKey = new Map<string, Suggestion>();
  for (const c of checks) {
    if (c.result.verdict !== 'fail' && c.result.verdict !== 'warn') continue;
    for (const rule of SUGGESTIONS[c.result.checkId] ?? []) {
      const had = byKey.get(rule.key);
      if (had) {
        had.seqs = uniq([...had.seqs, c.seq]);
        had.ref = refOf(had.seqs);
      } else {
        byKey.set(rule.key, {
          ...sourced(rule.text, [c.seq]),
          because: `${checkName(c.result)}: ${c.result.verdict}, ${markdownText(c.result.summary)}`,
        });
      }
    }
  }
  return [...byKey.values()];
}
