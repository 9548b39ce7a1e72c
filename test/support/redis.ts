import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { Cluster, Redis } from 'ioredis';

/** The Redis these tests use: REDIS_URL or the machine's 127.0.0.1:6379. */
export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The Redis Cluster these tests use instead, as `host:port,…`, when the run has one
 * (`npm run test:cluster`: test/support/cluster-global-setup.ts sets it); unset, everything runs
 * on TEST_REDIS_URL as before.
 */
export const TEST_REDIS_CLUSTER_NODES = process.env.TEST_REDIS_CLUSTER_NODES || undefined;

/** The bot's Redis settings for the test Redis: REDIS_URL, plus REDIS_CLUSTER_NODES on a cluster run. */
export function testRedisEnv(): { REDIS_URL: string; REDIS_CLUSTER_NODES?: string } {
  return TEST_REDIS_CLUSTER_NODES
    ? { REDIS_URL: TEST_REDIS_URL, REDIS_CLUSTER_NODES: TEST_REDIS_CLUSTER_NODES }
    : { REDIS_URL: TEST_REDIS_URL };
}

/** Where the tests' own Redis lives, for cleanPrefix: the cluster on a cluster run, else TEST_REDIS_URL. */
export function testRedisTarget(): RedisTarget {
  return TEST_REDIS_CLUSTER_NODES ? { clusterNodes: TEST_REDIS_CLUSTER_NODES } : TEST_REDIS_URL;
}

/** A key prefix unique to one test file run, so files can run in parallel on one Redis. */
export function testPrefix(name: string): string {
  return `ibtest-${name}-${randomBytes(4).toString('hex')}`;
}

/** Where cleanPrefix deletes: a redis:// URL (default TEST_REDIS_URL), a Cluster, or a Sentinel master. */
export type RedisTarget =
  | string
  | { clusterNodes: string /* host:port,... */ }
  | { sentinels: string /* host:port,... */; name?: string };

/** `host:port,host:port` → ioredis addresses. */
export function hostPortList(list: string): { host: string; port: number }[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((hp) => {
      const i = hp.lastIndexOf(':');
      return { host: hp.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(hp.slice(i + 1)) };
    });
}

async function scanDelete(r: Redis, patterns: string[]): Promise<void> {
  for (const match of patterns) {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      if (keys.length === 0) continue;
      // One UNLINK per key: on a Cluster node, keys of different slots cannot share one command.
      const p = r.pipeline();
      for (const k of keys) p.unlink(k);
      await p.exec();
    } while (cursor !== '0');
  }
}

/**
 * Deletes every key under `prefix` (SCAN + UNLINK): `<prefix>:*`, and `{<prefix>…` in case a
 * hash tag ever starts the key. On a Cluster it scans every master (SCAN sees one node only).
 */
export async function cleanPrefix(prefix: string, target: RedisTarget = TEST_REDIS_URL): Promise<void> {
  const patterns = [`${prefix}:*`, `{${prefix}*`];
  if (typeof target === 'object' && 'clusterNodes' in target) {
    const c = new Cluster(hostPortList(target.clusterNodes), { clusterRetryStrategy: () => null });
    c.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        c.once('ready', resolve);
        c.once('end', () => reject(new Error(`cleanPrefix: Cluster ${target.clusterNodes} not reachable`)));
      });
      for (const node of c.nodes('master')) await scanDelete(node, patterns);
    } finally {
      c.disconnect();
    }
    return;
  }
  const r =
    typeof target === 'string'
      ? new Redis(target)
      : new Redis({ sentinels: hostPortList(target.sentinels), name: target.name ?? 'mymaster' });
  r.on('error', () => {});
  try {
    await scanDelete(r, patterns);
  } finally {
    r.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// redis-server processes of a test's own (the Cluster and Sentinel harnesses): free loopback
// ports, polling the real state, and killing every one left when the test process exits.

/** Polls `check` every `everyMs` until it returns a truthy value; throws naming `what` (and the last error) after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `n` distinct free loopback ports (all bound at once, then released). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      s.listen(0, '127.0.0.1');
      await once(s, 'listening');
      servers.push(s);
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** One `redis-server` child process (stdout and stderr kept for error messages). */
export interface RedisServerProcess {
  port: number;
  proc: ChildProcess;
  readonly alive: boolean;
  /** The last 4 KB the server logged. */
  output(): string;
  /** Sends `signal` (SIGTERM by default) and resolves once the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Starts `redis-server <args>` (`port` is what it listens on) and resolves once it answers PING. */
export async function spawnRedisServer(port: number, args: string[]): Promise<RedisServerProcess> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // A test that fails (or a runner that exits) without stop() leaves no redis-server behind.
    process.once('exit', () => {
      for (const p of running) p.kill('SIGKILL');
    });
  }
  const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => running.delete(proc));
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const handle: RedisServerProcess = {
    port,
    proc,
    get alive() {
      return alive();
    },
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (!alive()) return;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  try {
    await pollUntil(`redis-server on port ${port} to answer PING`, async () => {
      if (!alive()) throw new Error(`redis-server exited (${proc.exitCode ?? proc.signalCode}):\n${out}`);
      return (await redisCall(port, 'PING')) === 'PONG';
    });
  } catch (err) {
    await handle.kill('SIGKILL');
    throw err;
  }
  return handle;
}

/** Runs one command on 127.0.0.1:`port` over a short-lived connection (fails fast when nothing listens). */
export async function redisCall(port: number, ...args: (string | number)[]): Promise<unknown> {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    connectTimeout: 1000,
    commandTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: false,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    const [cmd, ...rest] = args;
    return await r.call(String(cmd), ...rest);
  } finally {
    r.disconnect();
  }
}

/** `INFO <section>` (or CLUSTER INFO's text) as a field → value map. */
export function infoFields(text: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of String(text).split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
