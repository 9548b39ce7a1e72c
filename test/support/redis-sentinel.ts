import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePorts,
  infoFields,
  pollUntil,
  type RedisServerProcess,
  redisCall,
  spawnRedisServer,
} from './redis.js';

/** Master + 1 replica + 3 Sentinels of the test's own on loopback, persistence off. */
export interface RedisSentinelHarness {
  /** The Sentinels as `127.0.0.1:port,…`: the value for REDIS_SENTINELS. */
  sentinels: string;
  /** The monitored master's name: the value for REDIS_SENTINEL_NAME. */
  name: string;
  /** The port of the current master (changes after a failover). */
  readonly masterPort: number;
  /** The ports of every data node (master and replica), in start order. */
  dataPorts: number[];
  /**
   * Resolves once the replica has processed everything the master had written when this was
   * called (the replica's `slave_repl_offset` ≥ the master's `master_repl_offset`: what `WAIT 1`
   * gives one client, for every client's writes); returns that offset.
   */
  replicaCaughtUp(timeoutMs?: number): Promise<number>;
  /** SIGKILLs the current master (no shutdown, no last writes flushed to anyone). */
  killMaster(): Promise<void>;
  /** Polls until every Sentinel names a new master (not the one killed or failed over) and that node says it is one. */
  waitForFailover(timeoutMs?: number): Promise<{ newMasterPort: number }>;
  /**
   * A planned failover: `SENTINEL FAILOVER` with the master alive (it stays a master, accepting
   * writes, until the Sentinels demote it some 10 s later), then waitForFailover.
   */
  manualFailover(timeoutMs?: number): Promise<{ newMasterPort: number }>;
  /** Stops every process and removes the temp directory; safe to call twice. */
  stop(): Promise<void>;
}

const NAME = 'mymaster';

/** `SENTINEL MASTER` / `SENTINEL REPLICAS` entries come as flat [k, v, k, v…] arrays. */
function pairs(flat: unknown): Record<string, string> {
  const a = flat as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < a.length; i += 2) out[a[i]!] = a[i + 1]!;
  return out;
}

/**
 * Starts a master and a replica (`--replicaof`), waits until the replica is in sync, then three
 * Sentinels (`redis-server <conf> --sentinel`, config files in a temp dir:
 * `sentinel monitor mymaster 127.0.0.1 <port> 2`, down-after 1000 ms, failover-timeout 5000 ms),
 * and waits until each Sentinel sees the master up, the replica, and the 2 other Sentinels (a
 * failover needs the quorum and a majority to elect a leader). Always call `stop()` (afterAll);
 * the processes are also killed when the test process exits.
 */
