import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentId } from '../../src/core/incident-model.js';
import { type BotProcess, startBot } from '../../src/process.js';
import { redisMode } from '../../src/redis/connection.js';
import { type Sandbox, type SandboxOptions, SlackClientSim, startSandbox } from '../../src/sandbox/index.js';
import { assertConforms } from './conformance.js';
import { eventually } from './eventually.js';
import { cleanPrefix, TEST_REDIS_CLUSTER_NODES, testPrefix, testRedisEnv, testRedisTarget } from './redis.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789';

/** A running bot (web + worker) wired to a fresh Slack sandbox, real Redis under its own prefix, and a signed client. */
export interface Harness {
  sandbox: Sandbox;
  bot: BotProcess;
  client: SlackClientSim;
  prefix: string;
  env: NodeJS.ProcessEnv;
  users: { alice: string; bob: string; carol: string };
  announceChannel: string;
  close(): Promise<void>;
}

/**
 * Starts sandbox and bot; `env` overrides settings. The bot runs on the test Redis, or on the test
 * Redis Cluster when the run has one (REDIS_CLUSTER_NODES, see testRedisEnv). Always `close()` it (afterAll).
 */
export async function startHarness(
  name: string,
  env: NodeJS.ProcessEnv = {},
  opts: {
    worker?: boolean;
    /** Sandbox options (e.g. `hostile: true`). */
    sandbox?: SandboxOptions;
    /** Runs before the bot starts: add users and channels; the settings it returns override `env`. */
    prepare?: (sandbox: Sandbox) => NodeJS.ProcessEnv;
    /** More settings that need the sandbox's ids (user groups, extra users), made before the bot starts. */
    envFrom?: (sandbox: Sandbox, users: Harness['users']) => NodeJS.ProcessEnv;
    /** How Slack reaches the bot: signed HTTP (default) or Socket Mode (SLACK_APP_TOKEN, no signing secret). */
    transport?: 'http' | 'socket';
  } = {},
): Promise<Harness> {
  // TEST_SANDBOX_HOSTILE=1 runs every end-to-end suite against a hostile workspace (empty display names).
  const hostile = process.env.TEST_SANDBOX_HOSTILE === '1';
  const sandbox = await startSandbox({ port: 0, hostile, ...opts.sandbox });
  const alice = sandbox.addUser({ name: 'alice' }).id;
  const bob = sandbox.addUser({ name: 'bob' }).id;
  const carol = sandbox.addUser({ name: 'carol' }).id;
  const announce = sandbox.addChannel({ name: 'incidents', members: [sandbox.botUserId] }).id;
  const prefix = testPrefix(name);
  const fullEnv: NodeJS.ProcessEnv = {
    SLACK_BOT_TOKEN: sandbox.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: sandbox.apiUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: prefix,
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    INCIDENT_RESPONDERS: carol,
    INCIDENT_ANNOUNCE_CHANNEL: announce,
    POSTMORTEM_DIR: mkdtempSync(join(tmpdir(), 'ib-postmortems-')),
    ...env,
    ...opts.prepare?.(sandbox),
    ...opts.envFrom?.(sandbox, { alice, bob, carol }),
  };
  if (opts.transport === 'socket') {
    // Socket Mode needs the app-level token and no signing secret: prove the bot starts without one.
    fullEnv.SLACK_APP_TOKEN = sandbox.socketMode!.appToken;
    delete fullEnv.SLACK_SIGNING_SECRET;
  }
  const bot = await startBot({ env: fullEnv, worker: opts.worker });
  // A cluster run that quietly ran on one Redis would prove nothing.
  if (TEST_REDIS_CLUSTER_NODES && redisMode(bot.rt.config) !== 'cluster') {
    await bot.close();
    throw new Error(
      `startHarness(${name}): TEST_REDIS_CLUSTER_NODES is set but the bot is not in cluster mode`,
    );
  }
  const client = new SlackClientSim({
    appUrl: `http://127.0.0.1:${bot.port}/slack/events`,
    signingSecret: SIGNING_SECRET,
    sandbox,
    transport: opts.transport ?? 'http',
  });
  return {
    sandbox,
    bot,
    client,
    prefix,
    env: fullEnv,
    users: { alice, bob, carol },
    announceChannel: announce,
    async close() {
      await bot.close();
      await sandbox.close();
      await cleanPrefix(prefix, testRedisTarget());
      // Every Web API call this suite's bot made, checked against Slack's published spec.
      assertConforms(sandbox.transcript, `startHarness(${name})`);
    },
  };
}

/** Waits until the worker has delivered every timeline entry of incident `id` to its channel. */
export async function settled(h: Harness, id: string): Promise<void> {
  const inc = id as IncidentId;
  await eventually(async () => {
    const len = await h.bot.rt.store.timelineLength(inc);
    const delivered = await h.bot.rt.store.deliveredCursor(inc);
    if (len === 0 || delivered !== len) throw new Error(`${id}: delivered ${delivered} of ${len}`);
    // Generous: Slack's (the sandbox's) 1 message/s per channel and a loaded CI machine add up.
  }, 45_000);
}
