// The ack-latency baseline: a Bolt app with the same HTTPReceiver settings as incident-bot's web
// process, mounted the same way on a plain node:http server, whose /incident handler only acks.
import { createServer } from 'node:http';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';

const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET!,
  endpoints: '/slack/events',
  processBeforeResponse: false,
  logLevel: LogLevel.ERROR,
  unhandledRequestTimeoutMillis: 2500,
  bodyLimit: 256 * 1024,
});
const app = new App({
  token: process.env.SLACK_BOT_TOKEN!,
  receiver,
  logLevel: LogLevel.ERROR,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL! },
});
app.command('/incident', async ({ ack }) => {
  await ack({ response_type: 'ephemeral', text: 'ok' });
});
const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/slack/events') receiver.requestListener(req, res);
  else res.writeHead(404).end();
});
server.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => server.close(() => process.exit(0)));
