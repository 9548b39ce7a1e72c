import type { Role } from '../src/core/incident-model.js';
import { assignRole, roleName } from '../src/flows/change-status.js';
import { currentIncident, slashOrigin } from './context.js';
import { parseArgs, UserMention } from './parse.js';
import type { Command } from './types.js';

/** Builds the `lead` / `comms` subcommand for a role. */
export function roleCommand(name: string, role: Role): Command {
  const usage = `/incident ${name} <@user>`;
  return {
    name,
    aliases: role === 'commander' ? ['commander', 'ic'] : [],
    usage,
    summary: `Assign the ${roleName(role)}.`,
    async run(ctx, text) {
      const userId = parseArgs(UserMention, text, usage);
      const id = await currentIncident(ctx);
      const rec = await assignRole(ctx.deps, id, role, userId, slashOrigin(ctx));
      return {
        text: `<@${userId}> is the ${roleName(role)} of ${id}.`,
        duplicate: rec.duplicate,
        incidentId: id,
      };
    },
  };
}

export const lead = roleCommand('lead', 'commander');
export const comms = roleCommand('comms', 'comms');
