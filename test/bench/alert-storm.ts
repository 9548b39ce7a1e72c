import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { keys } from '../../src/redis/keys.js';
import { bullPrefix } from '../../src/redis/store.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { cleanPrefix } from '../support/redis.js';
import {
  type Bench,
  benchPrefix,
  type Child,
  freePort,
  median,
  printTable,
  quantile,
  REDIS_URL,
  ROOT,
  SIGNING_SECRET,
  spawnNode,
  until,
  waitHttp,
} from './common.js';
import { unlimited } from './sandbox-limits.js';

const DELIVERIES = Number(process.env.BENCH_STORM_DELIVERIES ?? 20_000);
const GROUPS = 500;
const SENDERS = 64;
const TOKEN = 'bench-alert-webhook-token-0123456789';
const ROUTE = '/alerts/alertmanager';
/** How long to wait for all incidents and channels before reporting what exists by then (s). */
const DEADLINE_S = Number(process.env.BENCH_STORM_DEADLINE_S ?? 180);

/** An Alertmanager v4 webhook body for group `g`, its `k`-th distinct notification (1–4 instances firing). */
export function alertmanagerBody(g: number, k: number): string {
  const service = `svc-${g}`;
  const labels = { alertname: 'StormErrors', service, severity: 'critical' };
  const alerts = Array.from({ length: (k % 4) + 1 }, (_, i) => ({
    status: 'firing',
    labels: { ...labels, instance: `10.1.${g % 250}.${i}:8080` },
    annotations: { summary: `${service} 5xx above 5%`, description: `5xx ratio sample ${k}` },
    startsAt: new Date(Date.UTC(2024, 4, 1, 10, 0, i)).toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: `http://prometheus:9090/graph?g=${g}`,
    fingerprint: `${g.toString(16).padStart(8, '0')}${i.toString(16).padStart(8, '0')}`,
  }));
  return JSON.stringify({
    version: '4',
    groupKey: `{}/{severity="critical"}:{alertname="StormErrors", service="${service}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'incident-bot',
    groupLabels: { alertname: 'StormErrors', service },
    commonLabels: labels,
    commonAnnotations: { summary: `${service} 5xx above 5%` },
    externalURL: 'http://alertmanager:9093',
    alerts,
  });
}

/**
 * The storm: `n` deliveries over `groups` groups, a fifth of them exact re-sends of an earlier
 * delivery (Alertmanager retrying after a timeout), shuffled with a fixed seed. Another `variant`
 * gives the same storm with other bodies (for repeated rounds into the same processes).
 */
export function stormDeliveries(n: number, groups: number, variant = 0): string[] {
  let seed = 42;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const unique = Math.round(n * 0.8);
  const out: string[] = [];
  // `variant` shifts the sample numbers by a multiple of 4 (same alert counts, other bodies).
  const k0 = variant * 1_000_000;
  for (let i = 0; i < unique; i++) out.push(alertmanagerBody(i % groups, k0 + Math.floor(i / groups)));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  // Each duplicate goes somewhere after its original.
  for (let d = 0; d < n - unique; d++) {
    const orig = Math.floor(rnd() * out.length);
    const at = orig + 1 + Math.floor(rnd() * (out.length - orig));
    out.splice(at, 0, out[orig]!);
  }
  return out;
}

/**
 * One keep-alive HTTP/1.1 connection that sends one request at a time (as Alertmanager does) and
 * reads just the status line and `Content-Length` of each answer. The load generator shares the
 * two cores with the web processes and Redis, so it has to be cheap: `fetch` (undici) spends about
 * 0.8 ms of CPU per request here, this about 50–65 µs (BENCHMARKS.md has both).
 */
class Connection {
  private socket: Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (status: number) => void; reject: (err: Error) => void } | undefined;

  constructor(private readonly url: URL) {}

  private connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(this.url.port), this.url.hostname, () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.on('data', (d: Buffer) => this.onData(d));
      socket.on('error', () => {});
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        this.buffered = Buffer.alloc(0);
        this.waiting?.reject(new Error('connection closed'));
        this.waiting = undefined;
      });
    });
  }

  private onData(d: Buffer) {
    this.buffered = this.buffered.length > 0 ? Buffer.concat([this.buffered, d]) : d;
    const end = this.buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = this.buffered.toString('latin1', 0, end);
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    if (!status || !length) {
      this.socket?.destroy();
      return;
    }
    const total = end + 4 + Number(length[1]);
    if (this.buffered.length < total) return;
    this.buffered = this.buffered.subarray(total);
    const waiting = this.waiting;
    this.waiting = undefined;
    if (/\r\nconnection: *close/i.test(head)) this.socket?.end();
    waiting?.resolve(Number(status[1]));
  }

  /** Sends a request: `head` (request line and headers up to `Content-Length: `), then `rest`. */
  async post(head: Buffer, rest: Buffer): Promise<number> {
    this.socket ??= await this.connect();
    const socket = this.socket;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      // One write (one TCP segment), as Go's HTTP client sends a small request.
      socket.cork();
      socket.write(head);
      socket.write(rest);
      socket.uncork();
    });
  }

  close() {
    this.socket?.end();
  }
}

/** `BENCH_STORM_CLIENT=fetch` sends with `fetch` instead, to compare the load generator's cost. */
const CLIENT = process.env.BENCH_STORM_CLIENT === 'fetch' ? 'fetch' : 'keep-alive';

/**
 * Sends every body with `senders` concurrent loops (one connection per loop and URL), round-robin
 * over `urls`; counts HTTP statuses and per-delivery latencies.
 */
async function send(urls: string[], bodies: Buffer[], senders: number) {
  let next = 0;
  const statuses: Record<string, number> = {};
  const latencies: number[] = [];
  // Built before the clock starts: each URL's request head, and each body after its length.
  const heads = urls.map((u) => {
    const url = new URL(u);
    return Buffer.from(
      `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
        `Authorization: Bearer ${TOKEN}\r\nContent-Length: `,
      'latin1',
    );
  });
  const rests = bodies.map((b) => Buffer.concat([Buffer.from(`${b.length}\r\n\r\n`, 'latin1'), b]));
  const conns = Array.from({ length: senders }, () => urls.map((u) => new Connection(new URL(u))));
  const loop = async (s: number) => {
    for (;;) {
      const i = next++;
      if (i >= bodies.length) return;
      const t0 = performance.now();
      let status = 'error';
      try {
        const u = (i + s) % urls.length;
        if (CLIENT === 'fetch') {
          const res = await fetch(urls[u]!, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
            body: bodies[i],
          });
          await res.arrayBuffer();
          status = String(res.status);
        } else {
          status = String(await conns[s]![u]!.post(heads[u]!, rests[i]!));
        }
      } catch {
        // counted as "error"
      }
      latencies.push(performance.now() - t0);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: senders }, (_, s) => loop(s)));
  } finally {
    for (const c of conns.flat()) c.close();
  }
  latencies.sort((a, b) => a - b);
  return {
    ms: performance.now() - t0,
    statuses,
    p50ms: quantile(latencies, 0.5),
    p99ms: quantile(latencies, 0.99),
  };
}

