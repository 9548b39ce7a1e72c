import { type CheckResult, describeSeenFrom, type Verdict } from '../core/check.js';
import { pct } from './model.js';

const ICON: Record<Verdict, string> = { pass: '✅', warn: '⚠️ ', fail: '❌', error: '💥', skipped: '⏭️ ' };

function bar(share: number, width = 20): string {
  const n = Math.max(0, Math.min(width, Math.round(share * width)));
  return `${'█'.repeat(n)}${'░'.repeat(width - n)}`;
}

/**
 * Renders results as a plain-text checklist: one line per check with its verdict icon and summary, evidence
 * indented, and for traffic-distribution a bar per server (observed vs expected-by-weight and even split).
 */
export function formatChecklistText(results: CheckResult[], window?: { from: Date; to: Date }): string {
  const out: string[] = [];
  if (window) out.push(`Diagnostics for ${window.from.toISOString()} .. ${window.to.toISOString()}`, '');
  for (const r of results) {
    out.push(`${ICON[r.verdict]} ${r.checkId} [${r.target}] ${r.verdict.toUpperCase()}: ${r.summary}`);
    if (r.seenFrom?.length) out.push(`     seen from: ${describeSeenFrom(r.seenFrom)}`);
    for (const e of r.evidence) out.push(`     ${e}`);
    if (r.checkId === 'traffic-distribution') {
      const named = r.servers.filter((s) => s.observedShare !== undefined);
      const w = Math.max(8, ...named.map((s) => `${s.backend}/${s.server}`.length));
      for (const s of named) {
        out.push(
          `     ${`${s.backend}/${s.server}`.padEnd(w)} ${bar(s.observedShare ?? 0)} ${pct(s.observedShare ?? 0).padStart(4)} observed, ` +
            `${pct(s.expectedShare ?? 0)} by weight${s.weight !== undefined ? ` (w=${s.weight})` : ''}, ${pct(s.evenShare ?? 0)} even  [${s.status ?? '?'}]`,
        );
      }
    }
    for (const b of r.bears) out.push(`     → ${b.effect} ${b.hypothesis}`);
    for (const n of r.notes) out.push(`     note: ${n}`);
  }
  const counts = results.reduce<Record<string, number>>((m, r) => {
    m[r.verdict] = (m[r.verdict] ?? 0) + 1;
    return m;
  }, {});
  out.push(
    '',
    Object.entries(counts)
      .map(([v, n]) => `${n} ${v}`)
      .join(', '),
  );
  return `${out.join('\n')}\n`;
}

/** The `--json` document: window, config problems, and per check id, target, verdict, summary, evidence, servers, bears, notes. */
export function toJsonReport(
  results: CheckResult[],
  window: { from: Date; to: Date },
  problems: string[],
): Record<string, unknown> {
  return {
    window: { from: window.from.toISOString(), to: window.to.toISOString() },
    problems,
    checks: results.map((r) => ({
      id: r.checkId,
      target: r.target,
      verdict: r.verdict,
      summary: r.summary,
      evidence: r.evidence,
      servers: r.servers,
      bears: r.bears,
      notes: r.notes,
      seenFrom: r.seenFrom,
      durationMs: r.durationMs,
    })),
  };
}
