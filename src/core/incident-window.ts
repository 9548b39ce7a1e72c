import type { Incident } from './incident.js';

/** How far before the incident (or its first alert) the checks look: the CLI's default window. */
export const LOOKBACK_MS = 15 * 60_000;

/** The longest window a check reads: an alert that started days ago must not make every check scan days of log. */
export const MAX_WINDOW_MS = 6 * 3600_000;

/**
 * The window a check looks at, ending now. Run 1 (on open) reaches back LOOKBACK_MS before the incident or
 * its first alert, so it sees how the trouble started; a re-run looks at the last LOOKBACK_MS, so a fix shows
 * up instead of being averaged with the hours before it. Never longer than MAX_WINDOW_MS.
 */
export function incidentWindow(inc: Incident, now: Date, run = 1): { from: Date; to: Date } {
  const starts = [inc.declaredAt, ...inc.alerts.map((a) => a.startsAt)].map((t) => new Date(t).getTime());
  const recent = now.getTime() - LOOKBACK_MS;
  const from = run <= 1 ? Math.min(recent, Math.min(...starts) - LOOKBACK_MS) : recent;
  return { from: new Date(Math.max(from, now.getTime() - MAX_WINDOW_MS)), to: now };
}
