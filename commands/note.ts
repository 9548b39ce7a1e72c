import { recordFromSlash } from './context.js';
import { FreeText, parseArgs } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident note <text>';

export const note: Command = {
  name: 'note',
  usage,
  summary: 'Add a note to the timeline.',
  async run(ctx, text) {
    const body = parseArgs(FreeText, text, usage);
    const { id, rec } = await recordFromSlash(ctx, (_inc, b) => ({ kind: 'note', ...b, text: body }));
    return { text: `Noted on ${id}'s timeline.`, duplicate: rec.duplicate, incidentId: id };
  },
};
