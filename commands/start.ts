import { z } from 'zod';
import { declareIncident } from '../src/flows/declare.js';
import { FreeText, parseArgs, SeverityArg } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident start [--private] [sev1|sev2|sev3|sev4] <title>  (no text opens a form)';

/** Parses `start` text: an optional `--private` (before or after the severity), an optional severity, then the title. */
export const StartArgs = z
  .string()
  .trim()
  .transform((t) => {
    // Slack may turn `--` into an em or en dash in some clients; accept those too.
    const flag = /(^|\s)(?:--|—|–)private(?=\s|$)/i;
    const isPrivate = flag.test(t);
    const rest = t.replace(flag, ' ').trim();
    const m = /^(sev[1-4])\b\s*([\s\S]*)$/i.exec(rest);
    const [severity, title] = m ? [m[1], m[2]!.replace(flag, ' ').trim()] : ['SEV3', rest];
    return { severity, title, private: isPrivate };
  })
  .pipe(
    z.object({
      severity: SeverityArg,
      title: FreeText.max(150, 'keep the title under 150 characters'),
      private: z.boolean(),
    }),
  );

export const start: Command = {
  name: 'start',
  aliases: ['declare', 'new'],
  usage,
  summary: 'Declare an incident: opens its channel, invites responders, pins a live summary.',
  async run(ctx, text) {
    if (!text.trim()) return { text: '', openModal: 'start-incident' };
    const args = parseArgs(StartArgs, text, usage);
    const res = await declareIncident(ctx.deps, {
      title: args.title,
      severity: args.severity,
      actor: { type: 'user', id: ctx.userId },
      source: 'slash',
      claimKey: ctx.claimKey ? `declare-${ctx.claimKey}` : undefined,
      ...(args.private ? { private: true } : {}),
    });
    if (!res.created) return { text: '', duplicate: true, incidentId: res.id };
    return {
      text: declaredReply(res.id, args.severity, args.private),
      responseType: 'ephemeral',
      incidentId: res.id,
    };
  },
};

/** What the person who declared an incident is told: its id, severity, and that its channel is coming. */
export function declaredReply(id: string, severity: string, isPrivate: boolean): string {
  return `:rotating_light: ${id} (${severity}) declared${isPrivate ? ' as a private incident' : ''}. Its ${isPrivate ? 'private ' : ''}channel is being created and you will be invited.`;
}
