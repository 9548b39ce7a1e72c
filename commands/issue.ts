import { z } from 'zod';
import { DomainError } from '../src/core/errors.js';
import { requestFollowupIssue } from '../src/flows/followup-issue.js';
import { currentIncident } from './context.js';
import { parseArgs } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident issue <F1>';
const FollowupArg = z
  .string()
  .trim()
  .regex(/^[Ff]\d+$/, 'name a follow-up by its id, e.g. F1 (see the postmortem draft or /incident timeline)')
  .transform((s) => s.toUpperCase());

export const issue: Command = {
  name: 'issue',
  usage,
  summary: 'Create the tracker issue of a follow-up (or try again after GitHub/Jira refused it).',
  async run(ctx, text) {
    const fid = parseArgs(FollowupArg, text, usage);
    const id = await currentIncident(ctx);
    const inc = await ctx.deps.store.current(id);
    const f = inc?.followups.find((x) => x.id === fid);
    if (!f) {
      throw new DomainError(
        'BAD_INPUT',
        `${id} has no follow-up ${fid}`,
        'Add one with `/incident followup <task> [@owner]`.',
      );
    }
    if (f.issue) return { text: `${fid} is already tracked as ${f.issue.url}.`, incidentId: id };
    await requestFollowupIssue(ctx.deps, id, fid, ctx.claimKey ?? `slash-${Date.now()}`, ctx.userId);
    return { text: `Creating the issue of ${fid}; the link will be posted here.`, incidentId: id };
  },
};
