import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BotProcess, startBot } from '../../src/process.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { postAlert, TOKEN } from '../alerts-e2e/support.js';
import { SIGNING_SECRET } from '../support/harness.js';
import { pollUntil, testPrefix } from '../support/redis.js';
import { type RedisSentinelHarness, startRedisSentinel } from '../support/redis-sentinel.js';

// The bot (web + worker, in this process) on Redis Sentinel: master + 1 replica + 3 Sentinels of
// the test's own. Alert webhooks arrive steadily; the master is SIGKILLed under that traffic;
// Sentinel promotes the replica; the bot must follow it (healthz back to 200, the worker ingests
// again) and every webhook it accepted must end as exactly one incident.
//
// What Redis promises here, and so what the test may assert: replication is asynchronous. The
// master answers a write before any replica has it, so a failover can lose writes acknowledged in
// the last moments before the master died ("acknowledged writes can be lost",
// https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/ — WAIT narrows the
// window for one client but does not make Redis strongly consistent). So:
// - webhooks answered 202 before the replica was seen caught up with the master
//   (its `slave_repl_offset` ≥ the master's `master_repl_offset`, the effect of a `WAIT 1`
//   over everyone's writes) were on the replica when it was promoted: exactly one incident
//   each, with no re-send;
// - webhooks answered 202 after that point and before the kill may be lost with the master, and
//   those answered 503 during the failover were not stored: the test re-sends both, as
//   Alertmanager does; a re-send must not make a second incident of one that survived;
// - once /healthz is 200 again, webhooks are accepted and ingested by the reconnected worker.

let sentinel: RedisSentinelHarness;
let sandbox: Sandbox;
let bot: BotProcess;
let base: string;

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  sandbox = await startSandbox({ port: 0 });
  bot = await startBot({
    env: {
      SLACK_BOT_TOKEN: sandbox.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: sandbox.apiUrl,
      REDIS_SENTINELS: sentinel.sentinels,
      REDIS_SENTINEL_NAME: sentinel.name,
      REDIS_PREFIX: testPrefix('sentinel'),
      PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ALERT_WEBHOOK_TOKEN: TOKEN,
      POSTMORTEM_DIR: mkdtempSync(join(tmpdir(), 'ib-faults-pm-')),
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      // An ingest job that was running on the killed master is retried once its lock expires.
      JOB_LOCK_SECONDS: '2',
    },
  });
  base = `http://127.0.0.1:${bot.port}`;
}, 60_000);

afterAll(async () => {
  await bot?.close();
  await sandbox?.close();
  await sentinel?.stop();
});

interface Sent {
  n: number;
  status: number;
  startedAt: number;
  answeredAt: number;
  deliveryId?: string;
}

const title = (n: number) => `Failover drill ${n}`;
const fire = (n: number) =>
  postAlert(base, 'generic', { title: title(n), status: 'firing', dedupKey: `failover-${n}`, severity: 'warning' });

async function healthz(): Promise<number> {
  return (await fetch(`${base}/healthz`).catch(() => ({ status: 0 }))).status;
}

describe('Redis Sentinel failover under webhook traffic', () => {
  it('follows the promoted replica and turns every accepted webhook into exactly one incident', async () => {
    const sent: Sent[] = [];
    let next = 0;
    let stop = false;
    // Two senders, one webhook (a new alert group) every ~100 ms each.
    const sender = async () => {
      while (!stop) {
        const n = ++next;
        const startedAt = Date.now();
        const r = await fire(n).catch(() => ({ status: 0, body: undefined }));
        sent.push({ n, status: r.status, startedAt, answeredAt: Date.now(), deliveryId: r.body?.deliveryId });
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const senders = [sender(), sender()];
    const accepted = (from = 0) => sent.filter((s) => s.status === 202 && s.startedAt >= from);

    await pollUntil('10 webhooks accepted before the failover', () => accepted().length >= 10);
    // Everything accepted so far is on the master; once the replica's offset reaches the
    // master's (read after this snapshot), it is on the replica too.
    const safe = accepted().map((s) => s.n);
    await sentinel.replicaCaughtUp();
    const oldMaster = sentinel.masterPort;
    const killedAt = Date.now();
    await sentinel.killMaster();

    const { newMasterPort } = await sentinel.waitForFailover();
    expect(newMasterPort).not.toBe(oldMaster);
    const promotedAfterMs = Date.now() - killedAt;
    // The web process reconnects to the new master by itself.
    await pollUntil('/healthz to answer 200 again', async () => (await healthz()) === 200, 20_000, 50);
    const healthyAt = Date.now();
    await pollUntil('10 webhooks accepted after the failover', () => accepted(healthyAt).length >= 10, 20_000);
    stop = true;
    await Promise.all(senders);

    const byN = new Map(sent.map((s) => [s.n, s]));
    // Later webhooks work: nothing sent after /healthz came back was refused.
    const late = sent.filter((s) => s.startedAt >= healthyAt);
    expect(
      late.filter((s) => s.status !== 202).map((s) => `${s.n}: ${s.status}`),
      'refused after recovery',
    ).toEqual([]);
    // The sender's retry: re-send what was refused or may have been lost with the master.
    const retried = sent.filter((s) => !safe.includes(s.n) && s.startedAt < healthyAt).map((s) => s.n);
    for (const n of retried) {
      const r = await fire(n);
      expect(r.status, `re-send of ${n}`).toBe(202);
      byN.set(n, { ...byN.get(n)!, status: 202, deliveryId: r.body.deliveryId });
    }

    // The worker reconnected too: every accepted delivery is ingested on the new master.
    const alerts = bot.rt.jobs.queues.alerts;
    await pollUntil(
      'every accepted webhook ingested',
      async () => {
        for (const s of byN.values())
          if ((await alerts.getJobState(`ingest-${s.deliveryId}`)) !== 'completed') return false;
        return true;
      },
      30_000,
      100,
    );

    const titles: string[] = [];
    for (const id of await bot.rt.store.allIncidents()) {
      const [declared] = await bot.rt.store.entries(id);
      if (declared?.kind === 'declared') titles.push(declared.title);
    }
    const count = (n: number) => titles.filter((t) => t === title(n)).length;
    // None lost: each webhook accepted before the replica caught up, without any re-send.
    expect(
      safe.filter((n) => count(n) !== 1).map((n) => `${n}: ${count(n)}`),
      'safe webhooks',
    ).toEqual([]);
    // None duplicated, none lost after the senders' retries, and nothing else.
    expect(
      [...byN.keys()].filter((n) => count(n) !== 1).map((n) => `${n}: ${count(n)}`),
      'all webhooks',
    ).toEqual([]);
    expect(titles).toHaveLength(byN.size);

    // Proof that the data now lives on the promoted node, asked directly.
    const direct = new Redis({ port: newMasterPort, lazyConnect: true, maxRetriesPerRequest: 0 });
    direct.on('error', () => {});
    try {
      await direct.connect();
      expect((await direct.call('ROLE')) as unknown[]).toContain('master');
      expect(await direct.dbsize()).toBeGreaterThan(0);
    } finally {
      direct.disconnect();
    }

    console.info(
      `sentinel failover: promoted ${promotedAfterMs} ms after the kill, /healthz back after ${
        healthyAt - killedAt
      } ms; ${sent.length} webhooks, ${safe.length} safe, ${retried.length} re-sent (${
        retried.filter((n) => byN.get(n) && sent.find((s) => s.n === n)?.status === 202).length
      } of them had been accepted)`,
    );
  });
});
