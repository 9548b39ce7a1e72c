import type { Incident } from '../src/core/incident.js';
import type { IncidentId } from '../src/core/incident-model.js';
import type { NewEntry } from '../src/core/timeline.js';
import type { Origin } from '../src/flows/change-status.js';
import { incidentOfChannel, mutate } from '../src/flows/record.js';
import type { CommandContext } from './types.js';

/** The origin of a slash command, for timeline entries. */
export function slashOrigin(ctx: CommandContext): Origin {
  return { actor: { type: 'user', id: ctx.userId }, source: 'slash', claimKey: ctx.claimKey };
}

/** The incident of the channel the command ran in (throws NOT_AN_INCIDENT_CHANNEL otherwise). */
export function currentIncident(ctx: CommandContext): Promise<IncidentId> {
  return incidentOfChannel(ctx.deps, ctx.channelId);
}

/** Appends the entry `build` makes from the incident's state, as the slash command's caller, once per request. */
export async function recordFromSlash(
  ctx: CommandContext,
  build: (
    inc: Incident,
    base: { incidentId: string; at: string; actor: { type: 'user'; id: string }; source: 'slash' },
  ) => NewEntry,
) {
  const id = await currentIncident(ctx);
  const o = slashOrigin(ctx);
  const rec = await mutate(
    ctx.deps,
    id,
    (inc) => [
      build(inc, {
        incidentId: id,
        at: ctx.deps.now().toISOString(),
        actor: { type: 'user', id: ctx.userId },
        source: 'slash',
      }),
    ],
    {
      claimKey: o.claimKey,
    },
  );
  return { id, rec };
}
