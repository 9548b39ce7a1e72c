import { z } from 'zod';
import type { MethodContext, MethodHandler } from './methods.js';
import { SlackApiError, type Workspace } from './workspace.js';

/** A user group (`S…`) of the sandbox workspace: its @handle and member ids. */
export interface SandboxUserGroup {
  id: string;
  handle: string;
  users: string[];
}

// Kept beside the workspace rather than in it: one map per workspace, gone with it.
const GROUPS = new WeakMap<Workspace, Map<string, SandboxUserGroup>>();

/** The user groups of a sandbox workspace (created empty on first use). */
export function userGroups(ws: Workspace): Map<string, SandboxUserGroup> {
  let m = GROUPS.get(ws);
  if (!m) {
    m = new Map();
    GROUPS.set(ws, m);
  }
  return m;
}

/** Adds a user group whose members are existing users (throws SlackApiError `user_not_found` otherwise). */
export function addUserGroup(ws: Workspace, g: { handle: string; users: string[] }): SandboxUserGroup {
  for (const u of g.users) ws.requireUser(u);
  const group = { id: ws.nextId('S'), handle: g.handle, users: [...g.users] };
  userGroups(ws).set(group.id, group);
  return group;
}

const Args = z.object({
  usergroup: z.string().min(1),
  include_disabled: z.union([z.boolean(), z.string()]).optional(),
});

/**
 * `usergroups.users.list` (https://docs.slack.dev/reference/methods/usergroups.users.list, scope
 * `usergroups:read`): `{ users: [ids] }`; `usergroup` is required, an unknown one is
 * `no_such_subteam`; deactivated members are left out unless `include_disabled`.
 */
export const usergroupsUsersList: MethodHandler = ({ ws, args }: MethodContext) => {
  const a = Args.safeParse(args);
  if (!a.success) {
    throw new SlackApiError(args.usergroup === undefined ? 'invalid_arguments' : 'invalid_arg_name');
  }
  const g = userGroups(ws).get(a.data.usergroup);
  if (!g) throw new SlackApiError('no_such_subteam');
  const withDisabled = a.data.include_disabled === true || a.data.include_disabled === 'true';
  const users = g.users.filter((id) => {
    const u = ws.users.get(id) as { deleted?: boolean } | undefined;
    return withDisabled || !u?.deleted;
  });
  return { users };
};

/** Web API methods served outside methods.ts (user groups), merged into the sandbox's method table. */
export const USERGROUP_METHODS: Readonly<Record<string, MethodHandler>> = {
  'usergroups.users.list': usergroupsUsersList,
};
