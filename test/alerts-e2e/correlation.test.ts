import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/redis/connection.js';
import { bullPrefix } from '../../src/redis/store.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { eventually } from '../support/eventually.js';
import { SIGNING_SECRET } from '../support/harness.js';
import { freePort } from '../support/lab.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix, testRedisEnv, testRedisTarget } from '../support/redis.js';
import {
  allIncidents,
  botMessages,
  channelOf,
  fixture,
  type Proc,
  postAlert,
  settled,
  spawnBot,
  TOKEN,
  testRedis,
  timeline,
} from './support.js';

// Correlation across alert groups and sources, end to end: a real web process and a real worker
// process (as the Procfile runs them), real Redis and the Slack sandbox. Three Alertmanager groups
// and one Grafana alert for service=checkout open one incident and one channel; a fourth group for
// another service opens its own; with ALERT_CORRELATE_BY empty, each group opens its own.

interface Bot {
  sandbox: Sandbox;
  prefix: string;
  redis: RedisClient;
  alerts: Queue;
  web: string;
  procs: Proc[];
}

async function startBot(name: string, extra: NodeJS.ProcessEnv): Promise<Bot> {
  const sandbox = await startSandbox({ port: 0 });
  const prefix = testPrefix(name);
  const redis = testRedis(TEST_REDIS_URL);
  const alerts = new Queue('alerts', { connection: redis, prefix: bullPrefix(prefix) });
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    SLACK_BOT_TOKEN: sandbox.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: sandbox.apiUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: prefix,
    ALERT_WEBHOOK_TOKEN: TOKEN,
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ...extra,
  };
  const procs = await Promise.all([
    spawnBot('web', { ...env, PORT: String(port) }, 'web listening'),
    spawnBot('worker', env, 'workers started'),
  ]);
  return { sandbox, prefix, redis, alerts, web: `http://127.0.0.1:${port}`, procs };
}

async function stopBot(b: Bot | undefined): Promise<void> {
  if (!b) return;
  await Promise.all(b.procs.map((p) => p.stop()));
  await b.alerts.close();
  b.redis.disconnect();
  await b.sandbox.close();
  await cleanPrefix(b.prefix, testRedisTarget());
}

/** An Alertmanager v4 body for its own group: one firing alert `name` for `service`. */
function amGroup(name: string, service: string) {
  const body = fixture('alertmanager-v4-firing.json');
  body.groupKey = `{}/{}:{alertname="${name}", service="${service}"}`;
  body.groupLabels = { alertname: name, service };
  body.commonLabels = { ...body.commonLabels, alertname: name, service };
  body.alerts = [body.alerts[0]];
  body.alerts[0].labels = { ...body.alerts[0].labels, alertname: name, service };
  body.alerts[0].fingerprint = `fp${name.toLowerCase()}`;
  body.alerts[0].startsAt = new Date().toISOString();
  return body;
}

/** A Grafana unified-alerting body: one firing alert with service=checkout. */
function grafanaAlert() {
  const body = fixture('unified-alerting-webhook.json');
  body.groupKey = '{}:{alertname="CheckoutServerDown"}';
  body.alerts = [body.alerts[0]];
  body.alerts[0].labels = { alertname: 'CheckoutServerDown', service: 'checkout', team: 'blue' };
  body.alerts[0].startsAt = new Date().toISOString();
  return body;
}

/** Posts the four checkout alerts (three groups at once, racing) and, unless told not to, the search group; waits for every ingestion. */
async function sendAll(b: Bot, withSearch = true): Promise<void> {
  const racing = await Promise.all(
    ['HighErrorRate', 'HighLatency', 'ServerDown'].map((n) =>
      postAlert(b.web, 'alertmanager', amGroup(n, 'checkout')),
    ),
  );
  const grafana = await postAlert(b.web, 'grafana', grafanaAlert());
  const all = [...racing, grafana];
  if (withSearch) all.push(await postAlert(b.web, 'alertmanager', amGroup('SearchLatency', 'search')));
  expect(all.map((r) => r.status)).toEqual(all.map(() => 202));
  await eventually(async () => {
    for (const r of all) expect(await b.alerts.getJobState(`ingest-${r.body.deliveryId}`)).toBe('completed');
  }, 30_000);
}

