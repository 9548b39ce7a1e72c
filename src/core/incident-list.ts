import { differenceInSeconds } from 'date-fns';
import type { Incident } from './incident.js';
import { Severity } from './incident-model.js';

/** How an incident's status is shown: its status, or `declined` / `merged` for incidents closed that way. */
export function displayStatus(inc: Pick<Incident, 'status' | 'closedAs'>): string {
  if (inc.status === 'closed' && inc.closedAs) return inc.closedAs;
  return inc.status;
}

/** One row of the incident list (and App Home): times in seconds. */
export interface IncidentRow {
  id: string;
  title: string;
  severity: Severity;
  status: string;
  commander?: string;
  channelId?: string;
  declaredAt: string;
  /** Open: seconds since declared. */
  ageS: number;
  /** Closed: seconds from declared to closed. */
  durationS?: number;
  closedAt?: string;
}

/** Rows for open incidents: most severe first, then oldest first. `now` is the reference time. */
export function openRows(incidents: readonly Incident[], now: Date): IncidentRow[] {
  return incidents
    .filter((i) => i.status !== 'closed')
    .map((i) => row(i, now))
    .sort(
      (a, b) =>
        Severity.options.indexOf(a.severity) - Severity.options.indexOf(b.severity) || b.ageS - a.ageS,
    );
}

/** Rows for closed incidents, latest close first, with their durations (declared → closed). */
export function closedRows(incidents: readonly Incident[], now: Date): IncidentRow[] {
  return incidents
    .filter((i) => i.status === 'closed' && i.closedAt)
    .map((i) => ({
      ...row(i, now),
      durationS: Math.max(0, differenceInSeconds(new Date(i.closedAt!), new Date(i.declaredAt))),
      closedAt: i.closedAt,
    }))
    .sort((a, b) => Date.parse(b.closedAt!) - Date.parse(a.closedAt!));
}

function row(i: Incident, now: Date): IncidentRow {
  const r: IncidentRow = {
    id: i.id,
    title: i.title,
    severity: i.severity,
    status: displayStatus(i),
    declaredAt: i.declaredAt,
    ageS: Math.max(0, differenceInSeconds(now, new Date(i.declaredAt))),
  };
  if (i.commander) r.commander = i.commander;
  if (i.channelId) r.channelId = i.channelId;
  return r;
}
