import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { expect } from 'vitest';
import { pagerDutySignature } from '../../src/alerts/verify.js';
import type { IncidentId } from '../../src/core/incident-model.js';
import type { TimelineEntry } from '../../src/core/timeline.js';
import { createRedis, type RedisClient } from '../../src/redis/connection.js';
import { RedisStore } from '../../src/redis/store.js';
import type { Sandbox, SandboxMessage } from '../../src/sandbox/index.js';
import { eventually } from '../support/eventually.js';
import { hostPortList, TEST_REDIS_CLUSTER_NODES } from '../support/redis.js';

/** The webhook token every alert-e2e bot is started with. */
export const TOKEN = 'e2e-alert-token-0123456789abcdef';
export const PD_SECRET = 'pd-e2e-subscription-secret';
export const FIXTURES = join(import.meta.dirname, '..', 'alerts', 'fixtures');
export const ROOT = join(import.meta.dirname, '..', '..');

/** A fixture's exact bytes (captured Alertmanager bodies) or parsed JSON (a fresh copy). */
export function fixtureBytes(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely by tests
export function fixture(name: string): any {
  return JSON.parse(fixtureBytes(name).toString('utf8'));
}

export interface Posted {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answer checked by the tests
  body: any;
}

/** POSTs a webhook body (object → JSON; string/Buffer as is) to `/alerts/<source>`, with the bearer token unless `headers` says otherwise. */
export async function postAlert(
  baseUrl: string,
  source: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
): Promise<Posted> {
  const raw = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const res = await fetch(`${baseUrl}/alerts/${source}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw,
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, body: json };
}

/** A PagerDuty v3 webhook body around an `incident` data object, and its signature header. */
export function pagerDutyDelivery(
  eventType: string,
  data: unknown,
  occurredAt: string,
): { body: Buffer; headers: Record<string, string> } {
  const body = Buffer.from(
    JSON.stringify({
      event: {
        id: `01${eventType.replace(/\W/g, '').toUpperCase()}`,
        event_type: eventType,
        resource_type: 'incident',
        occurred_at: occurredAt,
        agent: null,
        client: null,
        data,
      },
    }),
  );
  return { body, headers: { 'x-pagerduty-signature': pagerDutySignature(body, PD_SECRET) } };
}

/** Resolves when the `ingest-<deliveryId>` job completed; returns its result. */
export async function ingested(queue: Queue, deliveryId: string, timeoutMs = 20_000): Promise<unknown> {
  return eventually(async () => {
    // State first, then the job: a job read while active and checked after it completed would
    // carry no return value yet. Completed is final (jobs are kept an hour).
    expect(await queue.getJobState(`ingest-${deliveryId}`)).toBe('completed');
    const job = await queue.getJob(`ingest-${deliveryId}`);
    return job!.returnvalue;
  }, timeoutMs);
}

/** Reads a timeline straight from Redis (for processes the test does not run in-process). */
export async function timeline(redis: RedisClient, prefix: string, id: string): Promise<TimelineEntry[]> {
  return new RedisStore(redis, prefix).entries(id as IncidentId);
}

/** Every incident id under the prefix, in number order. */
export async function allIncidents(redis: RedisClient, prefix: string): Promise<string[]> {
  return new RedisStore(redis, prefix).allIncidents();
}

/** Waits until every timeline entry of the incident has been delivered to its channel. */
export async function settled(
  redis: RedisClient,
  prefix: string,
  id: string,
  timeoutMs = 20_000,
): Promise<void> {
  const store = new RedisStore(redis, prefix);
  await eventually(async () => {
    const len = await store.timelineLength(id as IncidentId);
    expect(await store.deliveredCursor(id as IncidentId)).toBe(len);
  }, timeoutMs);
}

/** The channel id an incident's timeline records. */
export async function channelOf(
  redis: RedisClient,
  prefix: string,
  id: string,
  timeoutMs = 20_000,
): Promise<string> {
  return eventually(async () => {
    const e = (await timeline(redis, prefix, id)).find((x) => x.kind === 'channel_created');
    expect(e, `${id} has a channel`).toBeDefined();
    return (e as Extract<TimelineEntry, { kind: 'channel_created' }>).channelId;
  }, timeoutMs);
}

/** Every text a message shows, as Slack would parse it: `text`, mrkdwn and plain_text objects anywhere in its blocks. */
export function textsOf(m: SandboxMessage): { mrkdwn: string[]; plain: string[] } {
  const mrkdwn = [m.text];
  const plain: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.type === 'mrkdwn' && typeof o.text === 'string') mrkdwn.push(o.text);
      else if (o.type === 'plain_text' && typeof o.text === 'string') plain.push(o.text);
      else Object.values(o).forEach(walk);
    }
  };
  walk(m.blocks ?? []);
  return { mrkdwn, plain };
}

/** Messages of the sandbox channel posted by the bot. */
export function botMessages(sandbox: Sandbox, channelId: string): SandboxMessage[] {
  return sandbox.messages(channelId).filter((m) => m.bot_id || m.user === sandbox.botUserId);
}

/** A spawned `node --import tsx src/<entry>.ts` process; resolves once it logged `readyMsg`. */
export interface Proc {
  child: ChildProcess;
  log: () => string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnBot(
  entry: 'web' | 'worker',
  env: NodeJS.ProcessEnv,
  readyMsg: string,
): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', `src/${entry}.ts`], {
    cwd: ROOT,
    // info: readiness is read from the log.
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    out += c.toString();
  });
  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`${entry} exited (${code ?? signal}) before it was ready:\n${out.slice(-3000)}`);
  });
  exited.catch(() => {});
  // Generous: each process compiles src/ with tsx first, which takes seconds, and many more when
  // several start at once on a loaded 2-core machine.
  await Promise.race([eventually(() => expect(out).toContain(readyMsg), 60_000, 50), exited]);
  return {
    child,
    log: () => out,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const done = once(child, 'exit');
      child.kill(signal);
      await done;
    },
  };
}

/**
 * A separate connection to the test Redis at `url` (closed by the caller); on a cluster run
 * (TEST_REDIS_CLUSTER_NODES) a Cluster client from the bot's own factory instead, `url` giving only
 * user, password and TLS, as it does for the bot.
 */
export function testRedis(url: string): RedisClient {
  if (!TEST_REDIS_CLUSTER_NODES) return new Redis(url);
  return createRedis(
    { REDIS_URL: url, REDIS_CLUSTER_NODES: hostPortList(TEST_REDIS_CLUSTER_NODES) },
    'worker',
  );
}
