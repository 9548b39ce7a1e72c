import { z } from 'zod';
import { CHECK_IDS } from '../src/core/check-ids.js';
import { DomainError } from '../src/core/errors.js';
import { isOpen } from '../src/core/incident.js';
import { diagnosticsSetup, matchingRefs } from '../src/diagnostics/setup.js';
import { nextRun } from '../src/flows/run-diagnostics.js';
import { escapeText } from '../src/slack/escape.js';
import { currentIncident } from './context.js';
import { parseArgs } from './parse.js';
import type { Command } from './types.js';

const usage = `/incident diagnose [check[:target]]  (checks: ${CHECK_IDS.join(', ')})`;

/** `diagnose` text: nothing (every check), a check id, or `check:target` (one load balancer or probe). */
export const DiagnoseArgs = z
  .string()
  .trim()
  .transform((t): { check?: string; target?: string } => {
    if (!t) return {};
    const [check, ...rest] = t.split(':');
    return { check: check!.toLowerCase(), target: rest.length ? rest.join(':').trim() : undefined };
  })
  .pipe(
    z.object({
      check: z
        .enum(CHECK_IDS, { error: () => `unknown check; pick one of ${CHECK_IDS.join(', ')}` })
        .optional(),
      target: z.string().min(1, 'name a target after the colon, e.g. traffic-distribution:edge').optional(),
    }),
  );

export const diagnose: Command = {
  name: 'diagnose',
  aliases: ['diagnostics', 'checks'],
  usage,
  summary: 'Re-run the checklist’s checks (or one of them); the checklist message updates in place.',
  async run(ctx, text) {
    const args = parseArgs(DiagnoseArgs, text, usage);
    const id = await currentIncident(ctx);
    const loaded = await ctx.deps.store.load(id);
    if (!loaded || !isOpen(loaded.incident))
      throw new DomainError('INCIDENT_CLOSED', `${id} is closed`, 'Its checks are on the timeline.');
    const setup = await diagnosticsSetup(ctx.deps);
    if (!setup.config)
      throw new DomainError(
        'BAD_INPUT',
        'No checks to run: DIAGNOSTICS_CONFIG is not set',
        'Point it at a targets YAML file (load balancers, probes) and restart the bot; see README, "Diagnostics".',
      );
    const only = args.check ? [args.target ? `${args.check}:${args.target}` : args.check] : undefined;
    if (only && matchingRefs(setup, only).length === 0)
      throw new DomainError(
        'BAD_INPUT',
        `${escapeText(setup.configPath ?? '')} gives \`${escapeText(only[0]!)}\` nothing to check`,
        `Configured: ${setup.refs.map((r) => `${r.checkId}:${r.target}`).join(', ') || 'none (see the problems at the top of the checklist)'}.`,
      );
    // One run per slash command, however often Slack retries it.
    if (ctx.claimKey && !(await ctx.deps.store.claim(`diagnose-${ctx.claimKey}`, 86_400, id)))
      return { text: '', duplicate: true, incidentId: id };
    const run = await nextRun(ctx.deps, id);
    await ctx.deps.jobs.enqueue(
      'run-diagnostics',
      { incidentId: id, only, requestedBy: ctx.userId, run },
      { jobId: `diagnostics-${id}-${run}` },
    );
    const what = args.check ? `\`${args.check}${args.target ? `:${args.target}` : ''}\`` : 'every check';
    return {
      text: `:arrows_counterclockwise: Re-running ${what} on ${id} (run ${run}); the checklist message updates in place and each result goes on the timeline.`,
      incidentId: id,
    };
  },
};
