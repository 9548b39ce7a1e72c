import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { IncidentId } from '../core/incident-model.js';
import { postmortemView } from '../core/postmortem/index.js';
import { draftFacts } from '../flows/draft-postmortem.js';
import { checkedPostmortemRenderer } from '../process.js';
import { closeAllConnections, waitReady } from '../redis/connection.js';
import { createRuntime } from '../runtime.js';
import type { CliIo } from './diagnose.js';

/**
 * Registers `postmortem <INC-n> [--out <file>] [--stored]`: re-renders the incident's postmortem
 * draft from its timeline in Redis (same settings as the bot: REDIS_*, TEMPLATES_DIR), with the
 * display names of the last stored draft, or prints the stored draft as it was (`--stored`).
 * Needs neither Slack nor the worker's disk. Exit code: 0 written, 1 no such incident or draft, 2 bad input.
 */
export function registerPostmortem(program: Command, io: CliIo): void {
  program
    .command('postmortem')
    .description('re-render an incident’s postmortem draft from the store (Redis), e.g. after a restart')
    .argument('<incident>', 'incident id, e.g. INC-42')
    .option('--out <file>', 'write the draft to this file instead of standard output')
    .option('--stored', 'print the stored draft as last rendered by the worker, without re-rendering')
    .action(async (incident: string, opts: { out?: string; stored?: boolean }) => {
      const id = IncidentId.safeParse(incident.toUpperCase());
      if (!id.success) {
        io.err(`"${incident}" is not an incident id; write it like INC-42\n`);
        io.setExitCode(2);
        return;
      }
      const rt = createRuntime();
      try {
        // Producer connections fail fast while connecting: wait for the first connection.
        await waitReady(rt.redis, 5000);
        const stored = await rt.store.postmortemDraft(id.data);
        let markdown: string;
        if (opts.stored) {
          if (!stored) {
            io.err(
              `${id.data} has no stored draft yet; run without --stored to render one from its timeline\n`,
            );
            io.setExitCode(1);
            return;
          }
          markdown = stored.markdown;
        } else {
          const entries = await rt.store.entries(id.data);
          if (entries.length === 0) {
            io.err(`${id.data} does not exist in Redis under the prefix ${rt.config.REDIS_PREFIX}\n`);
            io.setExitCode(1);
            return;
          }
          const render = checkedPostmortemRenderer(rt.config.TEMPLATES_DIR);
          const view = postmortemView(draftFacts(entries), {
            now: io.now().toISOString(),
            people: stored?.people ?? {},
          });
          markdown = render(view);
        }
        if (opts.out) {
          await writeFile(opts.out, markdown, 'utf8');
          io.err(`${id.data}: postmortem draft written to ${opts.out}\n`);
        } else io.out(markdown);
      } finally {
        await rt.jobs.close();
        await closeAllConnections();
      }
    });
}
