import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Config } from '../config.js';

/**
 * Connection roles: `producer` fails fast when Redis is away (web requests answer within Slack's
 * 3 s instead of queueing commands forever); `worker` waits and reconnects (BullMQ blocking
 * commands need `maxRetriesPerRequest: null`).
 */
export type ConnectionRole = 'producer' | 'worker';

/** What createRedis returns: one ioredis client for one Redis or Sentinel (`Redis`), or for Redis Cluster. */
export type RedisClient = Redis | Cluster;

/**
 * The Redis part of the config. REDIS_URL alone: one Redis. REDIS_SENTINELS: Sentinel (master
 * REDIS_SENTINEL_NAME, default `mymaster`). REDIS_CLUSTER_NODES: Cluster. In both of those,
 * REDIS_URL still gives the nodes' user, password and TLS (rediss://), and with Sentinel its db;
 * its host and port are not used.
 */
export type RedisSettings = Pick<Config, 'REDIS_URL'> &
  Partial<
    Pick<
      Config,
      'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'REDIS_SENTINEL_PASSWORD' | 'REDIS_CLUSTER_NODES'
    >
  >;

export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

/** Which kind of deployment the settings describe (loadConfig refuses Sentinel and Cluster together). */
export function redisMode(s: RedisSettings): RedisMode {
  if (s.REDIS_SENTINELS?.length) return 'sentinel';
  if (s.REDIS_CLUSTER_NODES?.length) return 'cluster';
  return 'standalone';
}

const open = new Set<RedisClient>();

/** Options of one Redis connection for a role (a node connection, for Cluster). */
function roleOptions(role: ConnectionRole) {
  return role === 'producer'
    ? { maxRetriesPerRequest: 1, connectTimeout: 2000, commandTimeout: 2500 }
    : { maxRetriesPerRequest: null };
}

const retryStrategy = (times: number) => Math.min(times * 200, 2000);

/**
 * A replica answers writes with READONLY: the node we talk to was demoted (a Sentinel failover
 * without a dropped connection, a managed Redis switching its primary behind one name). Reconnect,
 * which asks the Sentinels for the master again. Workers also resend the refused command (READONLY
 * means it did not run); producers fail it, and their caller's retry (Slack, Alertmanager) sends it again.
 */
const reconnectOnReadonly =
  (resend: boolean) =>
  (err: Error): boolean | 1 | 2 => {
    if (!err.message.startsWith('READONLY')) return false;
    return resend ? 2 : 1;
  };

/** User, password, db and TLS from REDIS_URL, for the nodes of a Sentinel or Cluster deployment. */
function fromUrl(url: string): { username?: string; password?: string; db: number; tls: boolean } {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || '0');
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number.isInteger(db) ? db : 0,
    tls: u.protocol === 'rediss:',
  };
}

/**
 * Opens a client for a role, tracked for `closeAllConnections`:
 * - a `redis://` URL string (or settings with REDIS_URL only): one Redis;
 * - REDIS_SENTINELS: the master of REDIS_SENTINEL_NAME, found through the Sentinels and followed
 *   across failovers (ioredis asks the Sentinels again on every reconnect; watchFailovers
 *   reconnects on `+switch-master`; READONLY reconnects; the ready check rejects a non-master);
 * - REDIS_CLUSTER_NODES: a Cluster client seeded with those nodes (BullMQ needs hash-tagged
 *   prefixes there, and every multi-key command or script must stay in one slot).
 * Producers fail fast in every mode (no offline queue, one retry, 2.5 s command timeout); workers
 * queue and wait (`maxRetriesPerRequest: null`, as BullMQ requires). `extra` is merged into the
 * options of each Redis connection (the nodes', for Cluster).
 */
