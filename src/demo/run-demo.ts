import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { IncidentId } from '../core/incident-model.js';
import type { TimelineEntry } from '../core/timeline.js';
import { startBot } from '../process.js';
import { type Sandbox, SlackClientSim, startSandbox } from '../sandbox/index.js';
import { timelineLine } from '../slack/render.js';
import { demoRedis } from './redis.js';
import { replayRecording } from './replay.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RECORDINGS = join(ROOT, 'test/fixtures/diagnostics/recordings');
const SECRET = 'demo-signing-secret-0123456789';
const ALERT_TOKEN = 'demo-alert-token-0123456789abcdef';

/** What the demo reports when it is done. */
export interface DemoResult {
  channelId: string;
  transcript: string;
  timeline: string[];
  postmortemPath: string;
  postmortem: string;
  seconds: number;
}

function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host, port, timeout: 500 });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** An Alertmanager v4 webhook for the web tier's latency and 5xx alerts (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export function alertmanagerPayload(status: 'firing' | 'resolved', startsAt: Date, endsAt?: Date) {
  const common = { job: 'web', service: 'checkout', env: 'prod', cluster: 'eu-1' };
  const alert = (alertname: string, severity: string, summary: string, description: string, fp: string) => ({
    status,
    labels: { alertname, severity, ...common },
    annotations: { summary, description, runbook_url: 'https://runbooks.example.com/web-latency' },
    startsAt: startsAt.toISOString(),
    endsAt: endsAt ? endsAt.toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example.com/graph?g0.expr=job%3Aweb_5xx_ratio%3Arate5m+%3E+0.05',
    fingerprint: fp,
  });
  return {
    version: '4',
    groupKey: '{}/{job="web"}:{alertname=~"HighErrorRate|HighLatency"}',
    truncatedAlerts: 0,
    status,
    receiver: 'incident-bot',
    groupLabels: { job: 'web' },
    commonLabels: common,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com',
    alerts: [
      alert(
        'HighErrorRate',
        'critical',
        '5xx ratio above 5% on the web tier',
        'job:web_5xx_ratio:rate5m = 0.31 for 5 minutes',
        'a1f3c9d2e4b56781',
      ),
      alert(
        'HighLatency',
        'warning',
        'p99 latency above 2 s on the web tier',
        'histogram_quantile(0.99, …) = 4.2 s',
        'b2e4d6f8a0c13579',
      ),
    ],
  };
}

/**
 * Replays the seeds' incident through the real bot: web and worker on Redis, the Slack sandbox for
 * Slack, a real-format Alertmanager webhook, checks against recorded output of a real HAProxy whose
 * weights send nearly all traffic to one server, a responder suspecting the database, the fix (a
 * second recording with an even spread), close, and the postmortem draft.
 */
