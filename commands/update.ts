import { parseSeverityMinutes } from '../src/config.js';
import { recordFromSlash } from './context.js';
import { FreeText, parseArgs } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident update <what changed and what happens next>';

/**
 * `/incident update <text>` (issue 14): a structured stakeholder update — status, severity, impact,
 * the text and when the next update is due (REMINDER_MINUTES for the severity) — recorded on the
 * timeline and posted to the incident channel and the announce channel. It counts as a status
 * update for the reminder cadence.
 */
export const update: Command = {
  name: 'update',
  usage,
  summary: 'Post a status update for stakeholders (here and in the announce channel).',
  async run(ctx, text) {
    const body = parseArgs(FreeText, text, usage);
    const minutes = parseSeverityMinutes('REMINDER_MINUTES', ctx.deps.config.REMINDER_MINUTES);
    const { id, rec } = await recordFromSlash(ctx, (inc, b) => {
      const every = minutes[inc.severity];
      return {
        kind: 'stakeholder_update',
        ...b,
        text: body,
        status: inc.status,
        severity: inc.severity,
        ...(inc.impact ? { impact: inc.impact } : {}),
        ...(every > 0 ? { nextUpdateDue: new Date(Date.parse(b.at) + every * 60_000).toISOString() } : {}),
      };
    });
    const where = ctx.deps.config.INCIDENT_ANNOUNCE_CHANNEL
      ? 'this channel and the announce channel'
      : 'this channel';
    return {
      text: `Status update on ${id} recorded; posting it to ${where}.`,
      duplicate: rec.duplicate,
      incidentId: id,
    };
  },
};
