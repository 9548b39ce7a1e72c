import { DomainError } from './errors.js';
import type { Incident } from './incident.js';
import { isMoreSevere, type Role, type Severity } from './incident-model.js';

/**
 * A change only some people may make: closing, lowering the severity, handing over command
 * (assigning the incident commander while someone holds it). Everything else is open to anyone.
 */
export type GuardedChange =
  | { kind: 'close' }
  | { kind: 'severity'; to: Severity }
  | { kind: 'role'; role: Role; userId: string };

/**
 * Who may make guarded changes: `open` (INCIDENT_OPEN_PERMISSIONS) lets anyone; otherwise the
 * incident commander, the declarer and INCIDENT_ADMINS (`adminIds`: user ids `U…`/`W…` and user
 * group ids `S…`). `isAdmin` says whether the asking person is one of the admins (directly or as a
 * member of an admin group; the group lookup is the caller's, done before).
 */
export interface PermissionPolicy {
  open: boolean;
  adminIds: readonly string[];
}

/** True when `change` needs permission on `inc`: a close, a severity lowered, or command handed over (someone already holds it). */
export function isGuarded(inc: Incident, change: GuardedChange): boolean {
  switch (change.kind) {
    case 'close':
      return true;
    case 'severity':
      return isMoreSevere(inc.severity, change.to);
    case 'role':
      return change.role === 'commander' && inc.commander !== undefined && inc.commander !== change.userId;
  }
}

/** True when `userId` holds a role that may make guarded changes on `inc` without being an admin: commander or declarer. */
export function holdsIncident(inc: Incident, userId: string): boolean {
  return inc.commander === userId || inc.declaredBy === userId;
}

/** True when `userId` may make `change` on `inc` under `policy` (`isAdmin`: whether the person is one of INCIDENT_ADMINS). */
export function mayChange(
  inc: Incident,
  userId: string,
  change: GuardedChange,
  policy: PermissionPolicy,
  isAdmin: boolean,
): boolean {
  return policy.open || !isGuarded(inc, change) || holdsIncident(inc, userId) || isAdmin;
}

/** The people who may make guarded changes on `inc`, as Slack mrkdwn: "the incident commander <@U1>, the declarer <@U2> or an incident admin (<@U3>, <!subteam^S1>)". */
export function whoMay(inc: Incident, policy: PermissionPolicy): string {
  const mention = (id: string) => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`);
  const parts: string[] = [];
  if (inc.commander) parts.push(`the incident commander ${mention(inc.commander)}`);
  if (inc.declaredBy && inc.declaredBy !== inc.commander)
    parts.push(`the declarer ${mention(inc.declaredBy)}`);
  if (policy.adminIds.length > 0)
    parts.push(`an incident admin (${policy.adminIds.map(mention).join(', ')})`);
  if (parts.length === 0) return 'the incident commander (nobody has taken command yet)';
  return parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} or ${parts.at(-1)}`;
}

function describe(inc: Incident, change: GuardedChange): string {
  switch (change.kind) {
    case 'close':
      return `close ${inc.id}`;
    case 'severity':
      return `lower ${inc.id}'s severity (${inc.severity} → ${change.to})`;
    case 'role':
      return `hand over command of ${inc.id}`;
  }
}

/**
 * Throws DomainError `NOT_ALLOWED` naming who can, when `userId` may not make `change` on `inc`
 * (see {@link mayChange}); returns nothing otherwise.
 */
export function assertMayChange(
  inc: Incident,
  userId: string,
  change: GuardedChange,
  policy: PermissionPolicy,
  isAdmin: boolean,
): void {
  if (mayChange(inc, userId, change, policy, isAdmin)) return;
  throw new DomainError(
    'NOT_ALLOWED',
    `Only ${whoMay(inc, policy)} can ${describe(inc, change)}`,
    inc.commander
      ? 'Ask one of them, or ask the incident commander to hand command to you.'
      : 'Take command with `/incident lead @you` first, or ask one of them.',
  );
}
