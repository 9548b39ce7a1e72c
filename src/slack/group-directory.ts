import { type Logger, WebClient } from '@slack/web-api';
import type { GroupDirectory } from '../flows/deps.js';

/** How long a group's member list is trusted before it is read again, ms. */
const TTL_MS = 60_000;
/** A guarded command waits at most this long for Slack: Slack wants the ack within 3 s. */
const TIMEOUT_MS = 1500;

/**
 * User-group members over `usergroups.users.list` (https://docs.slack.dev/reference/methods/usergroups.users.list,
 * scope `usergroups:read`), cached per process for a minute; a read that fails or takes over 1.5 s
 * throws (the permission check then counts the person as not a member).
 */
export class SlackGroupDirectory implements GroupDirectory {
  readonly #client: WebClient;
  readonly #cache = new Map<string, { at: number; users: Promise<readonly string[]> }>();
  readonly #now: () => number;

  constructor(token: string, slackApiUrl: string, logger?: Logger, now: () => number = Date.now) {
    // No retries: a person is waiting for the answer, and a stale "no" is safer than a late one.
    this.#client = new WebClient(token, {
      slackApiUrl,
      logger,
      timeout: TIMEOUT_MS,
      retryConfig: { retries: 0 },
    });
    this.#now = now;
  }

  members(groupId: string): Promise<readonly string[]> {
    const hit = this.#cache.get(groupId);
    if (hit && this.#now() - hit.at < TTL_MS) return hit.users;
    const list = this.#client.usergroups.users.list({ usergroup: groupId, include_disabled: false });
    const users = list.then((r) => r.users ?? []);
    this.#cache.set(groupId, { at: this.#now(), users });
    // A failed read is not cached: the next command asks again.
    users.catch(() => {
      if (this.#cache.get(groupId)?.users === users) this.#cache.delete(groupId);
    });
    return users;
  }
}
