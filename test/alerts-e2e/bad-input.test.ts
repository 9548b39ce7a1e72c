import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupId } from '../../src/alerts/group-id.js';
import { alertDeliveryId } from '../../src/flows/ingest-alert.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import {
  fixture,
  fixtureBytes,
  ingested,
  PD_SECRET,
  pagerDutyDelivery,
  postAlert,
  TOKEN,
  testRedis,
} from './support.js';

// Bad input and faults at the webhook edge: 401, 400 naming the field, 413, nothing written for
// any of them; Redis unavailable → 503 and nothing lost once it is back. The bot reaches Redis
// through a TCP proxy this test can cut.

/** A TCP proxy to the test Redis that can be cut (every connection dropped, port closed) and restored. */
class RedisCut {
  server: Server | undefined;
  sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: URL) {}
  async up(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = createConnection(Number(this.target.port || 6379), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as { port: number }).port;
  }
  async down(): Promise<void> {
    const closed = new Promise((r) => this.server?.close(r));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

const proxy = new RedisCut(new URL(TEST_REDIS_URL));
let h: Harness;
let base: string;
beforeAll(async () => {
  await proxy.up();
  h = await startHarness('alerts-bad-input', {
    ALERT_WEBHOOK_TOKEN: TOKEN,
    PAGERDUTY_WEBHOOK_SECRET: PD_SECRET,
    REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  });
  base = `http://127.0.0.1:${h.bot.port}`;
});
afterAll(async () => {
  await h?.close();
  await proxy.down();
});

/** Keys that tell whether an alert was recorded: deliveries, alert groups and states, incidents, and queued alert jobs. */
async function recorded(): Promise<string[]> {
  const redis = testRedis(TEST_REDIS_URL);
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${h.prefix}:*`, 'COUNT', 1000);
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  redis.disconnect();
  const counts = await h.bot.rt.jobs.queues.alerts.getJobCounts();
  const jobs = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `alerts-jobs:${s}=${n}`);
  return [
    ...found.filter(
      (key) =>
        // The sweeper's own once-per-prefix backfill claim (issue 13's closed index) is housekeeping
        // that runs whenever the first sweep does, not something a request recorded.
        (!key.endsWith(':claim:closed-index-backfill-v1') &&
          /:(delivery|alert-group|alert-group-last|alert-states|incident-seq|open|all|claim|declare-claim):|:\{INC-/.test(
            key,
          )) ||
        /:(incident-seq|open|all|closing|declaring)$/.test(key),
    ),
    ...jobs,
  ].sort();
}

const am = () => fixture('alertmanager-v4-firing.json');

describe('bad webhook input is refused with the reason and leaves nothing behind', () => {
  it('answers 401 to a missing or wrong token and to a bad PagerDuty signature, recording nothing', async () => {
    const before = await recorded();
    const body = fixtureBytes('alertmanager-0.25-captured-firing.body.txt');
    expect((await postAlert(base, 'alertmanager', body, {})).status).toBe(401);
    expect(
      (await postAlert(base, 'alertmanager', body, { authorization: 'Bearer wrong-token-000000000' })).status,
    ).toBe(401);
    expect(
      (
        await postAlert(base, 'grafana', fixture('unified-alerting-webhook.json'), {
          authorization: `Token ${TOKEN}`,
        })
      ).status,
    ).toBe(401);
    const pd = pagerDutyDelivery(
      'incident.triggered',
      fixture('v3-data-incident.json'),
      '2020-10-02T18:45:23Z',
    );
    const forged = await postAlert(base, 'pagerduty', pd.body, {
      'x-pagerduty-signature': `v1=${'0'.repeat(64)}`,
    });
    expect(forged.status).toBe(401);
    expect(forged.body.error).toMatch(/X-PagerDuty-Signature/);
    expect(await recorded()).toEqual(before);
  });

  it('answers 400 naming the field for garbage, truncated JSON, wrong types and an unknown status, recording nothing', async () => {
    const before = await recorded();
    const garbage = await postAlert(base, 'alertmanager', 'not json at all');
    expect(garbage).toMatchObject({ status: 400, body: { error: 'body is not valid JSON' } });
    expect(garbage.body.issues[0].path).toBe('(root)');

    const full = fixtureBytes('alertmanager-0.25-captured-firing.body.txt');
    const truncated = await postAlert(base, 'alertmanager', full.subarray(0, full.length - 40));
    expect(truncated.status).toBe(400);
    expect(truncated.body.error).toBe('body is not valid JSON');

    const wrongType = am();
    wrongType.alerts[0].labels = { severity: 5 };
    const r1 = await postAlert(base, 'alertmanager', wrongType);
    expect(r1.status).toBe(400);
    expect(r1.body.error).toContain('alerts[0].labels.severity');

    const unknownStatus = am();
    unknownStatus.alerts[0].status = 'exploded';
    const r2 = await postAlert(base, 'alertmanager', unknownStatus);
    expect(r2.status).toBe(400);
    expect(r2.body.issues.map((i: { path: string }) => i.path)).toContain('alerts[0].status');

    const badTime = { title: 'x', status: 'firing', dedupKey: 'k', startedAt: 'yesterday' };
    const r3 = await postAlert(base, 'generic', badTime);
    expect(r3.status).toBe(400);
    expect(r3.body.error).toContain('startedAt');

    const noKey = await postAlert(base, 'generic', { title: 'x', status: 'firing' });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error).toContain('dedupKey');
    expect(await recorded()).toEqual(before);
  });

  it('answers 413 to a body over 1 MiB, recording nothing', async () => {
    const before = await recorded();
    const big = am();
    big.alerts[0].annotations.description = 'x'.repeat(1024 * 1024 + 10);
    const r = await postAlert(base, 'alertmanager', big);
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ limitBytes: 1024 * 1024 });
    expect(await recorded()).toEqual(before);
  });
});

describe('a delivery whose job failed for good', () => {
  it('is run again when the sender re-sends it', async () => {
    const body = {
      title: 'Retried after failure',
      status: 'firing',
      dedupKey: 'failed-once',
      severity: 'warning',
    };
    const raw = Buffer.from(JSON.stringify(body));
    const deliveryId = alertDeliveryId(groupId('generic', body.dedupKey), raw);
    // A stored delivery the worker cannot read: its job fails without retries.
    await h.bot.rt.store.saveDelivery(deliveryId, { not: 'a delivery' }, 60);
    const first = await postAlert(base, 'generic', raw);
    expect(first.status).toBe(202);
    const queue = h.bot.rt.jobs.queues.alerts;
    await eventually(async () => expect(await queue.getJobState(`ingest-${deliveryId}`)).toBe('failed'));

    await h.bot.rt.store.forgetDelivery(deliveryId);
    const again = await postAlert(base, 'generic', raw);
    expect(again.status).toBe(202);
    expect(await ingested(queue, deliveryId)).toMatchObject({ outcome: 'declared' });
  });
});

describe('Redis unavailable when a webhook arrives', () => {
  it('answers 503 with Retry-After while Redis is away, and the retried delivery opens the incident once it is back', async () => {
    const body = {
      title: 'Redis outage drill',
      status: 'firing',
      dedupKey: 'redis-drill',
      severity: 'critical',
    };
    await proxy.down();
    const res = await fetch(`${base}/alerts/generic`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(((await res.json()) as { error: string }).error).toMatch(/Redis unavailable/);

    await proxy.up();
    // What Alertmanager does after a 5xx: send again until accepted.
    const accepted = await eventually(async () => {
      const r = await postAlert(base, 'generic', body);
      expect(r.status).toBe(202);
      return r;
    });
    expect(await ingested(h.bot.rt.jobs.queues.alerts, accepted.body.deliveryId)).toMatchObject({
      outcome: 'declared',
    });
    await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok);
    expect(await h.bot.rt.store.boundIncident(accepted.body.groupId)).toMatch(/^INC-\d+$/);
    // The detector the "recording nothing" tests rely on does see a recorded alert.
    const now = await recorded();
    expect(now.some((k) => k.includes(':delivery:'))).toBe(true);
    expect(now.some((k) => k.includes(':alert-states:'))).toBe(true);
  });
});
