import { timelineLine } from '../src/slack/render.js';
import { currentIncident } from './context.js';
import type { Command } from './types.js';

const SHOWN = 25;

export const timeline: Command = {
  name: 'timeline',
  usage: '/incident timeline',
  summary: `Show the last ${SHOWN} timeline entries (only to you).`,
  async run(ctx) {
    const id = await currentIncident(ctx);
    const entries = await ctx.deps.store.entries(id);
    const shown = entries.slice(-SHOWN);
    const head = `*${id} timeline* (${entries.length} entries${entries.length > SHOWN ? `, last ${SHOWN} shown` : ''}, times UTC)`;
    let text = [head, ...shown.map(timelineLine)].join('\n');
    if (text.length > 3900) text = `${text.slice(0, 3900)}\n…`;
    return { text, responseType: 'ephemeral', incidentId: id };
  },
};
