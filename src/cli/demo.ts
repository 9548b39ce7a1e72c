import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { type DemoResult, runDemo } from '../demo/run-demo.js';
import { DEFAULT_SEED, SEEDS } from '../demo/seeds.js';
import type { CliIo } from './diagnose.js';

/**
 * Registers `demo [--seed <id> | --all] [--postmortem]`: replays seed postmortems through the real bot
 * on a virtual clock and prints the channel, the timeline, the draft's path, and one line per seed:
 * when the seed's team found the cause and when the checklist showed it. Exit code 1 when a replay fails.
 */
export function registerDemo(program: Command, io: CliIo): void {
  program
    .command('demo')
    .description(
      'replay the seed incidents through the real bot against the local Slack sandbox, at their own pace',
    )
    .option(
      '--seed <id>',
      `replay one seed postmortem: ${SEEDS.map((s) => s.id).join(', ')} (default ${DEFAULT_SEED})`,
    )
    .option('--all', 'replay all five seeds, one after the other')
    .option('--postmortem', 'also print the postmortem drafts')
    .option(
      '--open',
      'serve a live web page of the Slack sandbox (and open it in a browser when there is one); keeps it up at the end until Ctrl-C',
    )
    .action(async (opts: { seed?: string; all?: boolean; postmortem?: boolean; open?: boolean }) => {
      const ids = opts.all ? SEEDS.map((s) => s.id) : [opts.seed ?? DEFAULT_SEED];
      const t0 = Date.now();
      const results: DemoResult[] = [];
      try {
        for (const seed of ids) {
          const last = seed === ids.at(-1);
          const r = await runDemo({
            seed,
            log: (line) => io.err(`· ${line}\n`),
            ...(opts.open
              ? {
                  onSandbox: (sandbox) => {
                    const url = `${sandbox.url}/workspace`;
                    io.err(`· the Slack sandbox, live: ${url}\n`);
                    openBrowser(url);
                  },
                  beforeClose: last
                    ? async (sandbox) => {
                        io.err(`· the page stays up at ${sandbox.url}/workspace; press Ctrl-C to stop\n`);
                        await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
                      }
                    : undefined,
                }
              : {}),
          });
          results.push(r);
          if (!opts.all) {
            io.out(`\n=== Incident channel (Slack sandbox transcript) ===\n${r.transcript}\n`);
            io.out(`\n=== Timeline (${r.timeline.length} entries) ===\n${r.timeline.join('\n')}\n`);
          }
          if (opts.postmortem) io.out(`\n=== Postmortem draft, seed ${r.seed.id} ===\n${r.postmortem}\n`);
          io.out(
            `\nSeed ${r.seed.id} (${r.seed.title}): draft ${r.postmortemPath} (${r.seconds.toFixed(1)} s)\n`,
          );
        }
      } catch (err) {
        io.err(`demo failed: ${(err as Error).message}\n`);
        io.setExitCode(1);
      }
      if (results.length > 0) {
        io.out('\n=== When the cause was found ===\n');
        for (const r of results) io.out(`${r.summaryLine}\n`);
        io.out(`Demo took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      }
    });
}

/** Opens `url` in the desktop's browser when there is one (xdg-open, open); otherwise the printed URL is enough. */
function openBrowser(url: string): void {
  const cmd =
    process.platform === 'darwin'
      ? 'open'
      : process.env.DISPLAY || process.env.WAYLAND_DISPLAY
        ? 'xdg-open'
        : undefined;
  if (!cmd) return;
  const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
  child.on('error', () => {});
  child.unref();
}
