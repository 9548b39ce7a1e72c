import { defineConfig } from 'vitest/config';

// `npm run test:cluster` (called by .ci/run): the lifecycle and alert exactly-once end-to-end
// suites again, against a real Redis Cluster (3 masters + 3 replicas, `redis-server
// --cluster-enabled yes` joined by `redis-cli --cluster create`) that the globalSetup starts on
// loopback once for the run; the bot runs with REDIS_CLUSTER_NODES (test/support/redis.ts).
export default defineConfig({
  test: {
    include: [
      'test/lifecycle/*.test.ts',
      // Alert exactly-once: concurrent copies and retries across 2 web + 2 worker processes and a
      // SIGKILLed worker; one incident per group in every wire format and from a real Alertmanager;
      // a new linked incident after a close; one raise per worse alert, none for duplicates; a
      // storm of 100 groups opening 100 channels in order.
      'test/alerts-e2e/multi-process.test.ts',
      'test/alerts-e2e/formats.test.ts',
      'test/alerts-e2e/alertmanager-to-bot.test.ts',
      'test/alerts-e2e/after-close.test.ts',
      'test/alerts-e2e/severity-raise.test.ts',
      'test/alerts-e2e/storm.test.ts',
      // Not here: bad-input.test.ts cuts Redis with a TCP proxy in front of one Redis port (a
      // Cluster client follows the node addresses CLUSTER SLOTS announces, past any proxy) and
      // SCANs one node for leftovers; alert-render.test.ts is pure rendering; the reminder suites
      // (BullMQ delayed jobs, not alert ingestion) pass on the cluster too but take a minute more.
    ],
    // http-edge.test.ts cuts Redis behind a TCP proxy (like bad-input above) and tests the web
    // server's limits, which do not depend on the Redis mode.
    exclude: ['test/lifecycle/http-edge.test.ts', '**/node_modules/**'],
    globalSetup: ['test/support/tmp-global-setup.ts', 'test/support/cluster-global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // As vitest.config.ts: files run in parallel, each under its own prefix; two cores is all we have.
    maxWorkers: 2,
    pool: 'forks',
  },
});
