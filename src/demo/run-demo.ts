import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { parse } from 'yaml';
import type { IncidentId } from '../core/incident-model.js';
import { humanDuration } from '../core/postmortem/index.js';
import type { TimelineEntry } from '../core/timeline.js';
import { QUEUE_OF } from '../jobs/queues.js';
import { startBot } from '../process.js';
import { type Sandbox, SlackClientSim, startSandbox } from '../sandbox/index.js';
import { timelineLine } from '../slack/render.js';
import { VirtualClock } from './clock.js';
import { demoRedis } from './redis.js';
import { replayRecording } from './replay.js';
import { DEFAULT_SEED, type Person, type SeedStory, seedStory } from './seeds.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RECORDINGS = join(ROOT, 'test/fixtures/diagnostics/recordings');
const SECRET = 'demo-signing-secret-0123456789';
const ALERT_TOKEN = 'demo-alert-token-0123456789abcdef';

/** What the demo reports when it is done. */
export interface DemoResult {
  seed: SeedStory;
  channelId: string;
  transcript: string;
  timeline: string[];
  postmortemPath: string;
  postmortem: string;
  /** Real seconds the replay took. */
  seconds: number;
  /** Virtual time of the first load-balancer check that failed: when the checklist showed the cause. */
  checklistShowedAt: Date;
  /** The check and its summary. */
  checklistFinding: string;
  /** The demo's closing line for this seed: when the seed's team found the cause, and when the checklist showed it. */
  summaryLine: string;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** `000`…`004` (default 001). */
  seed?: string;
  log?: (line: string) => void;
  /** Real seconds the waits between the story's events should take in all (default 6). */
  fastForwardSeconds?: number;
  /** Called once the Slack sandbox runs (before anything is posted): its web page is at `${sandbox.url}/workspace`. */
  onSandbox?: (sandbox: Sandbox) => void | Promise<void>;
  /** Called when the draft is written, before the sandbox and the bot stop (e.g. to keep the page up, or take a screenshot). */
  beforeClose?: (sandbox: Sandbox, result: DemoResult) => void | Promise<void>;
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

/** An Alertmanager v4 webhook for a seed's latency and 5xx alerts on `service` (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export function alertmanagerPayload(
  status: 'firing' | 'resolved',
  startsAt: Date,
  endsAt?: Date,
  service = 'checkout',
) {
  const common = { job: service, service, env: 'prod', cluster: 'eu-1' };
  const alert = (alertname: string, severity: string, summary: string, description: string, fp: string) => ({
    status,
    labels: { alertname, severity, ...common },
    annotations: { summary, description, runbook_url: `https://runbooks.example.com/${service}-latency` },
    startsAt: startsAt.toISOString(),
    endsAt: endsAt ? endsAt.toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: `http://prometheus.example.com/graph?g0.expr=job%3A${service}_5xx_ratio%3Arate5m+%3E+0.05`,
    fingerprint: fp,
  });
  return {
    version: '4',
    groupKey: `{}/{job="${service}"}:{alertname=~"HighErrorRate|HighLatency"}`,
    truncatedAlerts: 0,
    status,
    receiver: 'incident-bot',
    groupLabels: { job: service },
    commonLabels: common,
    commonAnnotations: {},
    externalURL: 'http://alertmanager.example.com',
    alerts: [
      alert(
        'HighErrorRate',
        'critical',
        `5xx ratio above 5% on ${service}`,
        `job:${service}_5xx_ratio:rate5m = 0.31 for 5 minutes`,
        'a1f3c9d2e4b56781',
      ),
      alert(
        'HighLatency',
        'warning',
        `p99 latency above 2 s on ${service}`,
        'histogram_quantile(0.99, …) = 4.2 s',
        'b2e4d6f8a0c13579',
      ),
    ],
  };
}

const LB_CHECKS = new Set(['traffic-distribution', 'routing', 'pool-health']);
const PEOPLE: Record<Person, string> = {
  alice: 'Alice (SRE on call)',
  bob: 'Bob (backend and database)',
  carol: 'Carol (infrastructure)',
  dave: 'Dave (network)',
  erin: 'Erin (engineering manager)',
};

const hhmm = (d: Date) => `${d.toISOString().slice(11, 16)} UTC`;

/**
 * Replays one seed postmortem through the real bot on a virtual clock: web and worker on Redis with
 * the clock as their `now`, the Slack sandbox on the same clock, the seed's Alertmanager webhook at
 * its time, checks against a recording of a real HAProxy with the seed's fault (moved to the
 * virtual minutes before the alert), the team's commands at the times the postmortem gives, the
 * fix (a recording with an even spread), recovery, close and the postmortem draft. Delayed jobs
 * (reminders, escalation) fire when the virtual clock reaches them.
 */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const seed = seedStory(opts.seed ?? DEFAULT_SEED);
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const notifiedAt = new Date(seed.notifiedAt);
  const startsAt = new Date(seed.startsAt);
  const lastAt = new Date(seed.steps.at(-1)!.at);
  const rate = Math.max(
    1,
    (lastAt.getTime() - notifiedAt.getTime()) / ((opts.fastForwardSeconds ?? 6) * 1000),
  );
  const clock = new VirtualClock(new Date(notifiedAt.getTime() - 1000));
  const work = mkdtempSync(join(tmpdir(), 'incident-bot-demo-'));
  const redis = await demoRedis();
  const sandbox = await startSandbox({ port: 0, now: () => clock.ms() });
  const cleanups: (() => unknown)[] = [() => sandbox.close(), () => redis.stop()];
  try {
    const ids = Object.fromEntries(
      (Object.keys(PEOPLE) as Person[]).map((p) => [p, sandbox.addUser({ name: p, realName: PEOPLE[p] }).id]),
    ) as Record<Person, string>;
    const announce = sandbox.addChannel({
      name: 'incidents',
      members: [sandbox.botUserId, ...Object.values(ids)],
    }).id;
    await opts.onSandbox?.(sandbox);

    const lbDir = join(work, 'lb');
    // Forty minutes of traffic before the alert: the traffic-volume check needs the window before its own.
    let replay = await replayRecording(join(RECORDINGS, seed.fault), lbDir, clock.now(), 40 * 60_000);
    cleanups.unshift(() => replay.close());
    // The database probe runs against a real PostgreSQL when one listens locally; otherwise it is left out.
    const hasPostgres = await tcpAnswers('127.0.0.1', 5432);
    const targets = join(work, 'targets.yml');
    // The recording's own targets file names the log format it was written with (nginx).
    const recorded = parse(readFileSync(join(RECORDINGS, seed.fault, 'targets.yml'), 'utf8')) as {
      loadBalancers: { logFormat?: string }[];
    };
    const lb =
      replay.kind === 'haproxy'
        ? [
            '  - name: edge',
            '    kind: haproxy',
            `    stats: ${join(lbDir, 'stats-2.csv')}`,
            `    log: ${join(lbDir, 'haproxy.log')}`,
            `    config: ${join(lbDir, 'haproxy.cfg')}`,
          ]
        : [
            '  - name: edge',
            '    kind: nginx',
            `    accessLog: ${join(lbDir, 'access.log')}`,
            // A JSON string is a YAML string too.
            `    logFormat: ${JSON.stringify(recorded.loadBalancers[0]?.logFormat ?? '')}`,
            `    config: ${join(lbDir, 'nginx.conf')}`,
          ];
    writeFileSync(
      targets,
      [
        'loadBalancers:',
        ...lb,
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
      INCIDENT_RESPONDERS: [ids.alice, ids.bob].join(','),
      INCIDENT_ANNOUNCE_CHANNEL: announce,
      INCIDENT_ESCALATION_USERS: ids.erin,
      ALERT_WEBHOOK_TOKEN: ALERT_TOKEN,
      DIAGNOSTICS_CONFIG: targets,
      // Hourly status nudges keep a day-long replay readable; escalation keeps the SEV1 default (5 min).
      REMINDER_MINUTES: 'SEV1=60,SEV2=60,SEV3=120,SEV4=0',
      POSTMORTEM_DIR: process.env.POSTMORTEM_DIR ?? join(ROOT, 'postmortems'),
    };
    const bot = await startBot({ env, now: clock.now });
    const delays = virtualDelays(bot.rt, clock);
    cleanups.unshift(async () => {
      delays.stop();
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
      `seed ${seed.id}: ${seed.title}; web + worker on ${base}, Redis ${redis.url}${redis.started ? ' (started for the demo)' : ''}, Slack sandbox ${sandbox.url}; virtual clock from ${clock.now().toISOString()}, waits ${Math.round(rate)}x faster`,
    );

    // 1. Alertmanager fires at the seed's time.
    await clock.fastForward(notifiedAt, rate);
    await postAlert(base, alertmanagerPayload('firing', startsAt, undefined, seed.service));
    const created = await sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok, {
      timeoutMs: 20_000,
    });
    const channelId = sandbox.channelByName(String(created.args.name))!.id;
    log(`${hhmm(clock.now())} alerts fired; channel #${created.args.name} opened`);
    // The worker indexes the channel right after Slack created it.
    let id = await bot.rt.store.incidentByChannel(channelId);
    for (let i = 0; !id && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 25));
      id = await bot.rt.store.incidentByChannel(channelId);
    }
    if (!id) throw new Error('demo: the channel was created but never linked to an incident');
    const incId = id;
    const waitEntry = (pred: (e: TimelineEntry) => boolean, what: string) =>
      waitForEntry(() => bot.rt.store.entries(incId), pred, what);
    // The story starts once the load-balancer checks have all reported (the targets give each its input).
    const lbResults = async () => {
      const got = new Map<string, Extract<TimelineEntry, { kind: 'check_result' }>>();
      for (const e of await bot.rt.store.entries(incId))
        if (e.kind === 'check_result' && LB_CHECKS.has(e.result.checkId) && !got.has(e.result.checkId))
          got.set(e.result.checkId, e);
      return [...got.values()];
    };
    await waitForEntry(
      async () => ((await lbResults()).length === LB_CHECKS.size ? await bot.rt.store.entries(incId) : []),
      (e) => e.kind === 'check_result',
      'the load-balancer checks (traffic-distribution, routing, pool-health)',
    );
    const finding = (await lbResults())
      .filter((e) => e.result.verdict === 'fail')
      // The traffic split or the route names the fault better than pool health; take the earliest of those.
      .sort(
        (a, b) =>
          Number(a.result.checkId === 'pool-health') - Number(b.result.checkId === 'pool-health') ||
          a.seq - b.seq,
      )[0];
    if (!finding) throw new Error(`demo: no load-balancer check failed on the ${seed.fault} recording`);
    log(
      `${hhmm(new Date(finding.at))} checklist: ${finding.result.checkId} ${finding.result.verdict}: ${finding.result.summary}`,
    );

