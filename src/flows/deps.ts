import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { PostmortemView } from '../core/postmortem.js';
import type { JobName, JobPayload } from '../jobs/queues.js';
import type { IncidentStore } from '../redis/store.js';

/** The job queue as flows see it. */
export interface JobQueuePort {
  enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    opts?: {
      jobId?: string;
      delay?: number;
      priority?: number;
      /** Overrides the queue's tries (8) and retry backoff (exponential from 500 ms) for this job. */
      attempts?: number;
      backoff?: { type: 'exponential' | 'fixed'; delay: number };
    },
  ): Promise<void>;
  /** Removes a waiting or delayed job (no-op when it already ran). */
  remove(name: JobName, jobId: string): Promise<void>;
  /** True while the queue holds the job: waiting, delayed, running, or kept after completing or failing. */
  exists(name: JobName, jobId: string): Promise<boolean>;
}

/** A Block Kit message as flows hand it to Slack: fallback text plus optional blocks. */
export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

/**
 * Message metadata the bot attaches to what it posts, so a retried job can tell whether its post
 * already reached Slack (https://docs.slack.dev/messaging/message-metadata).
 */
export interface PostMark {
  event_type: 'incident_bot_post';
  event_payload: { incident_id: string; key: string };
}

/** The Slack Web API calls flows make (implemented by src/slack/notifier.ts over @slack/web-api). */
export interface SlackPort {
  /** Creates a public channel; `name_taken` is reported, not thrown. */
  createChannel(
    name: string,
  ): Promise<{ ok: true; id: string; name: string } | { ok: false; error: 'name_taken' }>;
  /** Finds a channel the bot itself created, by exact name (recovers a channel created just before a crash). */
  findChannel(name: string): Promise<string | undefined>;
  invite(channelId: string, userIds: string[]): Promise<void>;
  /** Posts a message (with `mark` as its metadata); returns its ts. */
  post(channelId: string, msg: SlackMessage, mark?: PostMark): Promise<string>;
  /** The ts of a recent bot message in the channel carrying `mark`, if any (reads the last 100 messages). */
  findPosted(channelId: string, mark: PostMark): Promise<string | undefined>;
  update(channelId: string, ts: string, msg: SlackMessage): Promise<void>;
  pin(channelId: string, ts: string): Promise<void>;
  setTopic(channelId: string, topic: string): Promise<void>;
  uploadFile(
    channelId: string,
    file: { filename: string; title: string; content: string; comment: string },
  ): Promise<void>;
  /** A person's display name (falls back to the id when Slack does not know it). */
  userName(userId: string): Promise<string>;
  /** Text and author of one message (for reactions and shortcuts). */
  message(channelId: string, ts: string): Promise<{ user: string; text: string } | undefined>;
}

/** Everything a flow may touch. Worker-only ports are optional so the web process cannot call Slack by mistake. */
export interface Deps {
  config: Config;
  store: IncidentStore;
  jobs: JobQueuePort;
  log: Logger;
  /** Current time; flows never call Date.now() themselves so tests can pin it. */
  now: () => Date;
  slack?: SlackPort;
  /** Renders a postmortem view to Markdown with the user's template (loaded and checked at start-up). */
  renderPostmortem?: (view: PostmortemView) => string;
}

/** Returns the Slack port or throws: only worker-side flows call Slack. */
export function slackOf(deps: Deps): SlackPort {
  if (!deps.slack) throw new Error('this flow talks to Slack and must run in the worker');
  return deps.slack;
}
