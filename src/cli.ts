#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { registerDemo } from './cli/demo.js';
import { type CliIo, registerDiagnose } from './cli/diagnose.js';
import { registerDoctor } from './cli/doctor.js';
import { registerExport } from './cli/export.js';
import { registerPostmortem } from './cli/postmortem.js';
import { registerReport } from './cli/report.js';
import { registerSandbox } from './cli/sandbox.js';

/** Builds the `incident-bot` command line; each subcommand lives in `src/cli/<name>.ts` and registers itself here. */
export function buildCli(io: CliIo): Command {
  const program = new Command('incident-bot').description('ChatOps incident response: diagnostics and tools');
  program.exitOverride();
  registerDiagnose(program, io);
  registerDemo(program, io);
  registerSandbox(program, io);
  registerDoctor(program, io);
  registerPostmortem(program, io);
  registerReport(program, io);
  registerExport(program, io);
  return program;
}

const io: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  setExitCode: (c) => {
    process.exitCode = c;
  },
  now: () => new Date(),
};

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  buildCli(io)
    .parseAsync(process.argv)
    .catch((err: { exitCode?: number; code?: string; message?: string }) => {
      // commander already printed usage errors and --help; anything else is a bug worth a message.
      if (err.code?.startsWith('commander.')) process.exitCode = err.exitCode ?? 2;
      else {
        console.error(err);
        process.exitCode = 2;
      }
    });
}
