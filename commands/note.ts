import { mutate } from '../src/flows/record.js';
import { currentIncident, slashOrigin } from './context.js';
import { FreeText, parseArgs } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident note <text>';

export const note: Command = {
  name: 'note',
  usage,
  summary: 'Add a note to the timeline.',
  async run(ctx, text) {
    const body = parseArgs(FreeText, text, usage);
    const id = await currentIncident(ctx);
    const o = slashOrigin(ctx);
    const rec = await mutate(
      ctx.deps,
      id,
      () => [
        {
          kind: 'note',
          incidentId: id,
          at: ctx.deps.now().toISOString(),
          actor: o.actor,
          source: o.source,
          text: body,
        },
      ],
      { claimKey: o.claimKey },
    );
    return { text: `Noted on ${id}'s timeline.`, duplicate: rec.duplicate, incidentId: id };
  },
};
