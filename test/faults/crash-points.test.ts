import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { CHECKPOINTS, type Checkpoint } from '../../src/core/checkpoints.js';
import type { IncidentId } from '../../src/core/incident-model.js';
import type { TimelineEntry } from '../../src/core/timeline.js';
import { createRedis } from '../../src/redis/connection.js';
import { RedisStore } from '../../src/redis/store.js';
import { type Sandbox, SlackClientSim, startSandbox } from '../../src/sandbox/index.js';
import { postAlert, TOKEN } from '../alerts-e2e/support.js';
import { freePort } from '../bench/common.js';
import { unlimited } from '../bench/sandbox-limits.js';
import { eventually } from '../support/eventually.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix } from '../support/redis.js';
import { type Proc, spawnEntry } from './spawn-entry.js';

// Issue: "Kill the process (SIGKILL) at each step boundary of close, declare and alert ingestion:
// after restart, every incident ends in a consistent state." For every step in CHECKPOINTS, the
// process that runs it (web for `/incident start` and `/incident close`, worker for alert
// ingestion) is started with FAULT_CRASH_AT=<step>, driven until it kills itself there (its exit
// with SIGKILL is awaited, not guessed), restarted without the setting, and the real state is
// polled: the store port on the test Redis and the Slack sandbox's workspace and transcript.

const SIGNING_SECRET = 'crash-points-signing-secret-0123456789';
/** The two alerts of every case's group. */
const FINGERPRINTS = ['c0ffee0000000000', 'c0ffee0000000001'];
/** How many cases run at once: each has its own sandbox, prefix and two bot processes; two cores. */
const PARALLEL = Number(process.env.CRASH_POINTS_PARALLEL ?? 4);

type Path = 'slash-start' | 'alert-declare' | 'slash-close' | 'alert-ingest';
interface Case {
  step: Checkpoint;
  path: Path;
  name: string;
}

const outcome: Record<Path, string> = {
  'slash-start':
    'ends, after a restart, as one incident with one channel whose timeline starts with one declared entry',
  'alert-declare':
    'ends, after a restart and the job retry, as one incident for the alert group with one channel and one declared entry',
  'slash-close':
    'ends, after a restart, closed and out of the open and closing indexes with one postmortem draft uploaded once, its alert group released, and a new firing opening a new linked incident',
  'alert-ingest':
    'is ingested once after a restart and the job retry: one incident, one channel, each alert fired once',
};
const trigger: Record<Path, string> = {
  'slash-start': '`/incident start` (web)',
  'alert-declare': 'an alert delivery (worker)',
  'slash-close': '`/incident close` of an alert-opened incident (web)',
  'alert-ingest': 'an alert delivery (worker)',
};
const pathsOf = (step: Checkpoint): Path[] =>
  step.startsWith('declare:')
    ? ['slash-start', 'alert-declare']
    : step.startsWith('close:')
      ? ['slash-close']
      : ['alert-ingest'];
const CASES: Case[] = CHECKPOINTS.flatMap((step) =>
  pathsOf(step).map((path) => ({ step, path, name: `${trigger[path]} killed at ${step} ${outcome[path]}` })),
);

/**
 * The cases in waves of PARALLEL, each wave a suite of concurrent tests (suites run one after the
 * other, so a test's timeout never counts time spent waiting for others). The three cases that wait out
 * the sweeper's 30 s grace for a pending declaration go first, together.
 */
const waitsForGrace = (c: Case) =>
  (c.path === 'slash-start' && c.step !== 'declare:recorded') ||
  (c.path === 'alert-declare' && c.step === 'declare:written');
const ORDERED = [...CASES.filter(waitsForGrace), ...CASES.filter((c) => !waitsForGrace(c))];
const WAVES = Array.from({ length: Math.ceil(ORDERED.length / PARALLEL) }, (_, i) =>
  ORDERED.slice(i * PARALLEL, (i + 1) * PARALLEL),
);

