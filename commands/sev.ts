import { changeSeverity } from '../src/flows/change-status.js';
import { currentIncident, slashOrigin } from './context.js';
import { parseArgs, SeverityArg } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident sev <1|2|3|4>';

export const sev: Command = {
  name: 'sev',
  aliases: ['severity'],
  usage,
  summary: 'Change the severity (1 is the most severe).',
  async run(ctx, text) {
    const to = parseArgs(SeverityArg, text, usage);
    const id = await currentIncident(ctx);
    const rec = await changeSeverity(ctx.deps, id, to, slashOrigin(ctx));
    return { text: `${id} is now ${to}.`, duplicate: rec.duplicate, incidentId: id };
  },
};