    const say = async (who: Person, text: string) => {
      const withIds = text.replace(/<@(alice|bob|carol|dave|erin)>/g, (_m, p: Person) => `<@${ids[p]}>`);
      const res = await slack.slashCommand({ text: withIds, userId: ids[who], channelId });
      // A refused request (401, 5xx) would leave the story silently short of this step.
      if (res.status !== 200) throw new Error(`demo: /incident ${text} was answered ${res.status}`);
    };
    // 2. The team's story, each step at its time.
    for (const step of seed.steps) {
      await delays.advanceTo(new Date(step.at), rate, () => waitDelivered(bot.rt, incId));
      if ('say' in step) {
        await say(step.who, step.say);
        log(`${hhmm(clock.now())} ${step.who}: /incident ${step.say}`);
      } else if ('fix' in step) {
        // The fix: the load balancer as it was recorded after the change (even spread).
        await replay.close();
        rmSync(lbDir, { recursive: true, force: true });
        replay = await replayRecording(join(RECORDINGS, seed.fixed), lbDir, clock.now(), 60_000);
        await say(step.who, `note ${step.fix}`);
        const before = (await bot.rt.store.entries(incId)).length;
        await say(step.who, `diagnose ${finding.result.checkId}`);
        await waitForEntry(
          async () => (await bot.rt.store.entries(incId)).slice(before),
          (e) => e.kind === 'check_result' && e.result.checkId === finding.result.checkId,
          'the re-run check after the fix',
        );
        log(
          `${hhmm(clock.now())} ${step.who}: ${step.fix}; ${finding.result.checkId} re-run on the fixed load balancer`,
        );
      } else {
        await postAlert(base, alertmanagerPayload('resolved', startsAt, clock.now(), seed.service));
        await waitEntry((e) => e.kind === 'alert_resolved', 'the resolved alerts');
        log(`${hhmm(clock.now())} alerts resolved`);
      }
      await waitDelivered(bot.rt, incId);
    }
    const drafted = (await waitEntry(
      (e) => e.kind === 'postmortem_drafted',
      'the postmortem draft',
    )) as Extract<TimelineEntry, { kind: 'postmortem_drafted' }>;
    await waitDelivered(bot.rt, incId);