/** CRASH_POINTS_TRACE=1 prints when each phase of a case ends (to see where the time goes). */
const t0 = Date.now();
const trace = (w: { c: Case }, what: string) => {
  if (process.env.CRASH_POINTS_TRACE)
    process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${w.c.path} ${w.c.step}: ${what}\n`);
};

/** Resolves with how the process ended ([code, signal]); already-exited processes resolve at once. */
function exitOf(p: Proc): Promise<[number | null, NodeJS.Signals | null]> {
  const c = p.child;
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve([c.exitCode, c.signalCode]);
  return once(c, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
}

/** Waits for the process to die by SIGKILL (the checkpoint hook), failing with its log if it does not within `ms`. */
async function killedBy(p: Proc, step: string, ms = 45_000): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(
      () =>
        reject(
          new Error(`the process did not kill itself at ${step} within ${ms} ms:\n${p.log().slice(-3000)}`),
        ),
      ms,
    );
  });
  try {
    const [code, signal] = await Promise.race([exitOf(p), timeout]);
    expect({ code, signal }, p.log().slice(-2000)).toEqual({ code: null, signal: 'SIGKILL' });
  } finally {
    clearTimeout(t);
  }
}

/** One case's world: a sandbox workspace, a Redis prefix, a web and a worker process, a store to look through. */
class World {
  sandbox!: Sandbox;
  client!: SlackClientSim;
  redis!: Redis;
  store!: RedisStore;
  prefix: string;
  env!: NodeJS.ProcessEnv;
  webPort = 0;
  web?: Proc;
  worker?: Proc;
  alice = '';
  general = '';
  pmDir = mkdtempSync(join(tmpdir(), 'ib-crash-pm-'));
  private procs: Promise<Proc>[] = [];

  constructor(readonly c: Case) {
    this.prefix = testPrefix(`crash-${c.step.replace(':', '-')}`);
  }

  async start(): Promise<void> {
    this.sandbox = await startSandbox({ port: 0, rateLimits: unlimited() });
    this.alice = this.sandbox.addUser({ name: 'alice' }).id;
    this.general = this.sandbox.addChannel({ name: 'general', members: [this.alice] }).id;
    this.webPort = await freePort();
    this.env = {
      SLACK_BOT_TOKEN: this.sandbox.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: this.sandbox.apiUrl,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: this.prefix,
      ALERT_WEBHOOK_TOKEN: TOKEN,
      // Alice closes alert-declared incidents nobody took command of: she is an incident admin.
      INCIDENT_ADMINS: this.alice,
      POSTMORTEM_DIR: this.pmDir,
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      // A killed worker's job is retried once its lock expires; the sweeper runs every second.
      JOB_LOCK_SECONDS: '2',
      SWEEP_SECONDS: '1',
      CHANNEL_SETUP_WINDOW_SECONDS: '1',
    };
    this.redis = createRedis(TEST_REDIS_URL, 'worker');
    this.store = new RedisStore(this.redis, this.prefix);
    this.client = new SlackClientSim({
      appUrl: `http://127.0.0.1:${this.webPort}/slack/events`,
      signingSecret: SIGNING_SECRET,
      sandbox: this.sandbox,
    });
    const faultIn = this.c.path.startsWith('slash') ? 'web' : 'worker';
    const fault = { FAULT_CRASH_AT: this.c.step };
    const [web, worker] = await Promise.allSettled([
      this.spawn('web', faultIn === 'web' ? fault : {}),
      this.spawn('worker', faultIn === 'worker' ? fault : {}),
    ]);
    for (const r of [web, worker]) if (r.status === 'rejected') throw r.reason;
    trace(this, 'started');
  }

  /** Starts `entry` (with `extra` settings) and makes it the world's web or worker process. */
  async spawn(entry: 'web' | 'worker', extra: NodeJS.ProcessEnv = {}): Promise<Proc> {
    const p =
      entry === 'web'
        ? spawnEntry('web', { ...this.env, PORT: String(this.webPort), ...extra }, 'web listening')
        : spawnEntry('worker', { ...this.env, PORT: '0', ...extra }, 'workers started');
    this.procs.push(p);
    this[entry] = await p;
    return this[entry]!;
  }

  /** Waits for `entry` to kill itself at the case's step, then starts it again without FAULT_CRASH_AT. */
  async crashAndRestart(entry: 'web' | 'worker'): Promise<void> {
    await killedBy(this[entry]!, this.c.step);
    trace(this, `${entry} killed`);
    await this.spawn(entry);
    trace(this, `${entry} restarted`);
  }

  async close(): Promise<void> {
    await Promise.all(
      this.procs.map((p) =>
        p.then(
          (x) => x.stop(),
          () => {},
        ),
      ),
    );
    await this.sandbox?.close();
    this.redis?.disconnect();
    await cleanPrefix(this.prefix);
    rmSync(this.pmDir, { recursive: true, force: true });
  }

  entries(id: string): Promise<TimelineEntry[]> {
    return this.store.entries(id as IncidentId);
  }

  /** Posts an Alertmanager v4 webhook for the case's group, its two alerts firing since `startsAt`. */
  async fire(startsAt: string): Promise<{ groupId: string; deliveryId: string }> {
    const service = `lb-${this.c.step.replace(':', '-')}`;
    const labels = { alertname: 'Backend5xx', service, severity: 'critical' };
    const body = {
      version: '4',
      groupKey: `{}/{severity="critical"}:{alertname="Backend5xx", service="${service}"}`,
      truncatedAlerts: 0,
      status: 'firing',
      receiver: 'incident-bot',
      groupLabels: { alertname: 'Backend5xx', service },
      commonLabels: labels,
      commonAnnotations: { summary: `${service}: 502s behind the load balancer` },
      externalURL: 'http://alertmanager:9093',
      alerts: [0, 1].map((i) => ({
        status: 'firing',
        labels: { ...labels, instance: `10.2.0.${i}:8080` },
        annotations: { summary: `${service}: 502s behind the load balancer`, description: `backend ${i}` },
        startsAt,
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint: FINGERPRINTS[i],
      })),
    };
    const res = await postAlert(`http://127.0.0.1:${this.webPort}`, 'alertmanager', body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return { groupId: res.body.groupId, deliveryId: res.body.deliveryId };
  }

  /** Polls until the incident has its channel and pinned summary and every entry is delivered; returns its timeline. */
  async settled(id: string, timeoutMs = 60_000): Promise<TimelineEntry[]> {
    return eventually(async () => {
      const es = await this.entries(id);
      expect(
        es.some((e) => e.kind === 'summary_posted'),
        `${id} has its pinned summary`,
      ).toBe(true);
      expect(await this.store.deliveredCursor(id as IncidentId), `${id} delivered`).toBe(es.length);
      return es;
    }, timeoutMs);
  }

  createdChannels(): number {
    return this.sandbox.transcriptFor('conversations.create').filter((e) => e.ok).length;
  }
}