describe('alert correlation on service (the default)', () => {
  let bot: Bot;
  beforeAll(async () => {
    bot = await startBot('corr-on', {});
  }, 120_000);
  afterAll(async () => {
    await stopBot(bot);
  });

  it('three Alertmanager groups and a Grafana alert for one service open one incident and one channel; another service opens its own', async () => {
    await sendAll(bot);
    expect(await allIncidents(bot.redis, bot.prefix)).toEqual(['INC-1', 'INC-2']);
    const checkout = await channelOf(bot.redis, bot.prefix, 'INC-1');
    const search = await channelOf(bot.redis, bot.prefix, 'INC-2');
    await settled(bot.redis, bot.prefix, 'INC-1');
    await settled(bot.redis, bot.prefix, 'INC-2');
    const creates = bot.sandbox.transcriptFor('conversations.create').filter((e) => e.ok);
    expect(creates).toHaveLength(2);

    const es = await timeline(bot.redis, bot.prefix, 'INC-1');
    const fired = es.filter((e) => e.kind === 'alert_fired');
    expect(fired.map((e) => e.name).sort()).toEqual([
      'CheckoutServerDown',
      'HighErrorRate',
      'HighLatency',
      'ServerDown',
    ]);
    const joins = es.filter((e) => e.kind === 'alert_group_joined');
    expect(joins).toHaveLength(3);
    for (const j of joins) expect(j).toMatchObject({ via: 'correlation', correlation: 'service=checkout' });
    expect(joins.some((j) => j.actor.type === 'alert' && j.actor.source === 'grafana')).toBe(true);
    expect((await timeline(bot.redis, bot.prefix, 'INC-2')).filter((e) => e.kind === 'alert_fired')).toEqual([
      expect.objectContaining({
        name: 'SearchLatency',
        labels: expect.objectContaining({ service: 'search' }),
      }),
    ]);

    // The channel says why: a join line per group, and the joined alerts' posts carry the reason.
    const texts = botMessages(bot.sandbox, checkout).map((m) => m.text);
    expect(
      texts.filter((t) => t.includes('same service=checkout') && t.includes('joined by alert group')),
    ).toHaveLength(3);
    // Alerts arriving together are posted as one batch message (one section per alert), so look
    // at every line the bot posted, in texts and sections, and name the alerts that carry the reason.
    const lines = botMessages(bot.sandbox, checkout).flatMap((m) => [
      m.text,
      ...((m.blocks ?? []) as { text?: { text?: string } }[]).map((b) => b.text?.text ?? ''),
    ]);
    const joinedAlerts = new Set(
      lines
        .filter((t) => t.includes('Alert firing') && t.includes('joined INC-1: same service=checkout'))
        .map((t) => /Alert firing: (\w+)/.exec(t)?.[1]),
    );
    // The three Alertmanager groups race, so any one of them opens the incident; the Grafana alert, sent after, joins.
    expect(joinedAlerts.size).toBe(3);
    expect(joinedAlerts.has('CheckoutServerDown')).toBe(true);
    for (const n of joinedAlerts)
      expect(['CheckoutServerDown', 'HighErrorRate', 'HighLatency', 'ServerDown']).toContain(n);
    expect(botMessages(bot.sandbox, search).some((m) => m.text.includes('joined'))).toBe(false);
  });
});

describe('alert correlation turned off (ALERT_CORRELATE_BY empty)', () => {
  let bot: Bot;
  beforeAll(async () => {
    bot = await startBot('corr-off', { ALERT_CORRELATE_BY: '' });
  }, 120_000);
  afterAll(async () => {
    await stopBot(bot);
  });

  it('the three Alertmanager groups and the Grafana alert for one service open four incidents and four channels', async () => {
    await sendAll(bot, false);
    expect(await allIncidents(bot.redis, bot.prefix)).toEqual(['INC-1', 'INC-2', 'INC-3', 'INC-4']);
    for (const id of ['INC-1', 'INC-2', 'INC-3', 'INC-4']) await channelOf(bot.redis, bot.prefix, id);
    expect(bot.sandbox.transcriptFor('conversations.create').filter((e) => e.ok)).toHaveLength(4);
    for (const id of ['INC-1', 'INC-2', 'INC-3', 'INC-4'])
      expect((await timeline(bot.redis, bot.prefix, id)).some((e) => e.kind === 'alert_group_joined')).toBe(
        false,
      );
  });
});
