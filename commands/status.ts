import { z } from 'zod';
import { changeStatus } from '../src/flows/change-status.js';
import { currentIncident, slashOrigin } from './context.js';
import { parseArgs } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident status <investigating|identified|monitoring|resolved>';
const StatusArg = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(
    z.enum(['investigating', 'identified', 'monitoring', 'resolved'], {
      error:
        'status must be investigating, identified, monitoring or resolved (use `/incident close` to close)',
    }),
  );

export const status: Command = {
  name: 'status',
  usage,
  summary: 'Change the status (investigating → identified → monitoring → resolved).',
  async run(ctx, text) {
    const to = parseArgs(StatusArg, text, usage);
    const id = await currentIncident(ctx);
    const rec = await changeStatus(ctx.deps, id, to, slashOrigin(ctx));
    return { text: `${id} is now ${to}.`, duplicate: rec.duplicate, incidentId: id };
  },
};
