import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisClient } from '../../src/redis/connection.js';
import { bullPrefix } from '../../src/redis/store.js';
import { type Sandbox, startSandbox, type TranscriptEntry } from '../../src/sandbox/index.js';
import { assertConforms } from '../support/conformance.js';
import { eventually } from '../support/eventually.js';
import { SIGNING_SECRET } from '../support/harness.js';
import { freePort } from '../support/lab.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix, testRedisEnv, testRedisTarget } from '../support/redis.js';
import {
  allIncidents,
  channelOf,
  fixtureBytes,
  type Proc,
  postAlert,
  settled,
  spawnBot,
  TOKEN,
  testRedis,
  timeline,
} from './support.js';

// Two web and two worker processes (`node --import tsx src/web.ts|worker.ts`, as the Procfile
// runs them) on one Redis and one Slack sandbox: concurrent copies of one alert group make one
// incident and one channel; a worker SIGKILLed in the middle of opening an incident leaves, after
// a restart, exactly one incident with exactly one channel.

let sandbox: Sandbox;
let prefix: string;
let redis: RedisClient;
let alerts: Queue;
let env: NodeJS.ProcessEnv;
const procs: Proc[] = [];
let webs: string[] = [];
let workers: Proc[] = [];

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  const announce = sandbox.addChannel({ name: 'incidents', members: [sandbox.botUserId] }).id;
  prefix = testPrefix('alerts-mp');
  redis = testRedis(TEST_REDIS_URL);
  alerts = new Queue('alerts', { connection: redis, prefix: bullPrefix(prefix) });
  env = {
    SLACK_BOT_TOKEN: sandbox.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: sandbox.apiUrl,
    ...testRedisEnv(),
    REDIS_PREFIX: prefix,
    ALERT_WEBHOOK_TOKEN: TOKEN,
    INCIDENT_ANNOUNCE_CHANNEL: announce,
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    // A killed worker's job comes back within about two seconds instead of a minute.
    JOB_LOCK_SECONDS: '1',
  };
  const ports = [await freePort(), await freePort()];
  const started = await Promise.all([
    ...ports.map((p) => spawnBot('web', { ...env, PORT: String(p) }, 'web listening')),
    spawnBot('worker', env, 'workers started'),
    spawnBot('worker', env, 'workers started'),
  ]);
  procs.push(...started);
  webs = ports.map((p) => `http://127.0.0.1:${p}`);
  workers = started.slice(2);
}, 120_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await alerts?.close();
  redis?.disconnect();
  await sandbox?.close();
  if (prefix) await cleanPrefix(prefix, testRedisTarget());
  // Every Web API call the bot's processes made, checked against Slack's published spec.
  if (sandbox) assertConforms(sandbox.transcript, 'multi-process');
});

const creates = (pred: (e: TranscriptEntry) => boolean = () => true) =>
  sandbox.transcriptFor('conversations.create').filter((e) => e.ok && pred(e));

async function allIngested(deliveryIds: string[]) {
  await eventually(async () => {
    for (const id of new Set(deliveryIds)) {
      expect(await alerts.getJobState(`ingest-${id}`), `ingest-${id}`).toBe('completed');
    }
  }, 30_000);
}

describe('two web and two worker processes', () => {
  it('turn 50 concurrent copies of one alert group plus repeats into one incident, one channel and one entry per change', async () => {
    const captured = fixtureBytes('alertmanager-0.25-captured-firing.body.txt').toString('utf8');
    // 25 byte-identical copies (Alertmanager retries) and 25 that differ only in bytes (another
    // Alertmanager replica, re-encoded): distinct deliveries and jobs racing on one group.
    const bodies = Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0 ? captured : `${captured.replace('"receiver":"bot"', `"receiver":"bot-${i}"`)}\n`,
    );
    const first = await Promise.all(bodies.map((b, i) => postAlert(webs[i % 2]!, 'alertmanager', b)));
    expect(first.map((r) => r.status)).toEqual(Array(50).fill(202));
    const groupIds = new Set(first.map((r) => r.body.groupId));
    expect(groupIds.size).toBe(1);
    const repeats = [];
    for (let i = 0; i < 10; i++) repeats.push(await postAlert(webs[i % 2]!, 'alertmanager', bodies[i]!));
    expect(repeats.map((r) => r.status)).toEqual(Array(10).fill(202));
    await allIngested([...first, ...repeats].map((r) => r.body.deliveryId));

    expect(await allIncidents(redis, prefix)).toEqual(['INC-1']);
    const channel = await channelOf(redis, prefix, 'INC-1');
    await settled(redis, prefix, 'INC-1');
    const entries = await timeline(redis, prefix, 'INC-1');
    expect(entries.filter((e) => e.kind === 'alert_fired')).toHaveLength(1);
    expect(entries.filter((e) => e.kind === 'declared')).toHaveLength(1);
    expect(creates()).toHaveLength(1);
    expect(sandbox.channels().filter((c) => /^inc-\d{8}-1-/.test(c.name))).toHaveLength(1);
    expect(sandbox.messages(channel).filter((m) => m.text.includes('Alert firing'))).toHaveLength(1);
  });

  it('open the incident exactly once, with its channel, when the worker is SIGKILLed in the middle of opening it and restarted', async () => {
    // One worker left, so we know which process makes the call.
    await workers[1]!.stop('SIGTERM');
    const victim = workers[0]!;
    const killed = new Promise<void>((resolve) => {
      const onCall = (e: TranscriptEntry) => {
        if (e.method === 'conversations.create' && e.ok && /^inc-\d{8}-2-/.test(String(e.args.name))) {
          // Synchronously, before the sandbox writes its answer: the worker never learns the channel id.
          victim.child.kill('SIGKILL');
          sandbox.off('call', onCall);
          resolve();
        }
      };
      sandbox.on('call', onCall);
    });
    const r = await postAlert(webs[0]!, 'generic', {
      title: 'Checkout pool empty',
      status: 'firing',
      dedupKey: 'sigkill-drill',
      severity: 'critical',
    });
    expect(r.status).toBe(202);
    await killed;
    await new Promise((resolve) => victim.child.once('exit', resolve));
    expect(victim.child.signalCode).toBe('SIGKILL');
    // Slack has the channel; the timeline does not know it yet.
    expect(sandbox.channels().filter((c) => /^inc-\d{8}-2-/.test(c.name))).toHaveLength(1);
    expect((await timeline(redis, prefix, 'INC-2')).some((e) => e.kind === 'channel_created')).toBe(false);

    const restarted = await spawnBot('worker', env, 'workers started');
    procs.push(restarted);
    const channel = await channelOf(redis, prefix, 'INC-2', 30_000);
    await eventually(async () => {
      const es = await timeline(redis, prefix, 'INC-2');
      expect(es.some((e) => e.kind === 'summary_posted')).toBe(true);
    }, 30_000);
    await settled(redis, prefix, 'INC-2');

    expect(await allIncidents(redis, prefix)).toEqual(['INC-1', 'INC-2']);
    const inc2Channels = sandbox.channels().filter((c) => /^inc-\d{8}-2-/.test(c.name));
    expect(inc2Channels.map((c) => c.id)).toEqual([channel]);
    const es = await timeline(redis, prefix, 'INC-2');
    expect(es.filter((e) => e.kind === 'channel_created')).toHaveLength(1);
    expect(es.filter((e) => e.kind === 'alert_fired')).toHaveLength(1);
    expect(sandbox.pins(channel)).toHaveLength(1);
    expect(sandbox.messages(channel).filter((m) => m.text.includes('Alert firing'))).toHaveLength(1);
  });
});
