import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { type Sandbox, SlackClientSim, sign, startSandbox } from '../../src/sandbox/index.js';
import { cleanPrefix } from '../support/redis.js';
import {
  type Bench,
  benchPrefix,
  type Child,
  freePort,
  median,
  printTable,
  REDIS_URL,
  SIGNING_SECRET,
  spawnNode,
  until,
  waitHttp,
} from './common.js';
import { unlimited } from './sandbox-limits.js';

const RATES = [50, 200, 500];
const SECONDS = Number(process.env.BENCH_ACK_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ACK_ROUNDS ?? 3);
const CONNECTIONS = 20;
/** A directory: the web process and the bare app write V8 CPU profiles there (see profile-summary.ts). */
const PROFILE_DIR = process.env.BENCH_ACK_PROFILE;
const INCIDENTS = 10;

interface Target {
  name: string;
  url: string;
  /** Command text and channel for request number `i`. */
  command: (i: number) => { text: string; channel: string };
}

/** Form-encoded slash command body as Slack sends it (see SlackClientSim.slashCommand), with a unique trigger id. */
function slashBody(sandbox: Sandbox, user: string, channel: string, text: string, n: number): string {
  return new URLSearchParams({
    token: 'sandbox-verification-token',
    team_id: sandbox.teamId,
    team_domain: 'sandbox',
    channel_id: channel,
    channel_name: 'bench',
    user_id: user,
    user_name: 'alice',
    command: '/incident',
    text,
    api_app_id: sandbox.workspace.appId,
    is_enterprise_install: 'false',
    response_url: `${sandbox.url}/response/bench-${n}`,
    trigger_id: `${Date.now()}.${process.pid}.bench${n}`,
  }).toString();
}

let seq = 0;

/** One autocannon run at `rate` requests/s; every request is signed in `setupRequest` with the current time. */
async function load(sandbox: Sandbox, user: string, t: Target, rate: number, seconds: number) {
  const instance = autocannon({
    url: t.url,
    connections: CONNECTIONS,
    overallRate: rate,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const n = ++seq;
          const { text, channel } = t.command(n);
          const body = slashBody(sandbox, user, channel, text, n);
          const ts = Math.floor(Date.now() / 1000);
          return {
            ...req,
            method: 'POST',
            body,
            headers: {
              'content-type': 'application/x-www-form-urlencoded',
              'x-slack-request-timestamp': String(ts),
              'x-slack-signature': sign(body, ts, SIGNING_SECRET),
            },
          };
        },
      },
    ],
  });
  const r = await instance;
  return {
    target: t.name,
    rate,
    achievedPerS: r.requests.total / r.duration,
    ok2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    maxMs: r.latency.max,
  };
}