const kinds = (es: TimelineEntry[], kind: TimelineEntry['kind']) => es.filter((e) => e.kind === kind);
const channelIdOf = (es: TimelineEntry[]) =>
  (es.find((e) => e.kind === 'channel_created') as Extract<TimelineEntry, { kind: 'channel_created' }>)
    .channelId;

/** One incident, one channel, a timeline that starts with its one declared entry, nothing left pending. */
async function expectOneDeclaredIncident(w: World, title: RegExp): Promise<TimelineEntry[]> {
  const es = await w.settled('INC-1');
  trace(w, 'INC-1 settled');
  await eventually(async () => expect(await w.store.pendingDeclarations()).toEqual([]), 60_000, 250);
  trace(w, 'no declaration pending');
  expect(await w.store.allIncidents()).toEqual(['INC-1']);
  expect(await w.store.openIncidents()).toEqual(['INC-1']);
  expect(es[0]?.kind).toBe('declared');
  expect(kinds(es, 'declared')).toHaveLength(1);
  expect((es[0] as Extract<TimelineEntry, { kind: 'declared' }>).title).toMatch(title);
  expect(kinds(es, 'channel_created')).toHaveLength(1);
  expect(kinds(es, 'summary_posted')).toHaveLength(1);
  expect(kinds(es, 'job_failed')).toEqual([]);
  expect(w.createdChannels()).toBe(1);
  const channels = w.sandbox.channels().filter((c) => c.name.startsWith('inc-'));
  expect(channels.map((c) => c.id)).toEqual([channelIdOf(es)]);
  expect(channels[0]!.pins).toHaveLength(1);
  return es;
}

/** The group's one incident: the delivery ingested to its last step, each alert fired once, bound to the group. */
async function expectAlertsOnce(w: World, groupId: string): Promise<void> {
  // The states are saved last (after the appends): once they are, the delivery is fully ingested.
  await eventually(
    async () => {
      const states = await w.store.alertStates('INC-1', groupId);
      expect(Object.keys(states).sort()).toEqual(FINGERPRINTS);
      expect(Object.values(states).map((s) => s.status)).toEqual(['firing', 'firing']);
    },
    60_000,
    100,
  );
  const es = await expectOneDeclaredIncident(w, /Backend5xx|502s/);
  expect(await w.store.boundIncident(groupId)).toBe('INC-1');
  const fired = kinds(es, 'alert_fired') as Extract<TimelineEntry, { kind: 'alert_fired' }>[];
  expect(fired.map((e) => e.fingerprint).sort()).toEqual(FINGERPRINTS);
}

async function slashStart(w: World): Promise<void> {
  const died = killedBy(w.web!, w.c.step);
  died.catch(() => {});
  // The web process dies inside the request: Slack sees no answer and, for a slash command, does not retry.
  const answer = await w.client
    .slashCommand({
      text: 'start sev2 Checkout 502s after the LB change',
      userId: w.alice,
      channelId: w.general,
    })
    .then(
      (r) => r.status,
      () => 'no answer',
    );
  await died;
  trace(w, 'web killed');
  expect(answer).toBe('no answer');
  await w.spawn('web');
  trace(w, 'web restarted');
  await expectOneDeclaredIncident(w, /Checkout 502s/);
}

