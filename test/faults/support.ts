import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { IncidentId } from '../../src/core/incident-model.js';
import { RedisStore } from '../../src/redis/store.js';
import { type Sandbox, SlackClientSim, startSandbox } from '../../src/sandbox/index.js';
import { type Child, freePort, spawnNode, until, waitHttp } from '../bench/common.js';
import { unlimited } from '../bench/sandbox-limits.js';
import { assertConforms } from '../support/conformance.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

export { until };
export const SIGNING_SECRET = 'faults-signing-secret-0123456789';

/** A redis-server of the test's own (AOF on, appendfsync always) on a free port; never the machine's 6379. */
export interface OwnRedis {
  url: string;
  port: number;
  /** SIGTERM (Redis flushes the AOF and exits), then start again on the same port and directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `redis-server --appendonly yes` in a temporary directory and waits until it answers PING. */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'ib-faults-redis-'));
  let proc: ChildProcess;
  const start = async () => {
    proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--dir',
        dir,
      ],
      { stdio: 'ignore' },
    );
    const r = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    await until('own redis-server to answer PING', async () => {
      try {
        await r.connect();
      } catch {
        // connect again on the next try
      }
      return (await r.ping()) === 'PONG';
    });
    r.disconnect();
  };
  const exit = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart() {
      await exit();
      await start();
    },
    async stop() {
      await exit();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Sandbox + spawned web and worker processes (`node --import tsx src/web.ts|worker.ts`) on one Redis prefix. */
export interface Stack {
  sandbox: Sandbox;
  client: SlackClientSim;
  env: NodeJS.ProcessEnv;
  prefix: string;
  redis: Redis;
  web: Child;
  webUrl: string;
  workers: Child[];
  users: { alice: string; bob: string };
  general: string;
  startWorker(): Promise<Child>;
  close(): Promise<void>;
}

/** Starts the stack; `rateLimits: 'raised'` lifts every sandbox limit (when a test is not about them). */
export async function startStack(
  name: string,
  opts: {
    redisUrl?: string;
    env?: NodeJS.ProcessEnv;
    rateLimits?: 'slack' | 'raised';
    workers?: number;
  } = {},
): Promise<Stack> {
  const sandbox = await startSandbox({
    port: 0,
    ...(opts.rateLimits === 'raised' ? { rateLimits: unlimited() } : {}),
  });
  const alice = sandbox.addUser({ name: 'alice' }).id;
  const bob = sandbox.addUser({ name: 'bob' }).id;
  const general = sandbox.addChannel({ name: 'general', members: [alice, bob] }).id;
  const prefix = testPrefix(name);
  const redisUrl = opts.redisUrl ?? TEST_REDIS_URL;
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    SLACK_BOT_TOKEN: sandbox.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: sandbox.apiUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    POSTMORTEM_DIR: mkdtempSync(join(tmpdir(), 'ib-faults-pm-')),
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    // A killed worker's jobs come back once their lock expires: 5 s instead of 30 s keeps the suite short.
    JOB_LOCK_SECONDS: '5',
    ...opts.env,
  };
  const web = spawnNode('src/web.ts', { ...env, PORT: String(port) });
  const webUrl = `http://127.0.0.1:${port}`;
  await waitHttp(`${webUrl}/healthz`, web);
  const workers: Child[] = [];
  const startWorker = async () => {
    const w = spawnNode('src/worker.ts', { ...env, PORT: '0' });
    workers.push(w);
    return w;
  };
  for (let i = 0; i < (opts.workers ?? 1); i++) await startWorker();
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const client = new SlackClientSim({
    appUrl: `${webUrl}/slack/events`,
    signingSecret: SIGNING_SECRET,
    sandbox,
  });
  return {
    sandbox,
    client,
    env,
    prefix,
    redis,
    web,
    webUrl,
    workers,
    users: { alice, bob },
    general,
    startWorker,
    async close() {
      for (const c of [web, ...workers]) await c.stop();
      await sandbox.close();
      redis.disconnect();
      if (!opts.redisUrl) await cleanPrefix(prefix);
      // Every Web API call the bot's processes made, checked against Slack's published spec.
      assertConforms(sandbox.transcript, 'fault suite');
    },
  };
}

/** Declares an incident with `/incident start` and waits for its channel and pinned summary; returns the channel id. */
export async function declare(s: Stack, title: string): Promise<{ id: string; channel: string }> {
  const r = await s.client.slashCommand({
    text: `start sev3 ${title}`,
    userId: s.users.alice,
    channelId: s.general,
  });
  const id = /INC-\d+/.exec(JSON.stringify(r.body))?.[0];
  if (r.status !== 200 || !id) throw new Error(`start answered ${r.status}: ${JSON.stringify(r.body)}`);
  const channel = await until(
    `${id}'s channel and pinned summary`,
    () => s.sandbox.channels().find((c) => c.name.includes(`-${id.slice(4)}-`) && c.pins.length > 0)?.id,
    60_000,
  );
  return { id, channel };
}

/** Timeline entries of an incident, read through the store (the processes under test are children). */
export async function timeline(s: Stack, id: string): Promise<Record<string, unknown>[]> {
  return (await storeOf(s).entries(id as IncidentId)) as unknown as Record<string, unknown>[];
}

/** The store over the stack's Redis and prefix, as the bot's processes see it. */
export function storeOf(s: Stack): RedisStore {
  return new RedisStore(s.redis, s.prefix);
}

/** Fetches `/metrics` and returns the value of `incident_bot_rejected_requests_total` for the label set, or 0. */
export async function rejectedCount(webUrl: string, labels: string): Promise<number> {
  const text = await (await fetch(`${webUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`incident_bot_rejected_requests_total{${labels}}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

export { cleanPrefix };
