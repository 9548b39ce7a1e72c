import { closeIncident } from '../src/flows/change-status.js';
import { currentIncident, slashOrigin } from './context.js';
import type { Command } from './types.js';

export const close: Command = {
  name: 'close',
  usage: '/incident close [resolution]',
  summary: 'Close the incident and draft the postmortem.',
  async run(ctx, text) {
    const id = await currentIncident(ctx);
    const resolution = text.trim().slice(0, 3000) || undefined;
    const rec = await closeIncident(ctx.deps, id, resolution, slashOrigin(ctx));
    return {
      text: `${id} closed. The postmortem draft will be posted here.`,
      duplicate: rec.duplicate,
      incidentId: id,
    };
  },
};