/** CPU time (user + system, µs) a process has used so far; NaN where there is no /proc. */
function processCpuUs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU time (µs) the Redis server has used so far (all its clients: other jobs on a shared Redis count too). */
async function redisCpuUs(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)?.[1] ?? Number.NaN);
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6;
}

/** CPU used by each party while `run` runs, in µs per item: this process, the `pids`, and Redis. */
async function cpuPer<T>(redis: Redis, pids: (number | undefined)[], items: number, run: () => Promise<T>) {
  const others = () => pids.reduce<number>((sum, pid) => sum + processCpuUs(pid), 0);
  const r0 = await redisCpuUs(redis);
  const p0 = others();
  const me0 = process.cpuUsage();
  const result = await run();
  const me = process.cpuUsage(me0);
  return {
    result,
    cpu: {
      benchUs: (me.user + me.system) / items,
      processesUs: (others() - p0) / items,
      redisUs: ((await redisCpuUs(redis)) - r0) / items,
    },
  };
}

/** The bot's `ingest-alert` job options (src/jobs/queues.ts `DEFAULTS`), for a like-for-like baseline. */
const BOT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600 },
} as const;

/**
 * Plain BullMQ `Queue.add` on the same Redis, nothing else: `n` adds from `senders` concurrent
 * producers on one connection (as one web process has), the bot's job payload (`{ deliveryId }`,
 * ids of the same length), job id and options. No worker runs. A warm-up of `warm` adds first.
 */
