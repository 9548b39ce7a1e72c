import type { Command } from 'commander';
import { runDemo } from '../demo/run-demo.js';
import type { CliIo } from './diagnose.js';

/** Registers `demo`: replays the seeds' incident through the real bot and prints the channel, the timeline and the draft's path. */
export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description('replay a load-balancer incident through the real bot against the local Slack sandbox')
    .option('--postmortem', 'also print the postmortem draft')
    .action(async (opts: { postmortem?: boolean }) => {
      try {
        const r = await runDemo((line) => io.err(`· ${line}\n`));
        io.out(`\n=== Incident channel (Slack sandbox transcript) ===\n${r.transcript}\n`);
        io.out(`\n=== Timeline (${r.timeline.length} entries) ===\n${r.timeline.join('\n')}\n`);
        if (opts.postmortem) io.out(`\n=== Postmortem draft ===\n${r.postmortem}\n`);
        io.out(`\nPostmortem draft: ${r.postmortemPath}\nDemo took ${r.seconds.toFixed(1)} s\n`);
      } catch (err) {
        io.err(`demo failed: ${(err as Error).message}\n`);
        io.setExitCode(1);
      }
    });
}
