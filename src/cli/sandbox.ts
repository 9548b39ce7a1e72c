import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { SlackClientSim, startSandbox } from '../sandbox/index.js';
import type { CliIo } from './diagnose.js';

const SECRET = 'sandbox-signing-secret-0123456789';

/**
 * Registers `sandbox`: runs the Slack sandbox on a port, prints the settings that point a bot at it,
 * and sends each line typed on stdin (`/incident …`) to the bot as a signed slash command from
 * @alice, printing the reply and the channel's new messages.
 */
export function registerSandbox(program: Command, io: CliIo): void {
  program
    .command('sandbox')
    .description('run the local Slack stand-in and type /incident commands to a running bot')
    .option('--port <n>', 'sandbox port', '3100')
    .option('--app-url <url>', "the bot's Slack endpoint", 'http://127.0.0.1:3000/slack/events')
    .option(
      '--hostile',
      'a workspace as real ones are: empty display names, a guest, a deactivated and an external responder, an archived #incidents',
    )
    .option(
      '--restrict-channels',
      'conversations.create answers restricted_action (admins limit channel creation)',
    )
    .option('--socket', 'reach the bot over Socket Mode (it sets SLACK_APP_TOKEN) instead of HTTP')
    .action(
      async (opts: {
        port: string;
        appUrl: string;
        hostile?: boolean;
        restrictChannels?: boolean;
        socket?: boolean;
      }) => {
        const sandbox = await startSandbox({ port: Number(opts.port), hostile: opts.hostile });
        sandbox.workspace.knobs.restrictChannelCreation = opts.restrictChannels ?? false;
        const alice = sandbox.addUser({ name: 'alice' }).id;
        const bob = sandbox.addUser({ name: 'bob' }).id;
        const general = sandbox.addChannel({ name: 'general', members: [alice, bob, sandbox.botUserId] }).id;
        const responders = [bob];
        let hostileSettings = '';
        if (opts.hostile) {
          responders.push(
            sandbox.addUser({ name: 'gus', realName: 'Gus Guest', guest: 'multi' }).id,
            sandbox.addUser({ name: 'dora', realName: 'Dora Departed', deactivated: true }).id,
            sandbox.addUser({ name: 'eve', realName: 'Eve Elsewhere', external: true }).id,
          );
          const announce = sandbox.addChannel({ name: 'incidents', members: [sandbox.botUserId] }).id;
          sandbox.archiveChannel(announce);
          hostileSettings = ` INCIDENT_ANNOUNCE_CHANNEL=${announce}`;
        }
        const transport = opts.socket ? 'socket' : 'http';
        if (transport === 'socket' && !sandbox.socketMode)
          throw new Error('Socket Mode needs the ws package (npm install)');
        const client = new SlackClientSim({ appUrl: opts.appUrl, signingSecret: SECRET, sandbox, transport });
        const auth =
          transport === 'socket'
            ? `SLACK_APP_TOKEN=${sandbox.socketMode!.appToken}`
            : `SLACK_SIGNING_SECRET=${SECRET}`;
        io.out(
          [
            `Slack sandbox on ${sandbox.url} (users @alice ${alice}, @bob ${bob}; channel #general ${general})`,
            'Start the bot against it in another terminal:',
            `  SLACK_API_URL=${sandbox.apiUrl} SLACK_BOT_TOKEN=${sandbox.botToken} ${auth} INCIDENT_RESPONDERS=${responders.join(',')}${hostileSettings} npm start`,
            ...(opts.hostile
              ? [
                  'Hostile: @gus is a guest, @dora deactivated, @eve external, #incidents archived, display names empty.',
                ]
              : []),
            ...(transport === 'socket' ? ['(Socket Mode: commands wait until the bot has connected.)'] : []),
            'Then type slash commands here as @alice, e.g. `/incident start sev2 Checkout latency`.',
            'They run in the newest incident channel once there is one; `:channel` prints it, `:quit` stops.',
            `The workspace, live in a browser: ${sandbox.url}/workspace`,
            '',
          ].join('\n'),
        );
        let channel = general;
        let seen = 0;
        const newest = () =>
          sandbox
            .channels()
            .filter((c) => c.name.startsWith('inc-'))
            .at(-1)?.id;
        const rl = createInterface({ input: process.stdin });
        for await (const raw of rl) {
          const line = raw.trim();
          if (!line) continue;
          if (line === ':quit') break;
          channel = newest() ?? channel;
          if (line === ':channel') {
            io.out(`${sandbox.renderChannel(channel)}\n`);
            continue;
          }
          const m = /^\/incident\b\s*(.*)$/.exec(line);
          if (!m) {
            io.err('type `/incident <subcommand>`, `:channel` or `:quit`\n');
            continue;
          }
          try {
            const res = await client.slashCommand({ text: m[1], userId: alice, channelId: channel });
            const text = (res.body as { text?: string } | null)?.text;
            io.out(`[${res.status}] ${text ?? '(acknowledged)'}\n`);
          } catch (err) {
            io.err(`could not reach the bot at ${opts.appUrl}: ${(err as Error).message}\n`);
          }
          const msgs = sandbox.messages(channel);
          for (const msg of msgs.slice(seen)) io.out(`  #${sandbox.channel(channel)?.name}: ${msg.text}\n`);
          seen = msgs.length;
        }
        rl.close();
        await sandbox.close();
      },
    );
}
