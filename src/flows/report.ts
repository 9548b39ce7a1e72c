import { buildReport, type Report } from '../core/report.js';
import type { TimelineEntry } from '../core/timeline.js';
import type { Deps } from './deps.js';

/**
 * The report across incidents closed in the last `sinceMs` (ms) before now: reads their timelines
 * through the store (ids whose data retention removed are skipped) and counts the open ones apart.
 */
export async function reportSince(deps: Deps, sinceMs: number): Promise<Report> {
  const to = deps.now();
  const from = new Date(to.getTime() - sinceMs);
  const timelines: TimelineEntry[][] = [];
  for (const id of await deps.store.closedIncidents({ fromMs: from.getTime(), toMs: to.getTime() })) {
    const entries = await deps.store.entries(id);
    if (entries.length > 0) timelines.push(entries);
  }
  let open = 0;
  for (const id of await deps.store.openIncidents()) {
    const inc = await deps.store.current(id);
    if (inc && inc.status !== 'closed') open++;
  }
  return buildReport(timelines, { from: from.toISOString(), to: to.toISOString() }, open);
}