async function bullmqAdds(n: number, senders: number, warm: number) {
  const prefix = benchPrefix('bullmq-add');
  const producer = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const info = new Redis(REDIS_URL);
  const queue = new Queue('alerts', { connection: producer, prefix, defaultJobOptions: BOT_JOB_OPTIONS });
  const id = (i: number) =>
    `alertmanager-${(i % 500).toString(16).padStart(16, '0')}-${i.toString(16).padStart(16, '0')}`;
  const addAll = async (from: number, to: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: senders }, async () => {
        for (let i = next++; i < to; i = next++)
          await queue.add('ingest-alert', { deliveryId: id(i) }, { jobId: `ingest-${id(i)}` });
      }),
    );
  };
  try {
    await queue.waitUntilReady();
    await addAll(0, warm);
    const t0 = performance.now();
    const { cpu } = await cpuPer(info, [], n, () => addAll(warm, warm + n));
    const ms = performance.now() - t0;
    return { adds: n, addPerS: n / (ms / 1000), cpuUsPerAdd: cpu.benchUs, redisCpuUsPerAdd: cpu.redisUs };
  } finally {
    await queue.close();
    producer.disconnect();
    info.disconnect();
    await cleanPrefix(prefix);
  }
}

/** Plain BullMQ on the same Redis: `n` adds from `senders` concurrent producers, two no-op workers (concurrency 8). */
async function bullmqCeiling(n: number, senders: number) {
  const prefix = benchPrefix('bullmq');
  const conn = () => new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const producer = conn();
  const queue = new Queue('ceiling', { connection: producer, prefix });
  let done = 0;
  let allDone: () => void = () => {};
  const finished = new Promise<void>((r) => {
    allDone = r;
  });
  const workerConns = [conn(), conn()];
  const workers = workerConns.map(
    (connection) =>
      new Worker(
        'ceiling',
        async () => {
          if (++done === n) allDone();
        },
        { connection, prefix, concurrency: 8 },
      ),
  );
  try {
    await Promise.all(workers.map((w) => w.waitUntilReady()));
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: senders }, async () => {
        for (let i = next++; i < n; i = next++)
          await queue.add('job', { deliveryId: `d${i}` }, { jobId: `j${i}`, removeOnComplete: true });
      }),
    );
    const addMs = performance.now() - t0;
    await finished;
    const totalMs = performance.now() - t0;
    return {
      jobs: n,
      addPerS: n / (addMs / 1000),
      addAndProcessPerS: n / (totalMs / 1000),
      totalS: totalMs / 1000,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await queue.close();
    for (const c of [producer, ...workerConns]) c.disconnect();
    await cleanPrefix(prefix);
  }
}

