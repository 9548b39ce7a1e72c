import { loadConfig } from '../config.js';
import type { Deps } from '../flows/deps.js';
import { createLogger } from '../logger.js';
import { createRedis } from '../redis/connection.js';
import { RedisStore } from '../redis/store.js';

/**
 * Opens the bot's store for a CLI command from the same environment the bot runs with (REDIS_*
 * settings); the Slack settings are not needed for reading Redis, so placeholders stand in when they
 * are unset (the CLI never calls Slack). Throws ConfigError naming bad variables. Call `close()`.
 */
export function openStore(env: NodeJS.ProcessEnv, now: () => Date): { deps: Deps; close(): Promise<void> } {
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-cli-does-not-call-slack',
    SLACK_SIGNING_SECRET: 'cli-does-not-call-slack',
    LOG_LEVEL: 'warn',
    ...env,
  });
  const log = createLogger(config.LOG_LEVEL);
  const redis = createRedis(config, 'worker', { protocol: config.REDIS_PROTOCOL });
  const store = new RedisStore(redis, config.REDIS_PREFIX);
  const deps: Deps = {
    config,
    store,
    log,
    now,
    checkpoint: () => {},
    jobs: {
      enqueue: async () => {
        throw new Error('the CLI queues no jobs');
      },
      remove: async () => {},
      exists: async () => false,
    },
  };
  return {
    deps,
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
