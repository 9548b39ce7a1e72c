import type { Command } from 'commander';
import { formatDoctor, runDoctor } from '../doctor/doctor.js';
import type { CliIo } from './diagnose.js';

/**
 * Registers `doctor [--json] [--manifest <file>]`: checks the setup in the environment (settings, Slack
 * token and scopes, channels, people, Redis, templates, diagnostics targets) and prints a checklist
 * with a fix per problem. Exit code 0 only when nothing is wrong, else 1.
 */
export function registerDoctor(program: Command, io: CliIo, env: NodeJS.ProcessEnv = process.env): void {
  program
    .command('doctor')
    .description(
      'check this setup (settings, Slack token and scopes, channels, people, Redis, templates, diagnostics targets)',
    )
    .option('--json', 'print the items as JSON')
    .option(
      '--manifest <file>',
      'the Slack app manifest whose scopes the token must have (default: manifest.yml)',
    )
    .action(async (opts: { json?: boolean; manifest?: string }) => {
      const items = await runDoctor({ env, ...(opts.manifest ? { manifestPath: opts.manifest } : {}) });
      io.out(opts.json ? `${JSON.stringify({ items }, null, 2)}\n` : formatDoctor(items));
      io.setExitCode(items.some((i) => i.status === 'problem') ? 1 : 0);
    });
}