export async function startRedisSentinel(
  opts: { downAfterMs?: number; failoverTimeoutMs?: number; readyTimeoutMs?: number } = {},
): Promise<RedisSentinelHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'ib-redis-sentinel-'));
  const [masterPort0, replicaPort, ...sentinelPorts] = (await freePorts(5)) as [number, number, ...number[]];
  const procs = new Map<number, RedisServerProcess>();
  const stop = async () => {
    await Promise.all([...procs.values()].map((p) => p.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  const timeout = opts.readyTimeoutMs ?? 30_000;
  const dataArgs = (port: number) => [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--dbfilename',
    `dump-${port}.rdb`,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    // Full syncs over a socket, not a temp RDB file (persistence is off anyway).
    '--repl-diskless-sync',
    'yes',
    '--repl-diskless-sync-delay',
    '0',
  ];
  let master = masterPort0;
  try {
    procs.set(masterPort0, await spawnRedisServer(masterPort0, dataArgs(masterPort0)));
    procs.set(
      replicaPort,
      await spawnRedisServer(replicaPort, [
        ...dataArgs(replicaPort),
        '--replicaof',
        '127.0.0.1',
        String(masterPort0),
      ]),
    );
    await pollUntil(
      'the replica to be in sync with the master',
      async () => {
        const r = infoFields(await redisCall(replicaPort, 'INFO', 'replication'));
        const m = infoFields(await redisCall(masterPort0, 'INFO', 'replication'));
        return (
          r.master_link_status === 'up' &&
          r.master_sync_in_progress === '0' &&
          m.connected_slaves === '1' &&
          /state=online/.test(m.slave0 ?? '')
        );
      },
      timeout,
    );
    // The replica is connected before the Sentinels start, so their first INFO of the master lists it.
    const sentinels = await Promise.all(
      sentinelPorts.map((port) => {
        const conf = join(dir, `sentinel-${port}.conf`);
        writeFileSync(
          conf,
          [
            `port ${port}`,
            'bind 127.0.0.1',
            'protected-mode no',
            'daemonize no',
            `dir ${dir}`,
            'logfile ""',
            `sentinel monitor ${NAME} 127.0.0.1 ${masterPort0} 2`,
            `sentinel down-after-milliseconds ${NAME} ${opts.downAfterMs ?? 1000}`,
            `sentinel failover-timeout ${NAME} ${opts.failoverTimeoutMs ?? 5000}`,
            `sentinel parallel-syncs ${NAME} 1`,
            '',
          ].join('\n'),
        );
        return spawnRedisServer(port, [conf, '--sentinel']);
      }),
    );
    for (const s of sentinels) procs.set(s.port, s);
    await pollUntil(
      'every Sentinel to see the master, its replica and the other Sentinels',
      async () => {
        for (const port of sentinelPorts) {
          const m = pairs(await redisCall(port, 'SENTINEL', 'MASTER', NAME));
          if (m.flags !== 'master' || m['num-slaves'] !== '1' || m['num-other-sentinels'] !== '2')
            return false;
          const replicas = ((await redisCall(port, 'SENTINEL', 'REPLICAS', NAME)) as unknown[]).map(pairs);
          if (!replicas.some((r) => r.flags === 'slave' && r['master-link-status'] === 'ok')) return false;
        }
        return true;
      },
      timeout,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const livePorts = () => sentinelPorts.filter((p) => procs.get(p)?.alive);
  let previous: number | undefined;
  let stopped = false;
  const waitForFailover = async (timeoutMs = 20_000) => {
    const old = previous ?? master;
    const newMasterPort = await pollUntil(
      `the Sentinels to promote a new master (not ${old})`,
      async () => {
        const named = new Set<number>();
        for (const port of livePorts()) {
          const addr = (await redisCall(port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)) as
            | string[]
            | null;
          if (!addr) return false;
          named.add(Number(addr[1]));
        }
        const [candidate] = [...named];
        if (named.size !== 1 || candidate === undefined || candidate === old) return false;
        const role = (await redisCall(candidate, 'ROLE')) as unknown[];
        return role[0] === 'master' ? candidate : false;
      },
      timeoutMs,
      50,
    );
    master = newMasterPort;
    return { newMasterPort };
  };
  return {
    sentinels: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
    name: NAME,
    get masterPort() {
      return master;
    },
    dataPorts: [masterPort0, replicaPort],
    async replicaCaughtUp(timeoutMs = 10_000) {
      const target = Number(infoFields(await redisCall(master, 'INFO', 'replication')).master_repl_offset);
      const replicas: number[] = [];
      for (const p of [masterPort0, replicaPort])
        if (p !== master && procs.get(p)?.alive)
          if (infoFields(await redisCall(p, 'INFO', 'replication')).role === 'slave') replicas.push(p);
      if (replicas.length === 0) throw new Error('replicaCaughtUp: the master has no running replica');
      await pollUntil(
        `the replica to reach replication offset ${target}`,
        async () => {
          for (const p of replicas) {
            const r = infoFields(await redisCall(p, 'INFO', 'replication'));
            if (r.master_link_status !== 'up' || Number(r.slave_repl_offset) < target) return false;
          }
          return true;
        },
        timeoutMs,
        10,
      );
      return target;
    },
    async killMaster() {
      previous = master;
      await procs.get(master)!.kill('SIGKILL');
    },
    waitForFailover,
    async manualFailover(timeoutMs?: number) {
      previous = master;
      await redisCall(livePorts()[0]!, 'SENTINEL', 'FAILOVER', NAME);
      return waitForFailover(timeoutMs);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stop();
    },
  };
}
