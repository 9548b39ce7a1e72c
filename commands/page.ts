import { requestPage } from '../src/flows/page.js';
import { currentIncident } from './context.js';
import { FreeText, parseArgs } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident page <service>';

export const page: Command = {
  name: 'page',
  usage,
  summary: 'Page a service on PagerDuty (resolving the incident resolves the page).',
  async run(ctx, text) {
    const service = parseArgs(FreeText.max(100).regex(/^\S+$/, 'one service name'), text, usage);
    const id = await currentIncident(ctx);
    const r = await requestPage(ctx.deps, id, service, { requestedBy: ctx.userId });
    if (!r.queued) {
      return {
        text: `${service} is already paged for ${id} (since ${r.already!.slice(11, 16)} UTC).`,
        incidentId: id,
      };
    }
    return {
      text: `Paging ${service} on PagerDuty for ${id}; the bot confirms here once PagerDuty accepts it.`,
      incidentId: id,
    };
  },
};
