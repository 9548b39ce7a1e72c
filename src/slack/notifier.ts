import type { KnownBlock } from '@slack/types';
import { type Logger, type WebAPICallResult, WebClient } from '@slack/web-api';
import { SlackRefused } from '../core/errors.js';
import type { InviteRefusal, PostMark, SlackMessage, SlackPort } from '../flows/deps.js';
import { channelTopic } from './escape.js';
import { isRefusal } from './refusals.js';

/** Slack error codes that mean "already done", safe to treat as success on a retried job. */
const ALREADY = new Set(['already_in_channel', 'already_pinned', 'cant_invite_self']);

/** Invite refusals about the channel, not the person: every other invite would fail the same way. */
const CHANNEL_REFUSALS = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'missing_scope']);

function errorCode(err: unknown): string | undefined {
  return (err as { data?: { error?: string } })?.data?.error;
}

/** Rethrows a Slack refusal (see refusals.ts) as SlackRefused, anything else as it is (retried by the job). */
function refused(method: string, err: unknown): never {
  const code = errorCode(err);
  if (isRefusal(code)) throw new SlackRefused(method, code);
  throw err;
}

/**
 * The Slack port over @slack/web-api's WebClient (https://api.slack.com/methods). The client
 * retries 429s after `Retry-After` and 5xx with backoff; other errors throw so the BullMQ job retries.
 */
export class SlackNotifier implements SlackPort {
  readonly client: WebClient;
  private botUserId: string | undefined;

  constructor(token: string, slackApiUrl: string, logger?: Logger) {
    this.client = new WebClient(token, {
      slackApiUrl,
      logger,
      retryConfig: { retries: 10, factor: 1.6, minTimeout: 100, maxTimeout: 10_000 },
      rejectRateLimitedCalls: false,
    });
  }

  async createChannel(name: string, opts: { isPrivate?: boolean } = {}) {
    try {
      // A private channel needs groups:write (https://docs.slack.dev/reference/methods/conversations.create).
      const res = await this.client.conversations.create({ name, is_private: opts.isPrivate ?? false });
      return { ok: true as const, id: res.channel!.id!, name: res.channel!.name! };
    } catch (err) {
      if (errorCode(err) === 'name_taken') return { ok: false as const, error: 'name_taken' as const };
      refused('conversations.create', err);
    }
  }

  async findChannel(name: string): Promise<string | undefined> {
    this.botUserId ??= (await this.client.auth.test()).user_id;
    let cursor: string | undefined;
    do {
      const res = await this.client.conversations.list({
        limit: 1000,
        cursor,
        exclude_archived: true,
        // Private ones too (groups:read): a private incident's channel is recovered the same way.
        types: 'public_channel,private_channel',
      });
      // Only a channel the bot created: a person's channel of the same name is a real clash.
      const hit = res.channels?.find((c) => c.name === name && c.creator === this.botUserId);
      if (hit?.id) return hit.id;
      cursor = res.response_metadata?.next_cursor || undefined;
    } while (cursor);
    return undefined;
  }

  async invite(channelId: string, userIds: string[]): Promise<InviteRefusal[]> {
    // Invite one by one: a bulk call fails whole on one guest, deactivated or external user
    // (https://docs.slack.dev/reference/methods/conversations.invite, "Partially failed calls").
    const refusals: InviteRefusal[] = [];
    for (const user of userIds) {
      try {
        await this.client.conversations.invite({ channel: channelId, users: user });
      } catch (err) {
        const code = errorCode(err);
        if (ALREADY.has(code ?? '')) continue;
        if (isRefusal(code) && !CHANNEL_REFUSALS.has(code)) refusals.push({ user, error: code });
        else refused('conversations.invite', err);
      }
    }
    return refusals;
  }