export async function runDemo(log: (line: string) => void = () => {}): Promise<DemoResult> {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'incident-bot-demo-'));
  const redis = await demoRedis();
  const sandbox = await startSandbox({ port: 0 });
  const cleanups: (() => unknown)[] = [() => sandbox.close(), () => redis.stop()];
  try {
    const alice = sandbox.addUser({ name: 'alice', realName: 'Alice (SRE on call)' }).id;
    const bob = sandbox.addUser({ name: 'bob', realName: 'Bob (backend)' }).id;
    const carol = sandbox.addUser({ name: 'carol', realName: 'Carol (infrastructure)' }).id;
    const announce = sandbox.addChannel({
      name: 'incidents',
      members: [sandbox.botUserId, alice, bob, carol],
    }).id;

    const lbDir = join(work, 'lb');
    let replay = await replayRecording(
      join(RECORDINGS, 'haproxy-skewed-weights'),
      lbDir,
      new Date(),
      4 * 60_000,
    );
    cleanups.unshift(() => replay.close());
    // The database probe runs against a real PostgreSQL when one listens locally; otherwise it is left out.
    const hasPostgres = await tcpAnswers('127.0.0.1', 5432);
    const targets = join(work, 'targets.yml');
    writeFileSync(
      targets,
      [
        'loadBalancers:',
        '  - name: edge',
        '    kind: haproxy',
        `    stats: ${join(lbDir, 'stats-2.csv')}`,
        `    log: ${join(lbDir, 'haproxy.log')}`,
        `    config: ${join(lbDir, 'haproxy.cfg')}`,
        'probes:',
        // The demo's probes stay on this machine.
        '  allow: [127.0.0.0/8]',
        ...(hasPostgres ? ['  database: { kind: tcp, host: 127.0.0.1, port: 5432 }'] : []),
        'thresholds: { statsSampleMs: 0 }',
        '',
      ].join('\n'),
    );

    const env: NodeJS.ProcessEnv = {
      SLACK_BOT_TOKEN: sandbox.botToken,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: sandbox.apiUrl,
      REDIS_URL: redis.url,
      REDIS_PREFIX: `incident-bot-demo-${process.pid}-${Date.now()}`,
      PORT: '0',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
      INCIDENT_RESPONDERS: [alice, bob].join(','),
      INCIDENT_ANNOUNCE_CHANNEL: announce,
      ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
      DIAGNOSTICS_CONFIG: targets,
      POSTMORTEM_DIR: process.env.POSTMORTEM_DIR ?? join(ROOT, 'postmortems'),
    };
    const bot = await startBot({ env });
    cleanups.unshift(async () => {
      await bot.close();
      // The demo's keys go once the workers have stopped writing them.
      const r = new Redis(redis.url);
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${env.REDIS_PREFIX}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await r.unlink(...keys);
        } while (cursor !== '0');
      } finally {
        r.disconnect();
      }
    });
    const base = `http://127.0.0.1:${bot.port}`;
    const slack = new SlackClientSim({ appUrl: `${base}/slack/events`, signingSecret: SECRET, sandbox });
    log(
      `web + worker on ${base}, Redis ${redis.url}${redis.started ? ' (started for the demo)' : ''}, Slack sandbox ${sandbox.url}`,
    );

    // 1. Alertmanager fires: high 5xx and latency on the web tier.
    const startsAt = new Date(Date.now() - 3 * 60_000);
    const fired = await postAlert(base, alertmanagerPayload('firing', startsAt));
    log(`POST /alerts/alertmanager (firing) → ${fired}`);
    const created = await sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok, {
      timeoutMs: 20_000,
    });
    const channelId = sandbox.channelByName(String(created.args.name))!.id;
    log(`channel #${created.args.name} opened`);
    // The worker indexes the channel right after Slack created it.
    let id = await bot.rt.store.incidentByChannel(channelId);
    for (let i = 0; !id && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      id = await bot.rt.store.incidentByChannel(channelId);
    }
    if (!id) throw new Error('demo: the channel was created but never linked to an incident');
    const waitEntry = (pred: (e: TimelineEntry) => boolean, what: string) =>
      waitForEntry(() => bot.rt.store.entries(id), pred, what);
    const first = (await waitEntry(
      (e) => e.kind === 'check_result' && e.result.checkId === 'traffic-distribution',
      'the traffic-distribution result',
    )) as Extract<TimelineEntry, { kind: 'check_result' }>;
    log(`checklist: traffic-distribution ${first.result.verdict}: ${first.result.summary}`);

    // 2. A responder suspects the database; the bot answers with the evidence.
    const say = async (user: string, text: string) => {
      const res = await slack.slashCommand({ text, userId: user, channelId });
      return (res.body as { text?: string } | null)?.text ?? '';
    };
    await say(alice, `lead <@${alice}>`);
    await say(bob, 'suspect the database is overloaded: slow queries after yesterday’s migration');
    await waitEntry(
      (e) =>
        e.kind === 'note' && e.actor.type === 'bot' && e.text.startsWith('Before digging into the database'),
      'the database nudge',
    );
    log('bob suspects the database; the bot answers with the load-balancer evidence');
    await say(bob, 'rule-out H1 DB p99 query time normal, connections at 12%; the evidence points at the LB');
    await say(carol, 'suspect load-balancer: HAProxy weights web1=100 web2=1 web3=1 since the last deploy');
    await say(
      carol,
      'confirm H2 haproxy.cfg: web1 weight 100, web2/web3 weight 1; stats show web1 with ~98% of requests',
    );
    await say(alice, 'status identified');
    await say(
      alice,
      'impact About 30% of checkout requests failed or took over 2 s while web1 was saturated',
    );

    // 3. The fix: weights reset (a second recording of the same HAProxy with even weights).
    await replay.close();
    rmSync(lbDir, { recursive: true, force: true });
    replay = await replayRecording(join(RECORDINGS, 'haproxy-healthy-even'), lbDir, new Date(), 60_000);
    await say(carol, 'note Weights reset to 1/1/1 and HAProxy reloaded');
    const before = (await bot.rt.store.entries(id)).length;
    await say(alice, 'diagnose traffic-distribution');
    await waitForEntry(
      async () => (await bot.rt.store.entries(id)).slice(before),
      (e) => e.kind === 'check_result' && e.result.checkId === 'traffic-distribution',
      'the re-run traffic-distribution check',
    );
    log('weights fixed; traffic-distribution re-run on the second recording');
    await say(alice, 'status monitoring');

    // 4. Recovery: Alertmanager sends the resolved group; the team closes.
    await postAlert(base, alertmanagerPayload('resolved', startsAt, new Date()));
    await waitEntry((e) => e.kind === 'alert_resolved', 'the resolved alerts');
    await say(alice, 'status resolved');
    await say(carol, `followup Validate HAProxy weights in CI before deploy <@${carol}>`);
    await say(alice, `followup Alert on per-server share of requests <@${alice}>`);
    await say(alice, 'close Load-balancer weights corrected; traffic evenly spread again');
    const drafted = (await waitEntry(
      (e) => e.kind === 'postmortem_drafted',
      'the postmortem draft',
    )) as Extract<TimelineEntry, { kind: 'postmortem_drafted' }>;
    await waitDelivered(bot.rt, id);

    const entries = await bot.rt.store.entries(id);
    return {
      channelId,
      transcript: sandbox.renderChannel(channelId),
      timeline: entries.map(timelineLine),
      postmortemPath: drafted.path,
      postmortem: readFileSync(drafted.path, 'utf8'),
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    for (const c of cleanups) await c();
    rmSync(work, { recursive: true, force: true });
  }
}

async function postAlert(base: string, payload: unknown): Promise<number> {
  const res = await fetch(`${base}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ALERT_TOKEN}` },
    body: JSON.stringify(payload),
  });
  if (res.status !== 202)
    throw new Error(`the bot answered ${res.status} to the Alertmanager webhook: ${await res.text()}`);
  return res.status;
}

async function waitForEntry(
  read: () => Promise<TimelineEntry[]>,
  pred: (e: TimelineEntry) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<TimelineEntry> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const hit = (await read()).find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 50));
  }
  const seen = (await read()).map((e) =>
    e.kind === 'check_result' ? `check_result(${e.result.checkId}:${e.result.verdict})` : e.kind,
  );
  throw new Error(`demo: timed out waiting for ${what}; the timeline has: ${seen.join(', ')}`);
}

async function waitDelivered(rt: Awaited<ReturnType<typeof startBot>>['rt'], id: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  const inc = id as IncidentId;
  while (Date.now() < deadline) {
    const [len, done] = await Promise.all([rt.store.timelineLength(inc), rt.store.deliveredCursor(inc)]);
    if (done >= len) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type { Sandbox };
