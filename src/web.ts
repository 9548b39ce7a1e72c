import { ConfigError } from './config.js';
import { TemplateError } from './postmortem/render.js';
import { startBot } from './process.js';
import { onSignals } from './shutdown.js';

/** Procfile `web`: Slack requests, alert webhooks, /healthz and /metrics. */
try {
  const bot = await startBot({ worker: false });
  onSignals(() => bot.closers, bot.rt.log);
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof TemplateError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(78);
}
