import { ConfigError } from './config.js';
import { TemplateError } from './postmortem/render.js';
import { startBot } from './process.js';
import { onSignals } from './shutdown.js';

/** `npm start`: web and worker in one process, for small setups. */
try {
  const bot = await startBot();
  onSignals(() => bot.closers, bot.rt.log);
} catch (err) {
  if (!(err instanceof ConfigError || err instanceof TemplateError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(78);
}
