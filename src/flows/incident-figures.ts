import type { IncidentId, Severity } from '../core/incident-model.js';
import { type IncidentFigures, incidentFigures } from '../core/postmortem/index.js';
import type { Deps } from './deps.js';

/** One closed incident's figures, for the /metrics histograms. */
export interface ClosedFigures extends IncidentFigures {
  severity: Severity;
}

/**
 * The figures of every closed incident (not declined or merged), read through the store; `cache`
 * (kept by the caller across scrapes) holds those already computed, since a closed incident's
 * figures no longer change. Incidents removed by retention drop out of the cache.
 */
export async function closedIncidentFigures(
  deps: Deps,
  cache: Map<IncidentId, ClosedFigures | null>,
): Promise<ClosedFigures[]> {
  const ids = await deps.store.closedIncidents();
  const live = new Set(ids);
  for (const id of cache.keys()) if (!live.has(id)) cache.delete(id);
  const out: ClosedFigures[] = [];
  for (const id of ids) {
    if (!cache.has(id)) {
      const loaded = await deps.store.load(id);
      cache.set(
        id,
        loaded && !loaded.incident.closedAs
          ? { severity: loaded.incident.severity, ...incidentFigures(loaded.entries) }
          : null,
      );
    }
    const f = cache.get(id);
    if (f) out.push(f);
  }
  return out;
}
