import type { Status } from './incident-model.js';

/**
 * The one status transition table. Any open status may move to any other open status (teams
 * go back to investigating when a fix does not hold); `closed` is reachable from every open
 * status and is final.
 */
const TRANSITIONS: Record<Status, readonly Status[]> = {
  investigating: ['identified', 'monitoring', 'resolved', 'closed'],
  identified: ['investigating', 'monitoring', 'resolved', 'closed'],
  monitoring: ['investigating', 'identified', 'resolved', 'closed'],
  resolved: ['investigating', 'identified', 'monitoring', 'closed'],
  closed: [],
};

/** True when an incident may go from `from` to `to`. */
export function canTransition(from: Status, to: Status): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses reachable from `from`, for error messages. */
export function nextStatuses(from: Status): readonly Status[] {
  return TRANSITIONS[from];
}