export function createRedis(url: string, role: ConnectionRole, extra?: RedisOptions): Redis;
export function createRedis(settings: RedisSettings, role: ConnectionRole, extra?: RedisOptions): RedisClient;
export function createRedis(
  settings: RedisSettings | string,
  role: ConnectionRole,
  extra: RedisOptions = {},
): RedisClient {
  const s: RedisSettings = typeof settings === 'string' ? { REDIS_URL: settings } : settings;
  const mode = redisMode(s);
  let r: RedisClient;
  if (mode === 'standalone') {
    r = new Redis(s.REDIS_URL, {
      ...roleOptions(role),
      ...(role === 'producer' ? { enableOfflineQueue: false } : { enableReadyCheck: false }),
      retryStrategy,
      reconnectOnError: reconnectOnReadonly(role === 'worker'),
      ...extra,
    });
  } else if (mode === 'sentinel') {
    const { tls, ...auth } = fromUrl(s.REDIS_URL);
    r = new Redis({
      sentinels: s.REDIS_SENTINELS!,
      name: s.REDIS_SENTINEL_NAME ?? 'mymaster',
      ...(s.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: s.REDIS_SENTINEL_PASSWORD } : {}),
      // rediss:// means TLS to the Redis nodes and to the Sentinels.
      ...(tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      ...auth,
      ...roleOptions(role),
      ...(role === 'producer' ? { enableOfflineQueue: false } : {}),
      // The ready check (INFO) is where ioredis checks that the node Sentinel named is a master
      // (a stale answer during a failover names the old one); keep it on for both roles.
      enableReadyCheck: true,
      // Not ioredis' own `failoverDetector`: when its +switch-master arrives while the client is
      // asking a Sentinel for the master (as it does all through a failover), ioredis aborts the
      // connect and ends the client for good (status 'end', never reconnects; most clients of a
      // process died that way in redis-sentinel-failover.test.ts). watchFailovers does its job.
      failoverDetector: false,
      retryStrategy,
      sentinelRetryStrategy: retryStrategy,
      reconnectOnError: reconnectOnReadonly(role === 'worker'),
      ...extra,
    });
    watchFailovers(r, s, tls);
  } else {
    r = new Cluster(s.REDIS_CLUSTER_NODES!, clusterOptions(s, role, extra));
  }
  // Errors surface on the commands that fail; an unhandled 'error' event would crash the process.
  r.on('error', () => {});
  open.add(r);
  r.once('end', () => open.delete(r));
  return r;
}

/**
 * Moves Sentinel-mode clients to a new master as soon as a Sentinel announces it. A crashed
 * master drops its connections, so clients ask the Sentinels again by themselves; but after a
 * manual failover (`SENTINEL FAILOVER`, maintenance) or a partition the old master lives on and
 * keeps accepting writes for ~10 s until the Sentinels demote it, and those writes are lost when it
 * resyncs from the new master. So: one subscriber to `+switch-master` per Sentinel (per process
 * and Sentinel group); on each announcement every ready client (and every `duplicate()` of one,
 * which BullMQ makes for blocking commands) that is not connected to the new master reconnects,
 * which asks the Sentinels again. A client that becomes ready on a stale address within a minute
 * of a switch reconnects once too. Never while a client is connecting (that is ioredis' race).
 */
interface FailoverWatch {
  name: string;
  subscribers: Redis[];
  clients: Set<Redis>;
  /** The last announced master, and when. */
  last?: { host: string; port: number; at: number };
}
const watches = new Map<string, FailoverWatch>();
/** The switch (its `at`) each client last reconnected for on 'ready', so it does so once. */
const movedFor = new WeakMap<Redis, number>();

function connectedTo(c: Redis, addr: { host: string; port: number }): boolean {
  const stream = c.stream as { remoteAddress?: string; remotePort?: number } | undefined;
  return stream?.remotePort === addr.port && stream.remoteAddress?.replace(/^::ffff:/, '') === addr.host;
}

function watchFailovers(client: Redis, s: RedisSettings, tls: boolean): void {
  const name = s.REDIS_SENTINEL_NAME ?? 'mymaster';
  const sentinels = s.REDIS_SENTINELS!;
  const key = `${name}@${sentinels.map((x) => `${x.host}:${x.port}`).join(',')}`;
  let w = watches.get(key);
  if (!w) {
    const watch: FailoverWatch = { name, subscribers: [], clients: new Set() };
    for (const addr of sentinels) {
      const sub = new Redis({
        host: addr.host,
        port: addr.port,
        ...(s.REDIS_SENTINEL_PASSWORD ? { password: s.REDIS_SENTINEL_PASSWORD } : {}),
        ...(tls ? { tls: {} } : {}),
        enableReadyCheck: false,
        maxRetriesPerRequest: null,
        retryStrategy,
      });
      sub.on('error', () => {});
      // Re-subscribed by ioredis after every reconnect.
      sub.subscribe('+switch-master').catch(() => {});
      sub.on('message', (_channel: string, message: string) => {
        // "<master name> <old ip> <old port> <new ip> <new port>"
        const [master, , , host, port] = message.split(' ');
        if (master !== watch.name || !host || !port) return;
        const to = { host, port: Number(port), at: Date.now() };
        watch.last = to;
        for (const c of watch.clients) if (c.status === 'ready' && !connectedTo(c, to)) c.disconnect(true);
      });
      watch.subscribers.push(sub);
    }
    watches.set(key, watch);
    w = watch;
  }
  track(w, client);
}