/** Ack latency of signed `/incident help` and `/incident note` commands vs a bare Bolt app that only acks. */
export const ackBench: Bench = {
  name: 'ack',
  description: 'ack latency of signed slash commands at fixed rates, next to a bare Bolt app',
  async run() {
    const sandbox = await startSandbox({ port: 0, rateLimits: unlimited() });
    const alice = sandbox.addUser({ name: 'alice' }).id;
    const general = sandbox.addChannel({ name: 'general', members: [alice] }).id;
    const prefix = benchPrefix('ack');
    const [webPort, barePort] = [await freePort(), await freePort()];
    const env = {
      SLACK_BOT_TOKEN: sandbox.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: sandbox.apiUrl,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      POSTMORTEM_DIR: mkdtempSync(join(tmpdir(), 'ib-bench-pm-')),
    };
    const children: Child[] = [];
    const redis = new Redis(REDIS_URL);
    try {
      // (--cpu-prof is refused in NODE_OPTIONS: it goes on the command line.) One directory per
      // process: tsx's loader thread writes a profile too; the main thread's is the large one.
      const prof = (name: string) =>
        PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/${name}`] : [];
      const web = spawnNode('src/web.ts', { ...env, PORT: String(webPort) }, [], prof('web'));
      const bare = spawnNode('test/bench/bare-bolt.ts', { ...env, PORT: String(barePort) }, [], prof('bare'));
      children.push(web, bare);
      // A profiled start (tsx compiling under the profiler) is slow on a busy machine.
      const startMs = PROFILE_DIR ? 120_000 : 30_000;
      await waitHttp(`http://127.0.0.1:${webPort}/healthz`, web, startMs);
      await waitHttp(`http://127.0.0.1:${barePort}/`, bare, startMs);

      // Incidents with channels for `/incident note`: a worker sets them up, then stops, so the
      // measured web process is not sharing the two cores with channel delivery.
      const worker = spawnNode('src/worker.ts', { ...env, PORT: '0' });
      children.push(worker);
      const client = new SlackClientSim({
        appUrl: `http://127.0.0.1:${webPort}/slack/events`,
        signingSecret: SIGNING_SECRET,
        sandbox,
      });
      for (let i = 1; i <= INCIDENTS; i++) {
        const r = await client.slashCommand({
          text: `start sev3 Bench incident ${i}`,
          userId: alice,
          channelId: general,
        });
        if (r.status !== 200) throw new Error(`start answered ${r.status}`);
      }
      const channels = await until(
        `${INCIDENTS} incident channels with pinned summaries`,
        () => {
          const cs = sandbox.channels().filter((c) => c.name.startsWith('inc-') && c.pins.length > 0);
          return cs.length === INCIDENTS && cs.map((c) => c.id);
        },
        60_000,
      );
      await worker.stop();

      const url = (port: number) => `http://127.0.0.1:${port}/slack/events`;
      const help = (_i: number) => ({ text: 'help', channel: general });
      const note = (i: number) => ({ text: `note bench note ${i}`, channel: channels[i % channels.length]! });
      const targets: Target[] = [
        { name: 'bare Bolt (ack only)', url: url(barePort), command: help },
        { name: 'incident-bot help', url: url(webPort), command: help },
        { name: 'incident-bot note', url: url(webPort), command: note },
      ];
      for (const t of targets) await load(sandbox, alice, t, 100, 2); // warm-up: JIT, connections, Redis
      // Rounds interleave the targets so a noisy neighbour hurts all of them alike; each row is the
      // median over rounds (max: the worst round).
      const raw: (Awaited<ReturnType<typeof load>> & { entriesPerIncident: number })[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        for (const rate of RATES) {
          for (const t of targets) {
            const r = await load(sandbox, alice, t, rate, SECONDS);
            // `note` reads and folds the whole timeline, so its cost grows with the entries so far.
            const lens = await Promise.all(
              channels.map((_, i) => redis.llen(`${prefix}:{INC-${i + 1}}:timeline`)),
            );
            raw.push({ ...r, entriesPerIncident: lens.reduce((a, b) => a + b, 0) / lens.length });
          }
        }
      }
      const rows = RATES.flatMap((rate) =>
        targets.map((t) => {
          const rs = raw.filter((r) => r.rate === rate && r.target === t.name);
          const sum = (f: (r: (typeof rs)[number]) => number) => rs.reduce((n, r) => n + f(r), 0);
          return {
            target: t.name,
            rate,
            achievedPerS: median(rs.map((r) => r.achievedPerS)),
            ok2xx: sum((r) => r.ok2xx),
            non2xx: sum((r) => r.non2xx),
            errors: sum((r) => r.errors),
            p50ms: median(rs.map((r) => r.p50ms)),
            p99ms: median(rs.map((r) => r.p99ms)),
            maxMs: Math.max(...rs.map((r) => r.maxMs)),
            entriesAfter: t.name.endsWith('note')
              ? rs.map((r) => Math.round(r.entriesPerIncident)).join('/')
              : '',
          };
        }),
      );
      const ratios = RATES.flatMap((rate) => {
        const base = rows.find((r) => r.rate === rate && r.target.startsWith('bare'))!;
        return rows
          .filter((r) => r.rate === rate && !r.target.startsWith('bare'))
          .map((r) => ({
            target: r.target,
            rate,
            p50Ratio: r.p50ms / Math.max(base.p50ms, 0.001),
            p99Ratio: r.p99ms / Math.max(base.p99ms, 0.001),
            p99ms: r.p99ms,
            p99Under50ms: r.p99ms < 50,
            within1_5xBare: r.p99ms <= 1.5 * base.p99ms,
          }));
      });
      printTable(
        `Ack latency (${SECONDS} s per row, ${CONNECTIONS} connections, autocannon overallRate)`,
        rows,
      );
      printTable('Ack latency vs bare Bolt (ratios, same run)', ratios);
      return {
        seconds: SECONDS,
        rounds: ROUNDS,
        raw,
        connections: CONNECTIONS,
        incidentsForNotes: INCIDENTS,
        rows,
        ratios,
        targetMet: ratios.filter((r) => r.rate === 200).every((r) => r.p99Under50ms && r.within1_5xBare),
      };
    } finally {
      redis.disconnect();
      for (const c of children) await c.stop();
      await sandbox.close();
      await cleanPrefix(prefix);
    }
  },
};
