import type { Actor, IncidentId } from '../core/incident-model.js';
import { type GuardedChange, holdsIncident, isGuarded, type PermissionPolicy } from '../core/permissions.js';
import type { Deps } from './deps.js';

/** The permission policy from the settings: INCIDENT_OPEN_PERMISSIONS and INCIDENT_ADMINS. */
export function policyOf(config: Deps['config']): PermissionPolicy {
  return { open: config.INCIDENT_OPEN_PERMISSIONS ?? false, adminIds: config.INCIDENT_ADMINS ?? [] };
}

/**
 * Whether `actor` counts as one of INCIDENT_ADMINS for `change` on incident `id`: listed by user id,
 * or a member of a listed user group. The group lookup (a Slack call, cached by the directory) is
 * made only when it can matter: the change is guarded and the person is neither commander nor
 * declarer. A lookup that fails counts as "not a member" (logged); the refusal names the group.
 */
export async function isAdminFor(
  deps: Deps,
  id: IncidentId,
  actor: Actor,
  change: GuardedChange,
): Promise<boolean> {
  if (actor.type !== 'user') return false;
  const policy = policyOf(deps.config);
  if (policy.open) return false;
  if (policy.adminIds.includes(actor.id)) return true;
  const groups = policy.adminIds.filter((x) => x.startsWith('S'));
  if (groups.length === 0) return false;
  const inc = await deps.store.current(id);
  if (!inc || !isGuarded(inc, change) || holdsIncident(inc, actor.id)) return false;
  if (!deps.groups) return false;
  for (const g of groups) {
    try {
      if ((await deps.groups.members(g)).includes(actor.id)) return true;
    } catch (err) {
      deps.log.warn({ err: (err as Error).message, group: g }, 'could not read the admin user group');
    }
  }
  return false;
}
