import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The demo's virtual clock: it runs at real speed while the bot works (so a check that takes a
 * second takes a second) and `rate` times faster while the story waits for its next event (so
 * five hours pass in seconds). `now()` is what the bot, the Slack sandbox and the replayed logs see.
 */
export class VirtualClock {
  #base: number;
  #realBase = performance.now();
  #rate = 1;
  /** While fast-forwarding, the clock stops at the target instead of running past it. */
  #cap = Number.POSITIVE_INFINITY;

  constructor(start: Date) {
    this.#base = start.getTime();
  }

  /** Virtual epoch ms. */
  ms(): number {
    return Math.floor(Math.min(this.#cap, this.#base + (performance.now() - this.#realBase) * this.#rate));
  }

  /** Virtual time as a Date (the bot's injected `now`). */
  readonly now = (): Date => new Date(this.ms());

  #set(virtualMs: number, rate: number): void {
    this.#base = virtualMs;
    this.#realBase = performance.now();
    this.#rate = rate;
  }

  /** Runs `rate` times faster until `t`, then at real speed again from `t` (never backwards: a `t` in the past is a no-op). */
  async fastForward(t: Date, rate: number): Promise<void> {
    const target = t.getTime();
    const from = this.ms();
    if (from >= target) return;
    this.#set(from, Math.max(1, rate));
    // A timer a few ms late at this rate would land minutes late: the clock waits at the target.
    this.#cap = target;
    await sleep((target - from) / Math.max(1, rate));
    this.#cap = Number.POSITIVE_INFINITY;
    this.#set(target, 1);
  }
}
