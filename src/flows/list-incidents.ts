import type { Incident } from '../core/incident.js';
import { closedRows, type IncidentRow, openRows } from '../core/incident-list.js';
import { incidentMembers, visibleTo } from '../core/visibility.js';
import type { Deps } from './deps.js';

/** How many closed incidents `/incident list --all` and App Home show. */
export const CLOSED_SHOWN = 20;

/** What a viewer may see: open incidents, and with `closed` the last `closed` closed ones. */
export interface IncidentLists {
  open: IncidentRow[];
  closed: IncidentRow[];
}

/**
 * Reads the open incidents (and, with `closed` > 0, the latest closed ones) and keeps those
 * `viewer` may see (src/core/visibility.ts). Ids whose timeline is gone (retention) are skipped.
 */
export async function listIncidents(deps: Deps, viewer: string, closed = 0): Promise<IncidentLists> {
  const read = async (ids: readonly string[]) => {
    const out: Incident[] = [];
    for (const id of ids) {
      const inc = await deps.store.current(id);
      if (inc && visibleTo(inc, viewer, incidentMembers(inc))) out.push(inc);
    }
    return out;
  };
  const now = deps.now();
  const open = openRows(await read(await deps.store.openIncidents()), now);
  const closedIds = closed > 0 ? await deps.store.closedIncidents({ last: closed * 2 }) : [];
  const closedList = closedRows(await read(closedIds), now).slice(0, closed);
  return { open, closed: closedList };
}
