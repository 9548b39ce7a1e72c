import { type Config, loadConfig } from './config.js';
import type { Checkpoint } from './core/checkpoints.js';
import type { Deps } from './flows/deps.js';
import { Jobs } from './jobs/queues.js';
import { createLogger, type Logger } from './logger.js';
import { createRedis, type RedisClient } from './redis/connection.js';
import { RedisStore } from './redis/store.js';

/** The shared pieces of a web or worker process: config, logger, producer Redis, store, job producer. */
export interface Runtime {
  config: Config;
  log: Logger;
  redis: RedisClient;
  store: RedisStore;
  jobs: Jobs;
  deps: Deps;
}

/** The checkpoint hook: kills this process with SIGKILL at the named steps (fault-injection tests), else nothing. */
function crashAt(steps: Checkpoint[]): (step: Checkpoint) => void {
  if (steps.length === 0) return () => {};
  return (step) => {
    if (steps.includes(step)) process.kill(process.pid, 'SIGKILL');
  };
}

/** Builds the runtime from the environment (throws ConfigError naming bad variables). */
export function createRuntime(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Config> = {},
): Runtime {
  const config = { ...loadConfig(env), ...overrides };
  const log = createLogger(config.LOG_LEVEL);
  const redis = createRedis(config, 'producer', { protocol: config.REDIS_PROTOCOL });
  const checkpoint = crashAt(config.FAULT_CRASH_AT);
  const store = new RedisStore(redis, config.REDIS_PREFIX, checkpoint);
  const jobs = new Jobs(redis, store.bullPrefix, log);
  const deps: Deps = { config, store, jobs, log, now: () => new Date(), checkpoint };
  return { config, log, redis, store, jobs, deps };
}
