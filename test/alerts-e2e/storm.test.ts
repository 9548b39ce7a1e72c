import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, startBot } from '../../src/process.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { eventually } from '../support/eventually.js';
import { SIGNING_SECRET } from '../support/harness.js';
import { cleanPrefix, testPrefix, testRedisEnv, testRedisTarget } from '../support/redis.js';
import { postAlert, TOKEN } from './support.js';

// An alert storm: 100 distinct groups. Slack's Tier 2 (conversations.create, pins.add,
// conversations.invite, conversations.setTopic: ~20/min) is scaled 15× so the test runs in about
// 20 s: the sandbox allows 5 per second (burst 5) and the bot's channel-setup limiter is set to 5
// per 1 s window (production default: 20 per 60 s). Unlimited, the bot sets up about 8 channels a
// second here and gets 429s. The channels must all open, in order, without a single rate-limited
// or failed conversations.create.

const TIER2_SCALED = { perMinute: 300, burst: 5 };
const GROUPS = 100;
let sandbox: Sandbox;
let bot: BotProcess;
let prefix: string;
let base: string;

beforeAll(async () => {
  sandbox = await startSandbox({
    port: 0,
    rateLimits: {
      'conversations.create': TIER2_SCALED,
      'conversations.invite': TIER2_SCALED,
      'conversations.setTopic': TIER2_SCALED,
      'pins.add': TIER2_SCALED,
      // ~1 message/s per channel, scaled the same way (the announce channel gets 100 posts).
      'chat.postMessage': { perMinute: 3600, burst: 10, scope: 'channel' },
    },
  });
  const responder = sandbox.addUser({ name: 'carol' }).id;
  const announce = sandbox.addChannel({ name: 'incidents', members: [sandbox.botUserId] }).id;
  prefix = testPrefix('alerts-storm');
  bot = await startBot({
    env: {
      SLACK_BOT_TOKEN: sandbox.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: sandbox.apiUrl,
      ...testRedisEnv(),
      REDIS_PREFIX: prefix,
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      INCIDENT_RESPONDERS: responder,
      INCIDENT_ANNOUNCE_CHANNEL: announce,
      POSTMORTEM_DIR: mkdtempSync(join(tmpdir(), 'ib-postmortems-')),
      ALERT_WEBHOOK_TOKEN: TOKEN,
      CHANNEL_SETUPS_PER_WINDOW: '5',
      CHANNEL_SETUP_WINDOW_SECONDS: '1',
      // Ingestion in arrival order, so incident numbers follow the alerts.
      WORKER_CONCURRENCY: '1',
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    },
  });
  base = `http://127.0.0.1:${bot.port}`;
});
afterAll(async () => {
  await bot?.close();
  await sandbox?.close();
  if (prefix) await cleanPrefix(prefix, testRedisTarget());
});

describe('an alert storm of 100 distinct groups', () => {
  it('opens 100 channels in incident order without one rate-limited or failed conversations.create', async () => {
    for (let i = 1; i <= GROUPS; i++) {
      const r = await postAlert(base, 'generic', {
        title: `Storm ${String(i).padStart(3, '0')}`,
        status: 'firing',
        dedupKey: `storm-${i}`,
        severity: 'warning',
      });
      expect(r.status).toBe(202);
    }
    await eventually(
      async () =>
        expect(sandbox.transcriptFor('conversations.create').filter((e) => e.ok)).toHaveLength(GROUPS),
      // 100 setups at 5 a second take 20 s on an idle machine; a loaded one needs more.
      100_000,
      100,
    );
    const calls = sandbox.transcriptFor('conversations.create');
    expect(calls.filter((e) => !e.ok)).toEqual([]);
    const numbers = calls.map((e) => Number(/^inc-\d{8}-(\d+)-/.exec(String(e.args.name))?.[1]));
    expect(numbers).toEqual(Array.from({ length: GROUPS }, (_, i) => i + 1));
    expect(await bot.rt.store.openCount()).toBe(GROUPS);
  }, 120_000);
});