/** The environment of the bot's processes in this benchmark. */
function botEnv(sandbox: { botToken: string; apiUrl: string }, prefix: string, logLevel: string) {
  return {
    SLACK_BOT_TOKEN: sandbox.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: sandbox.apiUrl,
    REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: logLevel,
    ALERT_WEBHOOK_TOKEN: TOKEN,
    POSTMORTEM_DIR: mkdtempSync(join(tmpdir(), 'ib-bench-pm-')),
    // Reminders and escalations would add delayed jobs per incident; they are not what is measured.
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    // The workers pace channel setup to Slack's Tier 2 (20/min: 500 channels = 25 min); with the
    // sandbox's limits raised, so is this one. BENCHMARKS.md says so.
    CHANNEL_SETUPS_PER_WINDOW: '1000000',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  };
}

/** Starts `count` web processes; resolves with them and their alert webhook URLs. */
async function startWeb(count: number, env: NodeJS.ProcessEnv, children: Child[]) {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const web = ports.map((port) => spawnNode('src/web.ts', { ...env, PORT: String(port) }));
  children.push(...web);
  await Promise.all(ports.map((p, i) => waitHttp(`http://127.0.0.1:${p}/healthz`, web[i])));
  return { web, urls: ports.map((p) => `http://127.0.0.1:${p}${ROUTE}`) };
}

/** Counts the keys matching `pattern` (SCAN). */
async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    n += found.length;
  } while (cursor !== '0');
  return n;
}

/**
 * The floor of this design on this machine, run next to the bot: a bare `node:http` server (plain
 * JS, no tsx) that per request reads the body, `JSON.parse`s it, hashes it (SHA-256), stores it
 * (`SET NX EX`) and adds a BullMQ job (the bot's job options, `ingest-<hash>` ids), then answers
 * 202 — with the bot's producer connection options, but no auth, no validation, no
 * normalization, no failed-job check and no metrics.
 */
const BARE_INTAKE = `
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
const prefix = process.env.REDIS_PREFIX;
const redis = new Redis(process.env.REDIS_URL, {
  enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2500,
});
const queue = new Queue('alerts', { connection: redis, prefix: prefix + ':{bull}', defaultJobOptions: ${JSON.stringify(
  {
    attempts: 8,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  },
)} });
const answer = (res, status, body) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    if (req.method !== 'POST') return answer(res, 200, { ok: true });
    const raw = Buffer.concat(chunks);
    try {
      const json = JSON.parse(raw.toString('utf8'));
      const id = 'alertmanager-' + createHash('sha256').update(raw).digest('hex').slice(0, 16);
      await redis.set(prefix + ':delivery:' + id, raw, 'EX', 7 * 24 * 3600, 'NX');
      await queue.add('ingest-alert', { deliveryId: id }, { jobId: 'ingest-' + id });
      answer(res, 202, { accepted: true, alerts: json.alerts.length, deliveryId: id });
    } catch (err) {
      answer(res, 503, { error: String(err) });
    }
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

/** Starts the bare intake on a free port; resolves with it and its URL. */
async function startBare(prefix: string, children: Child[]) {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--input-type=module', '-e', BARE_INTAKE], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL, REDIS_PREFIX: prefix, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const child: Child = {
    proc,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
  children.push(child);
  await waitHttp(`http://127.0.0.1:${port}/healthz`, child);
  return { child, url: `http://127.0.0.1:${port}${ROUTE}` };
}

/**
 * The intake alone, in `ROUNDS` rounds: the web processes and Redis, no worker. Every delivery
 * goes the whole web path (read, auth, JSON, zod, normalize, ids, SET of the delivery, BullMQ add,
 * 202). Before each round and after the last, plain BullMQ `Queue.add` runs on the same Redis, so
 * each round's ratio compares figures taken a few seconds apart on this shared machine; after the
 * bot, the same bodies go to the bare intake (`BARE_INTAKE`, one process). Each round sends the
 * same storm with other bodies (`variant`); at the end, the bot's stored deliveries and queued
 * jobs are counted: one each per distinct body.
 */
