import { Queue, Worker } from 'bullmq';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { closeAllConnections, createRedis, type RedisClient, waitReady } from '../../src/redis/connection.js';
import { cleanPrefix, redisCall } from '../support/redis.js';
import { type RedisClusterHarness, startRedisCluster } from '../support/redis-cluster.js';

// A real Redis Cluster (3 masters + 3 replicas on loopback) and the bot's connection factory in
// cluster mode: BullMQ round trip on a hash-tagged prefix, multi-key scripts in one slot, and
// cleanPrefix over every master. Proves the harness and createRedis for REDIS_CLUSTER_NODES.

let cluster: RedisClusterHarness;
let producer: RedisClient;
let worker: RedisClient;
const prefix = `ibtest-cluster-${process.pid}`;
// BullMQ's Cluster guide: every key of a queue must hash to one slot, so the prefix is a hash tag.
const bullPrefix = `{${prefix}}`;

beforeAll(async () => {
  cluster = await startRedisCluster();
  const config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-1-2-3',
    SLACK_SIGNING_SECRET: 'abcdefgh12345678',
    REDIS_CLUSTER_NODES: cluster.nodes,
  });
  producer = createRedis(config, 'producer');
  worker = createRedis(config, 'worker');
  await Promise.all([waitReady(producer, 10_000), waitReady(worker, 10_000)]);
});

afterAll(async () => {
  await closeAllConnections();
  await cluster?.stop();
});

describe('Redis Cluster harness and createRedis in cluster mode', () => {
  it('gives Cluster clients with the role options', () => {
    expect(producer).toBeInstanceOf(Cluster);
    expect(worker).toBeInstanceOf(Cluster);
    const p = producer as Cluster;
    const w = worker as Cluster;
    expect(p.options.enableOfflineQueue).toBe(false);
    expect(w.options.enableOfflineQueue).toBe(true);
    // BullMQ refuses a worker connection whose nodes retry a bounded number of times.
    expect(w.options.redisOptions?.maxRetriesPerRequest).toBeNull();
    expect(p.options.redisOptions?.maxRetriesPerRequest).toBe(1);
  });

  it('runs a BullMQ job round trip on a hash-tagged prefix', async () => {
    const queue = new Queue('smoke', { connection: producer, prefix: bullPrefix });
    const seen: string[] = [];
    const w = new Worker(
      'smoke',
      async (job) => {
        seen.push(job.id!);
        return { doubled: (job.data as { n: number }).n * 2 };
      },
      { connection: worker, prefix: bullPrefix, concurrency: 4 },
    );
    try {
      const jobs = await Promise.all(
        Array.from({ length: 20 }, (_, i) => queue.add('double', { n: i }, { jobId: `smoke-${i}` })),
      );
      for (const [i, job] of jobs.entries()) {
        const result = await pollJob(queue, job.id!);
        expect(result).toEqual({ doubled: i * 2 });
      }
      expect(new Set(seen).size).toBe(20);
      // Every BullMQ key of the queue is in one slot: the one of the tag.
      const slot = Number(await producer.cluster('KEYSLOT', prefix));
      const owner = await nodeOfSlot(slot);
      const keys = (await redisCall(owner, 'KEYS', `${bullPrefix}:smoke:*`)) as string[];
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      await w.close();
      await queue.close();
    }
  });

  it('runs a multi-key script on keys that share a hash tag, and refuses one that spans slots', async () => {
    const a = `${prefix}:{INC-7}:timeline`;
    const b = `${prefix}:{INC-7}:delivered`;
    const lua = "redis.call('RPUSH', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])";
    expect(await producer.eval(lua, 2, a, b, 'entry')).toBe(1);
    expect(await producer.lrange(a, 0, -1)).toEqual(['entry']);
    await expect(producer.eval(lua, 2, `${prefix}:{INC-7}:x`, `${prefix}:{INC-8}:x`, 'e')).rejects.toThrow(
      /CROSSSLOT/,
    );
  });

  it('cleanPrefix deletes the prefix on every master', async () => {
    // Keys on many slots, so on every master.
    await Promise.all(Array.from({ length: 30 }, (_, i) => producer.set(`${prefix}:{INC-${i}}:k`, '1')));
    // `<prefix>:*` and the BullMQ keys `{<prefix>}:smoke:*`.
    await cleanPrefix(prefix, { clusterNodes: cluster.nodes });
    for (const port of await cluster.masterPorts())
      expect(await redisCall(port, 'DBSIZE'), `keys left on ${port}`).toBe(0);
  });
});

async function pollJob(queue: Queue, id: string): Promise<unknown> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const state = await queue.getJobState(id);
    if (state === 'completed') return (await queue.getJob(id))!.returnvalue;
    if (state === 'failed' || Date.now() > deadline) throw new Error(`job ${id} is ${state}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function nodeOfSlot(slot: number): Promise<number> {
  const slots = await producer.cluster('SLOTS');
  const range = slots.find(([from, to]) => slot >= from && slot <= to);
  if (!range?.[2]) throw new Error(`no node serves slot ${slot}`);
  return range[2][1];
}
