import type { Incident } from './incident.js';

/**
 * The people an incident is known to involve, from its fold: whoever declared it, the incident
 * commander and the communications lead. Callers that know the channel's members (from Slack)
 * pass those instead; this is the timeline's own answer.
 */
export function incidentMembers(inc: Pick<Incident, 'declaredBy' | 'commander' | 'comms'>): string[] {
  return [inc.declaredBy, inc.commander, inc.comms].filter((u): u is string => typeof u === 'string');
}

/**
 * Whether `userId` may see `inc` in `/incident list` and on App Home: everyone sees a public
 * incident; a private one only shows to its `members` (user ids). The one rule both views use.
 */
export function visibleTo(
  inc: Pick<Incident, 'private'>,
  userId: string,
  members: readonly string[],
): boolean {
  // Private incidents (`/incident start --private`) fold into `private` on the incident.
  if (!inc.private) return true;
  return members.includes(userId);
}
