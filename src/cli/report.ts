import type { Command } from 'commander';
import { reportCsv, reportTable, SinceArg } from '../core/report.js';
import { reportSince } from '../flows/report.js';
import type { CliIo } from './diagnose.js';
import { openStore } from './store-access.js';

/**
 * Registers `report [--since 30d] [--json|--csv]`: the report across incidents closed in the window,
 * per severity and overall. Exit code 2 for a bad `--since` (usage error) or unusable settings.
 */
export function registerReport(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('report')
    .description(
      'time to acknowledge / identify / mitigate / resolve (median, p90) per severity, misleading paths',
    )
    .option('--since <span>', 'incidents closed in the last 12h, 30d, 2w…', '30d')
    .option('--json', 'print one JSON document')
    .option('--csv', 'print CSV (durations in seconds)')
    .action(async (opts: { since: string; json?: boolean; csv?: boolean }) => {
      const since = SinceArg.safeParse(opts.since);
      if (!since.success) {
        io.err(`incident-bot report: --since "${opts.since}": ${since.error.issues[0]?.message}\n`);
        io.err('usage: incident-bot report [--since 30d] [--json|--csv]\n');
        io.setExitCode(2);
        return;
      }
      if (opts.json && opts.csv) {
        io.err('incident-bot report: choose one of --json and --csv\n');
        io.setExitCode(2);
        return;
      }
      const s = openStore(env, io.now);
      try {
        const r = await reportSince(s.deps, since.data);
        io.out(
          opts.json ? `${JSON.stringify(r, null, 2)}\n` : opts.csv ? reportCsv(r) : `${reportTable(r)}\n`,
        );
      } finally {
        await s.close();
      }
    });
}
