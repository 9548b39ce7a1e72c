import { ConfigError } from './config.js';
import { TemplateError } from './postmortem/render.js';
import { startBot } from './process.js';
import { onSignals } from './shutdown.js';

/** Procfile `worker`: the BullMQ workers (channel setup, delivery, alerts, diagnostics, postmortems, reminders). */
try {
  const bot = await startBot({ web: false });
  onSignals(() => bot.closers, bot.rt.log);
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof TemplateError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(78);
}