    const entries = await bot.rt.store.entries(incId);
    const showed = new Date(finding.at);
    const found = new Date(seed.teamFoundAt);
    const since = (d: Date, from: Date) => humanDuration(Math.max(0, (d.getTime() - from.getTime()) / 1000));
    const result: DemoResult = {
      seed,
      channelId,
      transcript: sandbox.renderChannel(channelId),
      timeline: entries.map(timelineLine),
      postmortemPath: drafted.path,
      postmortem: readFileSync(drafted.path, 'utf8'),
      seconds: (Date.now() - t0) / 1000,
      checklistShowedAt: showed,
      checklistFinding: `${finding.result.checkId} ${finding.result.verdict}: ${finding.result.summary}`,
      summaryLine: `seed ${seed.id}: the team found the cause at ${hhmm(found)}, ${since(found, startsAt)} after the first alert (${seed.teamFoundNote}); the checklist showed it at ${hhmm(showed)}, ${since(showed, notifiedAt)} after the alerts reached the bot (${finding.result.checkId} ${finding.result.verdict})`,
    };
    await opts.beforeClose?.(sandbox, result);
    return result;
  } finally {
    for (const c of cleanups) await c();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Delayed jobs on the virtual clock; see {@link virtualDelays}. */
interface VirtualDelays {
  /** Fast-forwards to `t`, stopping at each delayed job due before it: promoted, run and settled at its own time. */
  advanceTo(t: Date, rate: number, settle: () => Promise<void>): Promise<void>;
  stop(): void;
}

/**
 * Makes BullMQ delays follow the virtual clock: a delayed job (reminder, escalation) is noted with
 * its virtual due time and promoted when the clock reaches it, so an hour-long wait passes in the
 * real milliseconds the clock takes to cover an hour. While fast-forwarding, the clock stops at each
 * due time until that job has run and its posts are out, so a nudge is stamped when it was due.
 * Patches the one Jobs instance every part of the bot shares (web and worker deps both hold it).
 */
function virtualDelays(rt: Awaited<ReturnType<typeof startBot>>['rt'], clock: VirtualClock): VirtualDelays {
  const jobs = rt.jobs;
  const pending = new Map<string, { name: keyof typeof QUEUE_OF; due: number }>();
  const enqueue = jobs.enqueue.bind(jobs);
  const remove = jobs.remove.bind(jobs);
  jobs.enqueue = (async (name, payload, o = {}) => {
    if (o.delay && o.delay > 0 && o.jobId) pending.set(o.jobId, { name, due: clock.ms() + o.delay });
    return enqueue(name, payload, o);
  }) as typeof jobs.enqueue;
  jobs.remove = async (name, jobId) => {
    pending.delete(jobId);
    return remove(name, jobId);
  };
  /** Promotes every job due by now; with `wait`, resolves once each has finished (at most 5 s each). */
  const promoteDue = async (wait: boolean) => {
    const now = clock.ms();
    for (const [jobId, p] of pending) {
      if (p.due > now) continue;
      pending.delete(jobId);
      const job = await jobs.queues[QUEUE_OF[p.name]].getJob(jobId);
      if (!job || !(await job.isDelayed())) continue;
      await job.promote().catch(() => {});
      const deadline = Date.now() + 5000;
      while (wait && Date.now() < deadline) {
        const state = await job.getState();
        if (state === 'completed' || state === 'failed' || state === 'unknown') break;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  let busy = false;
  // At real speed (while the bot works) due jobs are promoted as they come.
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      await promoteDue(false);
    } catch {
      // Redis going away at shutdown: nothing left to promote.
    } finally {
      busy = false;
    }
  }, 20);
  return {
    async advanceTo(t, rate, settle) {
      const target = t.getTime();
      for (;;) {
        const next = Math.min(...[...pending.values()].map((p) => p.due));
        if (!(next < target)) break;
        await clock.fastForward(new Date(next), rate);
        await promoteDue(true);
        await settle();
      }
      await clock.fastForward(t, rate);
    },
    stop: () => clearInterval(timer),
  };
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
