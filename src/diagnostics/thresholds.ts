import { z } from 'zod';

/** Time budget of one check as the bot runs it (one `run-check` job); a check still running then ends as `error`. */
export const CHECK_BUDGET_MS = 25_000;
/** What that budget must keep besides the wait between the two stats samples: both fetches and the check itself. */
export const STATS_SAMPLE_HEADROOM_MS = 5_000;
/** The longest `statsSampleMs` the targets file accepts (20 000): any longer and traffic-distribution runs out of budget. */
export const MAX_STATS_SAMPLE_MS = CHECK_BUDGET_MS - STATS_SAMPLE_HEADROOM_MS;

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
  /** Per-server 5xx share that warns (with at least `minRequests / 2` requests)... */
  errorShare: z.number().min(0).max(1).default(0.05),
  /** ...and at least this many 5xx (a couple of errors is not a finding, whatever their share). */
  minErrors: z.number().int().positive().default(5),
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
  /**
   * Requests the load balancer could give no server (HAProxy `<NOSRV>` with a server- or proxy-side
   * termination state, nginx `no live upstreams`) make a routing finding only when there are at least this
   * many in the window...
   */
  noServerMinCount: z.number().int().positive().default(10),
  /** ...and they are at least this share of the window's requests (client noise never counts). */
  noServerMinShare: z.number().min(0).max(1).default(0.01),
  /**
   * With no weights to compare with (an access log alone) or a balancing algorithm that promises no shares
   * (`leastconn`, `source`, `uri`, hashing, cookies), one server taking more than this many times an even
   * split is flagged.
   */
  evenSplitRatio: z.number().positive().default(2),
  /** Timeout for each probe and each stats fetch. */
  probeTimeoutMs: z.number().int().positive().default(3000),
  /**
   * Gap between the two `show stat` samples used for `stot` deltas when no log is configured. It is spent
   * inside the check's budget, so it must leave STATS_SAMPLE_HEADROOM_MS of CHECK_BUDGET_MS.
   */
  statsSampleMs: z
    .number()
    .int()
    .nonnegative()
    .max(MAX_STATS_SAMPLE_MS, {
      error: (iss) =>
        `${String(iss.input)} ms leaves less than ${STATS_SAMPLE_HEADROOM_MS / 1000} s of the ${CHECK_BUDGET_MS / 1000} s check budget for the stats fetches, so traffic-distribution would time out; set it to at most ${MAX_STATS_SAMPLE_MS} (default 5000)`,
    })
    .default(5000),
});
export type Thresholds = z.infer<typeof Thresholds>;

/** The defaults, for callers that have no targets file. */
export const DEFAULT_THRESHOLDS: Thresholds = Thresholds.parse({});
