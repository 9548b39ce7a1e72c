import { type RedisClusterHarness, startRedisCluster } from './redis-cluster.js';

// globalSetup of vitest.cluster.config.ts: ONE Redis Cluster (3 masters + 3 replicas on loopback)
// for the whole run, started before the test workers fork. Its nodes reach the workers as
// TEST_REDIS_CLUSTER_NODES (forks inherit the environment), which test/support/redis.ts reads:
// harnesses then start the bot with REDIS_CLUSTER_NODES and clean up on every master. Files share
// the cluster as they share the one Redis in `npm test`: each uses its own key prefix.
// With TEST_REDIS_CLUSTER_NODES already set (a cluster of your own), it is used as is.

let cluster: RedisClusterHarness | undefined;

export default async function setup(): Promise<() => Promise<void>> {
  if (!process.env.TEST_REDIS_CLUSTER_NODES) {
    // cluster-node-timeout is only about failover detection; nothing in these suites kills a node.
    cluster = await startRedisCluster({ readyTimeoutMs: 60_000 });
    process.env.TEST_REDIS_CLUSTER_NODES = cluster.nodes;
  }
  return async () => {
    await cluster?.stop();
  };
}
