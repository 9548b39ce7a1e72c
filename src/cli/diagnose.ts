import type { Command } from 'commander';
import { loadDiagnosticsConfig } from '../diagnostics/config.js';
import { formatChecklistText, toJsonReport } from '../diagnostics/report.js';
import { runDiagnostics } from '../diagnostics/run.js';

/** Where a subcommand writes; `cli.ts` passes process streams, tests pass buffers. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
  now(): Date;
}

function parseDate(value: string, flag: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    throw new Error(`${flag} "${value}" is not an ISO date-time (e.g. 2024-03-10T13:45:00Z)`);
  return d;
}

/**
 * Registers `diagnose --config <file> [--since <ISO>] [--until <ISO>] [--only <ids>] [--json]`.
 * Exit code: 0 all clear, 1 a check failed, 2 unusable input (bad dates, no checks to run).
 */
export function registerDiagnose(program: Command, io: CliIo): void {
  program
    .command('diagnose')
    .description(
      'run the load-balancer checklist (pool health, distribution, routing, changes) and rule out red herrings',
    )
    .requiredOption('--config <file>', 'targets file (YAML)')
    .option('--since <iso>', 'window start (default: 15 minutes ago)')
    .option('--until <iso>', 'window end (default: now)')
    .option('--only <ids>', 'comma-separated check ids or check:target refs')
    .option('--json', 'print one JSON document instead of the checklist')
    .action(
      async (opts: { config: string; since?: string; until?: string; only?: string; json?: boolean }) => {
        let from: Date;
        let to: Date;
        try {
          to = opts.until ? parseDate(opts.until, '--until') : io.now();
          from = opts.since ? parseDate(opts.since, '--since') : new Date(to.getTime() - 15 * 60_000);
          if (from >= to) throw new Error('--since must be before --until');
        } catch (err) {
          io.err(`${(err as Error).message}\n`);
          io.setExitCode(2);
          return;
        }
        const { config, problems } = await loadDiagnosticsConfig(opts.config);
        const only = opts.only
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const { results } = await runDiagnostics(config, { from, to, only, now: io.now() });
        if (opts.json) io.out(`${JSON.stringify(toJsonReport(results, { from, to }, problems), null, 2)}\n`);
        else {
          for (const p of problems) io.err(`config: ${p}\n`);
          io.out(formatChecklistText(results, { from, to }));
        }
        if (results.length === 0) {
          if (!opts.json) io.err('nothing to check: the targets file has no usable load balancer or probe\n');
          io.setExitCode(2);
        } else if (results.some((r) => r.verdict === 'fail')) io.setExitCode(1);
      },
    );
}