async function alertDriven(w: World): Promise<void> {
  const { groupId } = await w.fire('2024-05-01T10:00:00Z');
  await w.crashAndRestart('worker');
  await expectAlertsOnce(w, groupId);
}

async function slashClose(w: World): Promise<void> {
  const { groupId } = await w.fire('2024-05-01T10:00:00Z');
  const opened = await w.settled('INC-1');
  trace(w, 'INC-1 opened');
  const channel = channelIdOf(opened);
  expect(await w.store.boundIncident(groupId)).toBe('INC-1');

  const died = killedBy(w.web!, w.c.step);
  died.catch(() => {});
  const answer = await w.client
    .slashCommand({ text: 'close rolled back the pool weights', userId: w.alice, channelId: channel })
    .then(
      (r) => r.status,
      () => 'no answer',
    );
  await died;
  trace(w, 'web killed');
  expect(answer).toBe('no answer');
  await w.spawn('web');
  trace(w, 'web restarted');

  // The sweeper (worker) finishes what the close owed: indexes, group, the draft, its upload.
  const es = await eventually(
    async () => {
      const inc = await w.store.current('INC-1');
      expect(inc?.status).toBe('closed');
      expect(await w.store.openIncidents()).not.toContain('INC-1');
      expect(await w.store.closingIncidents()).not.toContain('INC-1');
      const meta = await w.store.meta('INC-1');
      expect(meta['close-owed']).toBeUndefined();
      expect(meta['postmortem-owed']).toBeUndefined();
      const es = await w.entries('INC-1');
      expect(kinds(es, 'postmortem_drafted')).toHaveLength(1);
      expect(await w.store.deliveredCursor('INC-1')).toBe(es.length);
      expect(w.sandbox.files(channel)).toHaveLength(1);
      return es;
    },
    60_000,
    100,
  );
  trace(w, 'close finished');
  expect(kinds(es, 'closed')).toHaveLength(1);
  expect(kinds(es, 'job_failed')).toEqual([]);
  const drafted = kinds(es, 'postmortem_drafted')[0] as Extract<
    TimelineEntry,
    { kind: 'postmortem_drafted' }
  >;
  expect(existsSync(drafted.path)).toBe(true);
  expect(w.sandbox.files(channel)[0]!.title).toContain('INC-1');
  expect(await w.store.boundIncident(groupId)).toBeUndefined();

  // The person closing it again is told it is closed; nothing is done twice.
  const retry = await w.client.slashCommand({ text: 'close', userId: w.alice, channelId: channel });
  expect(JSON.stringify(retry.body)).toMatch(/INC-1 is closed/);

  // The group fires again (a new episode): a new incident with its own channel, linked to the old one.
  await w.fire('2024-05-01T12:00:00Z');
  const next = await w.settled('INC-2');
  trace(w, 'INC-2 opened');
  const declared = next[0] as Extract<TimelineEntry, { kind: 'declared' }>;
  expect(declared.kind).toBe('declared');
  expect(declared.relatedIncidentId).toBe('INC-1');
  expect(declared.alertGroupId).toBe(groupId);
  expect(channelIdOf(next)).not.toBe(channel);
  expect(await w.store.boundIncident(groupId)).toBe('INC-2');
  expect(kinds(next, 'alert_fired')).toHaveLength(2);

  // Still once, after all of that: the closed incident's entries, draft and upload.
  const after = await w.entries('INC-1');
  expect(kinds(after, 'closed')).toHaveLength(1);
  expect(kinds(after, 'postmortem_drafted')).toHaveLength(1);
  expect(w.sandbox.files(channel)).toHaveLength(1);
  expect(await w.store.allIncidents()).toEqual(['INC-1', 'INC-2']);
  expect(await w.store.openIncidents()).toEqual(['INC-2']);
  expect(w.createdChannels()).toBe(2);
}

const run: Record<Path, (w: World) => Promise<void>> = {
  'slash-start': slashStart,
  'alert-declare': alertDriven,
  'slash-close': slashClose,
  'alert-ingest': alertDriven,
};

describe('every multi-step transition killed at each of its step boundaries', () => {
  it('has a crash case for every checkpoint the code declares', () => {
    expect(new Set(CASES.map((c) => c.step))).toEqual(new Set(CHECKPOINTS));
  });

  WAVES.forEach((wave, i) => {
    describe(`SIGKILL at one step, restart without the fault (${i + 1} of ${WAVES.length})`, () => {
      for (const c of wave) {
        // Generous for a shared, loaded machine: on an idle one a case takes well under a minute.
        it.concurrent(c.name, async () => {
          const w = new World(c);
          try {
            trace(w, 'begins');
            await w.start();
            await run[c.path](w);
          } finally {
            await w.close();
            trace(w, 'closed');
          }
        }, 240_000);
      }
    });
  });
});
