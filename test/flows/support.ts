import { pino } from 'pino';
import { loadConfig } from '../../src/config.js';
import type { Checkpoint } from '../../src/core/checkpoints.js';
import type { Deps } from '../../src/flows/deps.js';
import { MemoryJobs } from './memory-jobs.js';
import { MemoryStore } from './memory-store.js';

/** Where the flow tests' clock starts. */
export const T0 = new Date('2024-05-01T10:00:00.000Z');

/** What a checkpoint throws to play a crash at that step. */
export class Crash extends Error {
  constructor(readonly step: Checkpoint) {
    super(`crashed at ${step}`);
    this.name = 'Crash';
  }
}

/** A checkpoint hook that crashes once at `step` (and does nothing at the others). */
export function crashOnceAt(step: Checkpoint): (s: Checkpoint) => void {
  let done = false;
  return (s) => {
    if (s === step && !done) {
      done = true;
      throw new Crash(step);
    }
  };
}

/** A flow test's world: Deps over a MemoryStore and MemoryJobs, with a clock the test moves. */
export interface FlowWorld {
  deps: Deps;
  store: MemoryStore;
  jobs: MemoryJobs;
  /** Moves the flows' clock and the store's clock on by `ms`. */
  advance(ms: number): void;
}

/** Builds Deps for web-side flows (no Slack port): minimal config, silent log, pinned clock. */
export function flowWorld(overrides: Partial<Deps> = {}): FlowWorld {
  let t = T0.getTime();
  const store = new MemoryStore({ now: () => t });
  const jobs = new MemoryJobs();
  const deps: Deps = {
    config: loadConfig({
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_SIGNING_SECRET: 'test-signing-secret',
      LOG_LEVEL: 'silent',
    }),
    store,
    jobs,
    log: pino({ level: 'silent' }),
    now: () => new Date(t),
    checkpoint: () => {},
    ...overrides,
  };
  return {
    deps,
    store,
    jobs,
    advance: (ms) => {
      t += ms;
    },
  };
}
