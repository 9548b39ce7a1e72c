/**
 * A method's rate limit: `perMinute` sustained, `burst` calls allowed back to back (default: `perMinute`),
 * counted per workspace or, for chat.postMessage, per channel. https://docs.slack.dev/apis/web-api/rate-limits
 */
export interface RateLimit {
  perMinute: number;
  burst?: number;
  scope?: 'workspace' | 'channel';
}

const TIER_2: RateLimit = { perMinute: 20 };
const TIER_3: RateLimit = { perMinute: 50 };
const TIER_4: RateLimit = { perMinute: 100 };

/** Slack's published tiers for the methods the sandbox serves (https://docs.slack.dev/reference/methods). */
export const DEFAULT_RATE_LIMITS: Readonly<Record<string, RateLimit>> = {
  'auth.test': TIER_4,
  'conversations.create': TIER_2,
  // Tier 3 (https://docs.slack.dev/reference/methods/conversations.invite); one call per person invited.
  'conversations.invite': TIER_3,
  'conversations.archive': TIER_2,
  'conversations.join': TIER_3,
  'conversations.info': TIER_3,
  'conversations.list': TIER_2,
  'conversations.members': TIER_4,
  'conversations.setTopic': TIER_2,
  'conversations.setPurpose': TIER_2,
  'conversations.history': TIER_3,
  'conversations.replies': TIER_3,
  // "Special": about one message per second per channel, short bursts tolerated.
  'chat.postMessage': { perMinute: 60, burst: 10, scope: 'channel' },
  'chat.update': TIER_3,
  'chat.postEphemeral': TIER_4,
  'chat.getPermalink': TIER_4,
  'pins.add': TIER_2,
  'pins.list': TIER_2,
  'reactions.add': TIER_3,
  'users.info': TIER_4,
  'users.list': TIER_2,
  'views.open': TIER_4,
  'views.update': TIER_4,
  'views.publish': TIER_4,
  'files.getUploadURLExternal': TIER_4,
  'files.completeUploadExternal': TIER_4,
};

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by method (and channel where the limit is per channel); time in ms from `now`. */
export class RateLimiter {
  readonly #limits: Record<string, RateLimit>;
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;

  constructor(overrides: Partial<Record<string, RateLimit>> = {}, now: () => number = Date.now) {
    this.#limits = { ...DEFAULT_RATE_LIMITS };
    for (const [method, limit] of Object.entries(overrides)) {
      if (limit) this.#limits[method] = { ...DEFAULT_RATE_LIMITS[method], ...limit };
    }
    this.#now = now;
  }

  /** Takes one call's token; returns 0 when allowed, else the whole seconds to wait (`Retry-After`). */
  take(method: string, channel?: string): number {
    const limit = this.#limits[method];
    if (!limit) return 0;
    const key = limit.scope === 'channel' ? `${method}:${channel ?? ''}` : method;
    const capacity = Math.max(1, limit.burst ?? limit.perMinute);
    const perMs = limit.perMinute / 60_000;
    const now = this.#now();
    const b = this.#buckets.get(key) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + (now - b.at) * perMs);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
  }
}
