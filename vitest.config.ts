import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/bench/**', 'test/faults/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start servers on loopback ports and share one Redis; files run in parallel
    // (each uses its own key prefix) but two cores is all we have.
    maxWorkers: 2,
    pool: 'forks',
    // One temporary directory per run, removed at its end (see the file).
    globalSetup: ['test/support/tmp-global-setup.ts'],
  },
});