  async post(channelId: string, msg: SlackMessage, mark?: PostMark): Promise<string> {
    try {
      const res: WebAPICallResult & { ts?: string } = await this.client.chat.postMessage({
        channel: channelId,
        text: msg.text,
        // biome-ignore lint/suspicious/noExplicitAny: blocks are built by our pure renderers and checked by Slack.
        blocks: msg.blocks as any,
        unfurl_links: false,
        ...(msg.threadTs ? { thread_ts: msg.threadTs } : {}),
        ...(mark ? { metadata: mark } : {}),
      });
      return res.ts!;
    } catch (err) {
      refused('chat.postMessage', err);
    }
  }

  async findPosted(channelId: string, mark: PostMark): Promise<string | undefined> {
    const res = await this.client.conversations.history({
      channel: channelId,
      limit: 100,
      include_all_metadata: true,
    });
    const hit = res.messages?.find((m) => {
      const md = (m as { metadata?: { event_type?: string; event_payload?: Record<string, unknown> } })
        .metadata;
      return (
        md?.event_type === mark.event_type &&
        md.event_payload?.incident_id === mark.event_payload.incident_id &&
        md.event_payload?.key === mark.event_payload.key
      );
    });
    return hit?.ts;
  }

  async update(channelId: string, ts: string, msg: SlackMessage): Promise<void> {
    // biome-ignore lint/suspicious/noExplicitAny: see post().
    await this.client.chat.update({ channel: channelId, ts, text: msg.text, blocks: msg.blocks as any });
  }

  async pin(channelId: string, ts: string): Promise<void> {
    try {
      await this.client.pins.add({ channel: channelId, timestamp: ts });
    } catch (err) {
      if (!ALREADY.has(errorCode(err) ?? '')) throw err;
    }
  }

  async archiveChannel(channelId: string): Promise<'archived' | 'already_archived'> {
    try {
      await this.client.conversations.archive({ channel: channelId });
      return 'archived';
    } catch (err) {
      if (errorCode(err) === 'already_archived') return 'already_archived';
      throw err;
    }
  }

  async publishHome(userId: string, view: { type: 'home'; blocks: unknown[] }): Promise<void> {
    // Blocks are built by src/slack/home-render.ts with Block Kit's shapes.
    await this.client.views.publish({
      user_id: userId,
      view: { type: 'home', blocks: view.blocks as KnownBlock[] },
    });
  }

  async setTopic(channelId: string, topic: string): Promise<void> {
    // A topic is shown like message text: a title with `<!channel>` must not ping the channel.
    await this.client.conversations.setTopic({ channel: channelId, topic: channelTopic(topic) });
  }

  async uploadFile(
    channelId: string,
    f: { filename: string; title: string; content: string; comment: string; threadTs?: string },
  ): Promise<void> {
    const file = { filename: f.filename, title: f.title, content: f.content, initial_comment: f.comment };
    await (f.threadTs
      ? this.client.filesUploadV2({ channel_id: channelId, thread_ts: f.threadTs, ...file })
      : this.client.filesUploadV2({ channel_id: channelId, ...file }));
  }

  async userName(userId: string): Promise<string> {
    try {
      const res = await this.client.users.info({ user: userId });
      const u = res.user;
      return u?.profile?.display_name || u?.real_name || u?.name || userId;
    } catch {
      return userId;
    }
  }

  async message(channelId: string, ts: string): Promise<{ user: string; text: string } | undefined> {
    const res = await this.client.conversations.history({
      channel: channelId,
      latest: ts,
      oldest: ts,
      inclusive: true,
      limit: 1,
    });
    let m = res.messages?.find((x) => x.ts === ts);
    if (!m) {
      // Not a top-level message: a thread reply is only in its thread
      // (https://docs.slack.dev/reference/methods/conversations.replies takes the ts of any message in it).
      try {
        const thread = await this.client.conversations.replies({ channel: channelId, ts, limit: 1000 });
        m = thread.messages?.find((x) => x.ts === ts);
      } catch (err) {
        if (errorCode(err) !== 'thread_not_found') throw err;
      }
    }
    if (!m) return undefined;
    return { user: m.user ?? m.bot_id ?? 'unknown', text: m.text ?? '' };
  }
}
