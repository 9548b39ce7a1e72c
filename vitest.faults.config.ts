import { defineConfig } from 'vitest/config';

// `npm run test:faults` (called by .ci/run): failure tests that kill processes, restart a Redis of
// their own and fuzz the request paths. Kept out of `npm test` because they take minutes.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 150_000,
    hookTimeout: 60_000,
    // Each file spawns web/worker processes; two cores is all we have.
    maxWorkers: 2,
    pool: 'forks',
    // One temporary directory per run, removed at its end (see the file).
    globalSetup: ['test/support/tmp-global-setup.ts'],
  },
});
