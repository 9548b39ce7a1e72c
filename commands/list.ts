import { CLOSED_SHOWN, listIncidents } from '../src/flows/list-incidents.js';
import { incidentListText } from '../src/slack/incident-list-render.js';
import { type Command, UsageError } from './types.js';

const usage = '/incident list [--all]';

export const list: Command = {
  name: 'list',
  usage,
  summary: `List open incidents (only to you); \`--all\` adds the last ${CLOSED_SHOWN} closed.`,
  async run(ctx, text) {
    const arg = text.trim();
    if (arg !== '' && arg !== '--all')
      throw new UsageError(`unknown option \`${arg.slice(0, 40).replace(/[<>&`]/g, '')}\``, usage);
    const all = arg === '--all';
    const lists = await listIncidents(ctx.deps, ctx.userId, all ? CLOSED_SHOWN : 0);
    return { text: incidentListText(lists, all), responseType: 'ephemeral' };
  },
};
