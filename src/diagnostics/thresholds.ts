import { z } from 'zod';

/**
 * Tunable limits with their defaults (all optional in targets.yml under `thresholds:`).
 * Shares are fractions 0..1, times are ms unless the name says otherwise.
 */
export const Thresholds = z.object({
  /** Fewer requests than this in a pool: no verdict on its distribution. */
  minRequests: z.number().int().positive().default(50),
  /** A usable server above `skewHigh` x or below `skewLow` x its expected share is skewed... */
  skewHigh: z.number().positive().default(1.5),
  skewLow: z.number().positive().default(0.5),
  /** ...when the binomial z-score also exceeds this (so a healthy even pool does not alarm on noise). */
  skewZ: z.number().positive().default(4),
  /** One server weighted at least this many times the median of its peers, taking over half the pool, concentrates traffic. */
  weightRatio: z.number().positive().default(3),
  /** Per-server 5xx share that warns (with at least `minRequests / 2` requests). */
  errorShare: z.number().min(0).max(1).default(0.05),
  /** A config change within this many minutes counts as recent. */
  recentChangeMinutes: z
    .number()
    .positive()
    .default(24 * 60),
  /** Database connect + `select 1` slower than this warns. */
  databaseMs: z.number().positive().default(250),
  /** TCP connect to a backend slower than this warns. */
  connectMs: z.number().positive().default(200),
  /** Endpoint HTTP answer slower than this warns. */
  endpointMs: z.number().positive().default(1000),
  /** Window volume at least this many times the previous window is a surge. */
  surgeRatio: z.number().positive().default(3),
  /** Timeout for each probe and each stats fetch. */
  probeTimeoutMs: z.number().int().positive().default(3000),
  /** Gap between the two `show stat` samples used for `stot` deltas when no log is configured. */
  statsSampleMs: z.number().int().nonnegative().default(5000),
});
export type Thresholds = z.infer<typeof Thresholds>;

/** The defaults, for callers that have no targets file. */
export const DEFAULT_THRESHOLDS: Thresholds = Thresholds.parse({});
