import { IncidentId } from '../src/core/incident-model.js';
import { declineIncident, mergeIncident } from '../src/flows/merge.js';
import { currentIncident, slashOrigin } from './context.js';
import { parseArgs } from './parse.js';
import type { Command } from './types.js';

const mergeUsage = '/incident merge INC-<n>';

export const merge: Command = {
  name: 'merge',
  usage: mergeUsage,
  summary:
    'Merge another incident into this one: its alerts come here, it closes with no postmortem of its own.',
  async run(ctx, text) {
    // `inc-7` and `7` are what people type too.
    const raw = text.trim().toUpperCase();
    const other = parseArgs(IncidentId, /^\d+$/.test(raw) ? `INC-${raw}` : raw, mergeUsage);
    const id = await currentIncident(ctx);
    const m = await mergeIncident(ctx.deps, id, other, slashOrigin(ctx));
    const groups = m.alertGroupIds.length;
    return {
      text: m.already
        ? `${other} was already merged into ${id}.`
        : `${other} merged into ${id}: ${groups} alert group${groups === 1 ? '' : 's'} now feed${groups === 1 ? 's' : ''} this incident, and ${other} is closed (its timeline is linked from this postmortem).`,
      incidentId: id,
    };
  },
};

export const decline: Command = {
  name: 'decline',
  usage: '/incident decline [reason]',
  summary: 'Close a false alarm without a postmortem (counted as declined in reports).',
  async run(ctx, text) {
    const id = await currentIncident(ctx);
    const reason = text.trim().slice(0, 3000) || undefined;
    const rec = await declineIncident(ctx.deps, id, reason, slashOrigin(ctx));
    return {
      text: `${id} declined as a false alarm; no postmortem will be drafted.`,
      duplicate: rec.duplicate,
      incidentId: id,
    };
  },
};
