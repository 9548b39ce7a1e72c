import { configuredTracker, requestFollowupIssue } from '../src/flows/followup-issue.js';
import { currentIncident, recordFromSlash as record } from './context.js';
import { FreeText, parseArgs, UserMention } from './parse.js';
import type { Command } from './types.js';

export const impact: Command = {
  name: 'impact',
  usage: '/incident impact <who or what is affected, and how much>',
  summary: 'Record the impact (goes into the postmortem summary).',
  async run(ctx, text) {
    const body = parseArgs(FreeText, text, this.usage);
    const { id, rec } = await record(ctx, (_inc, b) => ({ kind: 'impact_set', ...b, text: body }));
    return { text: `Impact recorded on ${id}.`, duplicate: rec.duplicate, incidentId: id };
  },
};

export const rootcause: Command = {
  name: 'rootcause',
  aliases: ['root-cause'],
  usage: '/incident rootcause <text>',
  summary: 'Record the root cause (or confirm a hypothesis).',
  async run(ctx, text) {
    const body = parseArgs(FreeText, text, this.usage);
    const { id, rec } = await record(ctx, (_inc, b) => ({ kind: 'root_cause_set', ...b, text: body }));
    return { text: `Root cause recorded on ${id}.`, duplicate: rec.duplicate, incidentId: id };
  },
};

/** Splits `followup <text> [<@owner>]`: a trailing mention is the owner. */
export function parseFollowup(text: string): { text: string; owner?: string } {
  const m = /^([\s\S]*?)\s*(<@[UW][A-Z0-9]+(?:\|[^>]*)?>)\s*$/.exec(text.trim());
  if (m?.[1]) return { text: m[1], owner: UserMention.parse(m[2]) };
  return { text: text.trim() };
}

export const followup: Command = {
  name: 'followup',
  aliases: ['follow-up', 'action'],
  usage: '/incident followup <task> [@owner]',
  summary: 'Add a follow-up task (with an owner) for the postmortem.',
  async run(ctx, text) {
    const f = parseFollowup(text);
    const body = parseArgs(FreeText, f.text, this.usage);
    const { id, rec } = await record(ctx, (inc, b) => ({
      kind: 'followup_added',
      ...b,
      followupId: `F${inc.followups.length + 1}`,
      text: body,
      owner: f.owner,
    }));
    // Issue 14: with a tracker configured, the follow-up also becomes an issue (once; see followup-issue.ts).
    const added = rec.incident.followups.findLast((x) => x.text === body && x.owner === f.owner);
    const tracker = configuredTracker(ctx.deps);
    if (!tracker || !added) {
      return { text: `Follow-up added to ${id}.`, duplicate: rec.duplicate, incidentId: id };
    }
    await requestFollowupIssue(ctx.deps, id, added.id, 'auto', ctx.userId);
    return {
      text: `Follow-up ${added.id} added to ${id}; creating its ${tracker === 'github' ? 'GitHub' : 'Jira'} issue (the link will be posted here).`,
      duplicate: rec.duplicate,
      incidentId: id,
    };
  },
};

export const postmortem: Command = {
  name: 'postmortem',
  aliases: ['pm'],
  usage: '/incident postmortem',
  summary: 'Re-render the postmortem draft from the timeline now (also works after close).',
  async run(ctx) {
    const id = await currentIncident(ctx);
    await ctx.deps.jobs.enqueue(
      'draft-postmortem',
      { incidentId: id, requestedBy: ctx.userId },
      { jobId: `postmortem-${id}-${ctx.claimKey ?? Date.now()}`.replace(/:/g, '-') },
    );
    return {
      text: `Rendering the postmortem draft of ${id}; it will be posted here as a file${ctx.deps.config.POSTMORTEM_GIT_REPO ? ' and committed to the postmortems repository' : ''}.`,
      incidentId: id,
    };
  },
};