function track(w: FailoverWatch, client: Redis): void {
  w.clients.add(client);
  client.on('ready', () => {
    const last = w.last;
    if (!last || Date.now() - last.at > 60_000 || movedFor.get(client) === last.at) return;
    if (connectedTo(client, last)) return;
    movedFor.set(client, last.at);
    client.disconnect(true);
  });
  client.once('end', () => w.clients.delete(client));
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override?: Partial<RedisOptions>) => {
    const d = duplicate(override);
    track(w, d);
    return d;
  };
}

function clusterOptions(s: RedisSettings, role: ConnectionRole, extra: RedisOptions): ClusterOptions {
  const { tls, db: _db, ...auth } = fromUrl(s.REDIS_URL);
  // Cluster owns these per node (ioredis' types omit them from redisOptions).
  const {
    retryStrategy: _r,
    enableOfflineQueue: _q,
    readOnly: _ro,
    host: _h,
    port: _p,
    path: _pa,
    sentinels: _s,
    ...nodeExtra
  } = extra;
  return {
    redisOptions: { ...auth, ...(tls ? { tls: {} } : {}), ...roleOptions(role), ...nodeExtra },
    // Cluster-level: with the offline queue off, a command is refused while the cluster client is
    // not ready (startup, every node lost) instead of waiting; the nodes' own queues stay on
    // (ioredis forces that), and a command to a node that is not connected fails and is retried
    // on another route (retryDelayOnFailover × maxRedirections) rather than queued.
    enableOfflineQueue: role === 'worker',
    // 'ready' once CLUSTER INFO says cluster_state:ok, not merely connected.
    enableReadyCheck: true,
    clusterRetryStrategy: (times: number) => Math.min(100 + times * 200, 2000),
    // During a failover a master's slots are unreachable until its replica is promoted (about
    // cluster-node-timeout, 15 s by default): workers keep retrying for ~20 s (300 ms × 64);
    // producers give up after ~1.6 s (100 ms × 16, ioredis' defaults) and answer "try again".
    ...(role === 'worker'
      ? { retryDelayOnFailover: 300, maxRedirections: 64, retryDelayOnClusterDown: 300 }
      : { retryDelayOnFailover: 100, maxRedirections: 16, retryDelayOnClusterDown: 100 }),
    // TLS certificates name the configured hosts, not the IPs CLUSTER SLOTS answers with (ioredis' README, ElastiCache).
    ...(tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
}

/** Closes every connection opened through createRedis (QUIT, then disconnect after `timeoutMs`). */
export async function closeAllConnections(timeoutMs = 2000): Promise<void> {
  await Promise.all(
    [...open].map(async (r) => {
      const t = setTimeout(() => r.disconnect(), timeoutMs);
      try {
        await r.quit();
      } catch {
        r.disconnect();
      } finally {
        clearTimeout(t);
      }
    }),
  );
  open.clear();
  for (const w of watches.values()) for (const sub of w.subscribers) sub.disconnect();
  watches.clear();
}

/**
 * Resolves once the client is ready (for Cluster: CLUSTER INFO said cluster_state:ok), or rejects
 * after `timeoutMs` (producers start with enableOfflineQueue off).
 */
export function waitReady(r: RedisClient, timeoutMs = 5000): Promise<void> {
  if (r.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      r.off('ready', onReady);
      reject(new Error(`Redis not ready after ${timeoutMs} ms (status ${r.status})`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(t);
      resolve();
    };
    r.once('ready', onReady);
  });
}
