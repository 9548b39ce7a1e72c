import { DEFAULT_RATE_LIMITS, type RateLimit } from '../../src/sandbox/index.js';

/**
 * Every sandbox method limit raised to a million calls a minute: the benchmarks measure
 * incident-bot, not Slack's tiers (20 channel creations a minute would make 500 incidents take 25
 * minutes). BENCHMARKS.md says so next to the figures.
 */
export function unlimited(): Record<string, RateLimit> {
  return Object.fromEntries(
    Object.entries(DEFAULT_RATE_LIMITS).map(([m, l]) => [
      m,
      { ...l, perMinute: 1_000_000, burst: 1_000_000 },
    ]),
  );
}