async function intakeRounds(redis: Redis) {
  const sandbox = await startSandbox({ port: 0, rateLimits: unlimited() });
  const prefix = benchPrefix('storm-intake');
  const barePrefix = benchPrefix('storm-bare');
  const children: Child[] = [];
  try {
    // LOG_LEVEL info, the default: the intake logs nothing per delivery at info.
    const { web, urls } = await startWeb(WEB_PROCESSES, botEnv(sandbox, prefix, 'info'), children);
    // Warm-up deliveries in groups of their own, distinct from the storm's.
    const warm = Array.from({ length: WARM }, (_, i) =>
      Buffer.from(alertmanagerBody(GROUPS + (i % GROUPS), i)),
    );
    await send(urls, warm, SENDERS);
    const bare = await startBare(barePrefix, children);
    await send([bare.url], warm, SENDERS);
    const adds = [await bullmqAdds(DELIVERIES, SENDERS, WARM)];
    const rounds = [];
    let distinct = 0;
    for (let r = 1; r <= ROUNDS; r++) {
      const bodies = stormDeliveries(DELIVERIES, GROUPS, r).map((b) => Buffer.from(b));
      distinct += new Set(bodies.map((b) => b.toString('latin1'))).size;
      const { result: sent, cpu } = await cpuPer(
        redis,
        web.map((c) => c.proc.pid),
        bodies.length,
        () => send(urls, bodies, SENDERS),
      );
      const { result: bareSent, cpu: bareCpu } = await cpuPer(
        redis,
        [bare.child.proc.pid],
        bodies.length,
        () => send([bare.url], bodies, SENDERS),
      );
      adds.push(await bullmqAdds(DELIVERIES, SENDERS, WARM));
      const acceptedPerS = (sent.statuses['202'] ?? 0) / (sent.ms / 1000);
      const bareAcceptedPerS = (bareSent.statuses['202'] ?? 0) / (bareSent.ms / 1000);
      const bullmqAddPerS = (adds[r - 1]!.addPerS + adds[r]!.addPerS) / 2;
      rounds.push({
        round: r,
        deliveries: bodies.length,
        sendS: sent.ms / 1000,
        acceptedPerS,
        statuses: JSON.stringify(sent.statuses),
        p50ms: sent.p50ms,
        p99ms: sent.p99ms,
        webCpuUs: cpu.processesUs,
        redisCpuUs: cpu.redisUs,
        loadCpuUs: cpu.benchUs,
        bullmqAddPerS,
        ratio: acceptedPerS / bullmqAddPerS,
        bareAcceptedPerS,
        bareStatuses: JSON.stringify(bareSent.statuses),
        bareCpuUs: bareCpu.processesUs,
        bareRedisCpuUs: bareCpu.redisUs,
        bareRatio: bareAcceptedPerS / bullmqAddPerS,
      });
    }
    const stored = (await countKeys(redis, keys(prefix).delivery('*'))) - warm.length;
    const alerts = new Queue('alerts', { connection: redis, prefix: bullPrefix(prefix) });
    const queued = (await alerts.count()) - warm.length;
    await alerts.close();
    return { rounds, adds, stored, queued, distinct };
  } finally {
    for (const c of children) await c.stop();
    await sandbox.close();
    await cleanPrefix(prefix);
    await cleanPrefix(barePrefix);
  }
}

/** `BENCH_STORM_END_TO_END=0` measures the intake only (a few seconds instead of minutes). */
const END_TO_END = process.env.BENCH_STORM_END_TO_END !== '0';
/** Web processes in each phase (`BENCH_STORM_WEB`, default 2). */
const WEB_PROCESSES = Number(process.env.BENCH_STORM_WEB ?? 2);
/** Interleaved rounds of the intake and of plain BullMQ (`BENCH_STORM_ROUNDS`, default 3). */
const ROUNDS = Number(process.env.BENCH_STORM_ROUNDS ?? 3);
/** Warm-up deliveries before the intake is measured (other groups), and adds before BullMQ is. */
const WARM = Math.min(2000, Math.round(DELIVERIES / 10));

