import type { IncidentId } from '../src/core/incident-model.js';
import type { Origin } from '../src/flows/change-status.js';
import { incidentOfChannel } from '../src/flows/record.js';
import type { CommandContext } from './types.js';

/** The origin of a slash command, for timeline entries. */
export function slashOrigin(ctx: CommandContext): Origin {
  return { actor: { type: 'user', id: ctx.userId }, source: 'slash', claimKey: ctx.claimKey };
}

/** The incident of the channel the command ran in (throws NOT_AN_INCIDENT_CHANNEL otherwise). */
export function currentIncident(ctx: CommandContext): Promise<IncidentId> {
  return incidentOfChannel(ctx.deps, ctx.channelId);
}
