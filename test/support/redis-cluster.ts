import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  freePorts,
  infoFields,
  pollUntil,
  type RedisServerProcess,
  redisCall,
  spawnRedisServer,
} from './redis.js';

const run = promisify(execFile);

/** A Redis Cluster of the test's own on loopback: 3 masters + 3 replicas, persistence off. */
export interface RedisClusterHarness {
  /** Every node as `127.0.0.1:port,…`: the value for REDIS_CLUSTER_NODES. */
  nodes: string;
  ports: number[];
  /** The node processes, by port (to kill one in a failover test). */
  servers: Map<number, RedisServerProcess>;
  /** Ports of the nodes that are masters now (asked of the cluster). */
  masterPorts(): Promise<number[]>;
  /** Stops every node and removes the temp directory; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts 6 `redis-server --cluster-enabled yes` processes on free loopback ports (each with an
 * explicit `--cluster-port`, so the bus port is free too and never port+10000 > 65535), joins
 * them with `redis-cli --cluster create … --cluster-replicas 1 --cluster-yes`, then polls until
 * every node says `cluster_state:ok` with all 16384 slots assigned and ok, knows all 6 nodes, and
 * every replica's link to its master is up. Always call `stop()` (afterAll); the processes are
 * also killed when the test process exits.
 */
export async function startRedisCluster(
  opts: { nodeTimeoutMs?: number; readyTimeoutMs?: number } = {},
): Promise<RedisClusterHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'ib-redis-cluster-'));
  const all = await freePorts(12);
  const ports = all.slice(0, 6);
  const servers = new Map<number, RedisServerProcess>();
  const stop = async () => {
    await Promise.all([...servers.values()].map((s) => s.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const started = await Promise.all(
      ports.map((port, i) =>
        spawnRedisServer(port, [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-port',
          String(all[6 + i]),
          '--cluster-config-file',
          join(dir, `nodes-${port}.conf`),
          '--cluster-node-timeout',
          String(opts.nodeTimeoutMs ?? 2000),
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
        ]),
      ),
    );
    for (const s of started) servers.set(s.port, s);

    const create = await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    ).catch((err: Error & { stdout?: string; stderr?: string }) => {
      throw new Error(
        `redis-cli --cluster create failed: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`,
      );
    });
    if (!/All 16384 slots covered/.test(create.stdout))
      throw new Error(`redis-cli --cluster create did not cover every slot:\n${create.stdout}`);

    const timeout = opts.readyTimeoutMs ?? 30_000;
    await pollUntil(
      'every cluster node to report cluster_state:ok with all slots covered',
      async () => {
        for (const port of ports) {
          const info = infoFields(await redisCall(port, 'CLUSTER', 'INFO'));
          if (
            info.cluster_state !== 'ok' ||
            info.cluster_slots_assigned !== '16384' ||
            info.cluster_slots_ok !== '16384' ||
            info.cluster_known_nodes !== '6'
          )
            return false;
        }
        return true;
      },
      timeout,
      100,
    );
    await pollUntil(
      '3 masters and 3 replicas in sync',
      async () => {
        let masters = 0;
        let replicas = 0;
        for (const port of ports) {
          const repl = infoFields(await redisCall(port, 'INFO', 'replication'));
          if (repl.role === 'master') masters++;
          else if (repl.master_link_status === 'up' && repl.master_sync_in_progress === '0') replicas++;
        }
        return masters === 3 && replicas === 3;
      },
      timeout,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }

  let stopped = false;
  return {
    nodes: ports.map((p) => `127.0.0.1:${p}`).join(','),
    ports,
    servers,
    async masterPorts() {
      const out: number[] = [];
      for (const [port, s] of servers) {
        if (!s.alive) continue;
        const repl = infoFields(await redisCall(port, 'INFO', 'replication').catch(() => ''));
        if (repl.role === 'master') out.push(port);
      }
      return out;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stop();
    },
  };
}