/**
 * 20,000 Alertmanager deliveries: first into the web processes alone (the intake rate, next to
 * plain BullMQ `Queue.add` measured before and after it), then into web + two worker processes
 * (the storm end to end, next to BullMQ add + process).
 */
export const alertStormBench: Bench = {
  name: 'storm',
  description: `alert storm: ${DELIVERIES} Alertmanager deliveries, ${GROUPS} groups, ${SENDERS} senders; intake: ${WEB_PROCESSES} web processes; end to end: ${WEB_PROCESSES} web + 2 worker processes`,
  async run() {
    const bodies = stormDeliveries(DELIVERIES, GROUPS).map((b) => Buffer.from(b));
    const redis = new Redis(REDIS_URL);
    try {
      const intake = await intakeRounds(redis);
      printTable(
        `Intake only: ${WEB_PROCESSES} web processes, no worker; plain BullMQ Queue.add before and after each round (CPU in µs per delivery)`,
        intake.rounds,
      );
      printTable(
        'Plain BullMQ Queue.add on the same Redis, 64 producers, no worker (CPU in µs per add)',
        intake.adds.map((a, i) => ({ before: i < ROUNDS ? `round ${i + 1}` : 'end', ...a })),
      );
      const med = (f: (r: (typeof intake.rounds)[number]) => number) => median(intake.rounds.map(f));
      const summary = {
        acceptedPerS: med((r) => r.acceptedPerS),
        bullmqAddPerS: med((r) => r.bullmqAddPerS),
        ratio: med((r) => r.ratio),
        webCpuUs: med((r) => r.webCpuUs),
        redisCpuUs: med((r) => r.redisCpuUs),
        loadCpuUs: med((r) => r.loadCpuUs),
        bareAcceptedPerS: med((r) => r.bareAcceptedPerS),
        bareRatio: med((r) => r.bareRatio),
        bareCpuUs: med((r) => r.bareCpuUs),
        bareRedisCpuUs: med((r) => r.bareRedisCpuUs),
        // One stored delivery and one queued job per distinct body (re-sends add nothing).
        stored: intake.stored,
        queued: intake.queued,
        distinct: intake.distinct,
      };
      printTable(`Intake vs plain BullMQ Queue.add (medians of ${ROUNDS} rounds)`, [summary]);
      const addPerS = summary.bullmqAddPerS;
      const intakeResult = { ...summary, rounds: intake.rounds, bullmqAdds: intake.adds };

      if (!END_TO_END) return { intake: intakeResult };
      const ceiling = await bullmqCeiling(DELIVERIES, SENDERS);
      printTable('Plain BullMQ add + two no-op workers on the same Redis (the end-to-end ceiling)', [
        ceiling,
      ]);
      const storm = await endToEnd(bodies);
      if (storm.skipped) return { ...storm, intake: intakeResult, bullmqCeiling: ceiling };
      const row = storm.row!;
      printTable('Alert storm end to end (sandbox rate limits raised to 1,000,000/min)', [row]);
      printTable('Alert storm vs plain BullMQ', [
        {
          intakeAcceptedPerS: summary.acceptedPerS,
          bullmqAddPerS: addPerS,
          ratioIntake: summary.ratio,
          stormAcceptedPerS: row.acceptedPerS,
          stormEndToEndPerS: bodies.length / row.drainedS,
          bullmqAddProcessPerS: ceiling.addAndProcessPerS,
          ratioEndToEnd: bodies.length / row.drainedS / ceiling.addAndProcessPerS,
        },
      ]);
      return {
        intake: intakeResult,
        ...row,
        deadlineS: DEADLINE_S,
        withoutChannel: storm.withoutChannel,
        jobCounts: storm.jobCounts,
        bullmqCeiling: ceiling,
        exactly500: row.incidents === GROUPS && row.channels === GROUPS,
      };
    } finally {
      redis.disconnect();
    }
  },
};

