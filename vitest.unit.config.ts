import { defineConfig } from 'vitest/config';

// The unit suites: no bot processes end to end (those are *-e2e, lifecycle, demo, faults, browser).
// .ci/run runs these again on the newest Node LTS (see "engines" in package.json).
export default defineConfig({
  test: {
    include: [
      'test/core/**/*.test.ts',
      'test/flows/**/*.test.ts',
      'test/postmortem/**/*.test.ts',
      'test/sandbox/**/*.test.ts',
      'test/alerts/**/*.test.ts',
      'test/diagnostics/**/*.test.ts',
      'test/redis/**/*.test.ts',
      'test/doctor/**/*.test.ts',
      'test/ci/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    pool: 'forks',
    // One temporary directory per run, removed at its end (see the file).
    globalSetup: ['test/support/tmp-global-setup.ts'],
  },
});