/** The storm into web + two worker processes: acceptance, incidents, channels, drain. */
async function endToEnd(bodies: Buffer[]) {
  const sandbox = await startSandbox({ port: 0, rateLimits: unlimited() });
  const prefix = benchPrefix('storm');
  const env = botEnv(sandbox, prefix, 'warn');
  const children: Child[] = [];
  const redis = new Redis(REDIS_URL);
  try {
    const { urls } = await startWeb(WEB_PROCESSES, env, children);
    const probe = await fetch(urls[0]!, {
      method: 'POST',
      body: '{}',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    await probe.arrayBuffer();
    if (probe.status === 404) {
      const skipped = `POST ${ROUTE} answers 404: the alert webhook route is not wired into the web process yet`;
      console.log(`\nalert storm skipped: ${skipped}`);
      return { skipped };
    }
    for (let i = 0; i < 2; i++) children.push(spawnNode('src/worker.ts', { ...env, PORT: '0' }));

    const t0 = performance.now();
    let incidentsAt = Number.NaN;
    let channelsAt = Number.NaN;
    const k = keys(prefix);
    const all = k.allIncidents;
    const channelCount = () => sandbox.transcriptFor('conversations.create').filter((e) => e.ok).length;
    const deadline = DEADLINE_S * 1000;
    const reached = async (what: string, check: () => Promise<boolean> | boolean) => {
      try {
        await until(what, check, Math.max(1, deadline - (performance.now() - t0)), 100);
        return performance.now() - t0;
      } catch {
        return Number.NaN; // not reached by the deadline: reported as NaN with the counts at that time
      }
    };
    const watch = (async () => {
      incidentsAt = await reached('500 incidents', async () => (await redis.zcard(all)) >= GROUPS);
      channelsAt = await reached('500 channels', () => channelCount() >= GROUPS);
    })();
    const sent = await send(urls, bodies, SENDERS);
    await watch;
    const accepted = sent.statuses['202'] ?? 0;
    const queues = ['alerts', 'channels', 'slack'].map(
      (q) => new Queue(q, { connection: redis, prefix: bullPrefix(prefix) }),
    );
    const drainedAt = await reached('the alerts, channels and slack queues to drain', async () => {
      const counts = await Promise.all(
        queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
      );
      return counts.every((c) => Object.values(c).every((v) => v === 0));
    });
    const jobCounts = Object.fromEntries(
      await Promise.all(queues.map(async (q) => [q.name, await q.getJobCounts()] as const)),
    );
    await Promise.all(queues.map((q) => q.close()));
    const incidents = await redis.zcard(all);
    const channels = sandbox.channels().filter((c) => c.name.startsWith('inc-')).length;
    const row = {
      deliveries: bodies.length,
      sendS: sent.ms / 1000,
      acceptedPerS: accepted / (sent.ms / 1000),
      statuses: JSON.stringify(sent.statuses),
      p99ms: sent.p99ms,
      allIncidentsS: incidentsAt / 1000,
      allChannelsS: channelsAt / 1000,
      drainedS: drainedAt / 1000,
      incidents,
      channels,
      conversationsCreate: channelCount(),
    };
    let withoutChannel = 0;
    for (let n = 1; n <= incidents; n++) {
      const raw = await redis.lrange(k.timeline(`INC-${n}`), 0, -1);
      if (!raw.some((j) => j.includes('"kind":"channel_created"'))) withoutChannel++;
    }
    if (withoutChannel > 0)
      console.log(`incidents without a channel at the end: ${withoutChannel}; job counts`, jobCounts);
    return { row, withoutChannel, jobCounts };
  } finally {
    redis.disconnect();
    for (const c of children) await c.stop();
    await sandbox.close();
    await cleanPrefix(prefix);
  }
}
