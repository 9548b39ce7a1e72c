import { randomBytes } from 'node:crypto';

/** A Slack API error: `code` is the `error` string of `{ ok: false, error }`; `extra` is merged into the body. */
export class SlackApiError extends Error {
  constructor(
    readonly code: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(code);
    this.name = 'SlackApiError';
  }
}

/** A workspace member as users.info returns it (https://docs.slack.dev/reference/objects/user-object). */
export interface SandboxUser {
  id: string;
  team_id: string;
  name: string;
  real_name: string;
  deleted: boolean;
  is_bot: boolean;
  is_admin: boolean;
  /** A guest (multi-channel guest: restricted; single-channel guest: also ultra_restricted). */
  is_restricted: boolean;
  is_ultra_restricted: boolean;
  /** A user of another organization met through Slack Connect (https://docs.slack.dev/reference/objects/user-object). */
  is_stranger?: boolean;
  tz: string;
  tz_offset: number;
  updated: number;
  profile: { real_name: string; display_name: string; email?: string; bot_id?: string };
}

/** A file shared with files.completeUploadExternal; `content` is the uploaded bytes as UTF-8. */
export interface SandboxFile {
  id: string;
  name: string;
  title: string;
  size: number;
  mimetype: string;
  filetype: string;
  user: string;
  created: number;
  channels: string[];
  content: string;
  initial_comment?: string;
}

/** One stored message (top level or thread reply); `history` holds earlier versions replaced by chat.update. */
export interface SandboxMessage {
  type: 'message';
  channel: string;
  ts: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  subtype?: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  reply_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  edited?: { user: string; ts: string };
  history: Array<{ text: string; blocks?: unknown[]; ts: string }>;
  reactions?: Array<{ name: string; users: string[]; count: number }>;
  files?: SandboxFile[];
  deleted?: boolean;
  /** Message metadata (https://docs.slack.dev/messaging/message-metadata): returned by history only with `include_all_metadata`. */
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
}

/** A message visible to one user only: chat.postEphemeral, or an ephemeral `respond()` to a response_url. */
export interface EphemeralMessage {
  channel: string;
  user: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  thread_ts?: string;
  source: 'chat.postEphemeral' | 'response_url';
}

/** A pinned item as pins.list reports it. */
export interface SandboxPin {
  ts: string;
  created: number;
  created_by: string;
}

/** A channel and everything in it; returned live by the sandbox's accessors (read, do not mutate). */
export interface SandboxChannel {
  id: string;
  name: string;
  is_private: boolean;
  is_archived: boolean;
  /** The app's DM with one person (chat.postMessage with a user id as `channel`). */
  is_im?: boolean;
  created: number;
  creator: string;
  topic: { value: string; creator: string; last_set: number };
  purpose: { value: string; creator: string; last_set: number };
  members: string[];
  messages: SandboxMessage[];
  pins: SandboxPin[];
  files: SandboxFile[];
  ephemeral: EphemeralMessage[];
}

/** A modal or home tab opened/published through views.* (https://docs.slack.dev/reference/views). */
export interface SandboxView {
  id: string;
  team_id: string;
  type: string;
  user: string;
  title?: unknown;
  submit?: unknown;
  close?: unknown;
  blocks: unknown[];
  private_metadata: string;
  callback_id: string;
  external_id?: string;
  state: { values: Record<string, unknown> };
  hash: string;
  root_view_id: string;
  previous_view_id: string | null;
  app_id: string;
  bot_id: string;
  /** Set when the user's client closed the modal (a submission acked without `response_action`, or `clear`). */
  closed?: boolean;
}

/** A `response_url` the sandbox issued: who it answers, where, and how often it was used. */
export interface ResponseUrlRecord {
  id: string;
  url: string;
  channel: string;
  user: string;
  messageTs?: string;
  issuedAt: number;
  uses: number;
}

/** A pending files.getUploadURLExternal upload. */
export interface PendingUpload {
  fileId: string;
  filename: string;
  length: number;
  bytes?: Buffer;
}

/** What {@link Workspace.addUser} takes. */
export interface SandboxUserSpec {
  id?: string;
  name: string;
  realName?: string;
  /** Default: `name`; '' for the empty display name many real profiles have. */
  displayName?: string;
  email?: string;
  isBot?: boolean;
  guest?: 'multi' | 'single';
  external?: boolean;
  deactivated?: boolean;
}

/**
 * Per-workspace settings that make the sandbox refuse what real workspaces refuse; tests flip them
 * (`sandbox.workspace.knobs.restrictChannelCreation = true`) and `--hostile` turns them all on.
 */
export interface WorkspaceKnobs {
  /** conversations.create answers `restricted_action`: admins limit who may create channels (https://docs.slack.dev/reference/methods/conversations.create). */
  restrictChannelCreation: boolean;
  /** New users get an empty `profile.display_name`, as many real profiles have (users.info still answers). */
  emptyDisplayNames: boolean;
}

const CHANNEL_NAME = /^[a-z0-9_-]+$/;

/** Validates a channel name as conversations.create does; returns Slack's error code or undefined. */
export function channelNameError(name: string): string | undefined {
  if (name.length === 0) return 'invalid_name_required';
  if (name.length > 80) return 'invalid_name_maxlength';
  if (!CHANNEL_NAME.test(name)) return 'invalid_name_specials';
  if (/^[-_]+$/.test(name)) return 'invalid_name_punctuation';
  return undefined;
}

/** Slack-shaped ids: a type letter then 10 uppercase base-36 characters. */
function makeId(prefix: string, n: number): string {
  return `${prefix}0${n.toString(36).toUpperCase().padStart(9, '0')}`;
}

/**
 * The sandbox's in-memory workspace: users, channels and their messages, pins, files, views, trigger_ids
 * and response_urls. Time comes from `now` (ms) so expiry can be tested without waiting.
 */
export class Workspace {
  readonly teamId = 'T0SANDBOX01';
  readonly teamDomain = 'sandbox';
  readonly appId = 'A0SANDBOX01';
  readonly botId = 'B0SANDBOX01';
  readonly botUserId = 'U0SANDBOT01';
  readonly users = new Map<string, SandboxUser>();
  readonly channels = new Map<string, SandboxChannel>();
  readonly views = new Map<string, SandboxView>();
  readonly triggers = new Map<string, { user: string; issuedAt: number; used: boolean }>();
  readonly responseUrls = new Map<string, ResponseUrlRecord>();
  readonly uploads = new Map<string, PendingUpload>();
  readonly knobs: WorkspaceKnobs = { restrictChannelCreation: false, emptyDisplayNames: false };
  /** The bot token's scopes (undefined: every scope); see scopes.ts. */
  grantedScopes: Set<string> | undefined;
  /** Scopes some answered call or delivered event needed, to report granted ones nobody used. */
  readonly usedScopes = new Set<string>();
  #seq = 0;
  #lastMicros = 0;

  constructor(readonly now: () => number = Date.now) {
    this.addUser({ id: this.botUserId, name: 'incident-bot', realName: 'Incident Bot', isBot: true });
  }

  /** A fresh Slack-shaped id with this type letter (`C` channel, `U` user, `F` file, `V` view, ...). */
  nextId(prefix: string): string {
    this.#seq += 1;
    return makeId(prefix, this.#seq);
  }

  /** A message timestamp (`seconds.micros`), strictly increasing across the workspace. */
  nextTs(): string {
    const micros = Math.max(this.now() * 1000, this.#lastMicros + 1);
    this.#lastMicros = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  /** Current time in Unix seconds, as Slack's `created` fields. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /**
   * Adds a member (Slack user object shape); `id` defaults to a fresh `U…`. `guest` makes a
   * multi-channel (`multi`) or single-channel (`single`) guest, `external` a user of another
   * organization, `deactivated` a removed account; `displayName` may be '' (common in real workspaces).
   */
  addUser(u: SandboxUserSpec): SandboxUser {
    const id = u.id ?? this.nextId('U');
    const realName = u.realName ?? u.name;
    const user: SandboxUser = {
      id,
      team_id: u.external ? 'T0EXTERNAL1' : this.teamId,
      name: u.name,
      real_name: realName,
      deleted: u.deactivated ?? false,
      is_bot: u.isBot ?? false,
      is_admin: false,
      is_restricted: u.guest !== undefined,
      is_ultra_restricted: u.guest === 'single',
      ...(u.external ? { is_stranger: true } : {}),
      tz: 'Etc/UTC',
      tz_offset: 0,
      updated: this.nowSeconds(),
      profile: {
        real_name: realName,
        display_name: u.displayName ?? (this.knobs.emptyDisplayNames && !u.isBot ? '' : u.name),
        ...(u.email ? { email: u.email } : {}),
        ...(u.isBot && id === this.botUserId ? { bot_id: this.botId } : {}),
      },
    };
    this.users.set(id, user);
    return user;
  }

  /** Adds a channel; throws SlackApiError for a bad name (see channelNameError) or `name_taken`. */
  addChannel(c: { name: string; members?: string[]; isPrivate?: boolean; creator?: string }): SandboxChannel {
    const err = channelNameError(c.name);
    if (err) throw new SlackApiError(err);
    if (this.channelByName(c.name)) throw new SlackApiError('name_taken');
    const now = this.nowSeconds();
    const creator = c.creator ?? this.botUserId;
    const channel: SandboxChannel = {
      id: this.nextId('C'),
      name: c.name,
      is_private: c.isPrivate ?? false,
      is_archived: false,
      created: now,
      creator,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      members: [],
      messages: [],
      pins: [],
      files: [],
      ephemeral: [],
    };
    this.channels.set(channel.id, channel);
    for (const m of c.members ?? []) this.join(channel, m);
    return channel;
  }

  /** The app's DM with `userId` (`D…`), opened on first use as chat.postMessage does for a user id. */
  dm(userId: string): SandboxChannel {
    for (const c of this.channels.values()) if (c.is_im && c.members.includes(userId)) return c;
    const now = this.nowSeconds();
    const channel: SandboxChannel = {
      id: this.nextId('D'),
      name: `dm-${userId.toLowerCase()}`,
      is_private: true,
      is_archived: false,
      is_im: true,
      created: now,
      creator: this.botUserId,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      members: [this.botUserId, userId],
      messages: [],
      pins: [],
      files: [],
      ephemeral: [],
    };
    this.channels.set(channel.id, channel);
    return channel;
  }

  /** The channel named `name` (a leading `#` is ignored), if any. */
  channelByName(name: string): SandboxChannel | undefined {
    const bare = name.replace(/^#/, '');
    for (const c of this.channels.values()) if (c.name === bare) return c;
    return undefined;
  }

  /** The channel with this id, or `channel_not_found`. */
  requireChannel(id: string | undefined): SandboxChannel {
    const c = id ? this.channels.get(id) : undefined;
    if (!c) throw new SlackApiError('channel_not_found');
    return c;
  }

  /**
   * Archives a channel as conversations.archive does (https://docs.slack.dev/reference/methods/conversations.archive):
   * `already_archived` when it is; afterwards every method that writes to it answers `is_archived`.
   */
  archive(channel: SandboxChannel, by: string = this.botUserId): void {
    if (channel.is_archived) throw new SlackApiError('already_archived');
    this.append(channel, { user: by, subtype: 'channel_archive', text: `<@${by}> archived the channel` });
    channel.is_archived = true;
  }

  /** True when the token has `scope` (always, when no scopes were set); records it as used. */
  hasScope(scope: string): boolean {
    const ok = this.grantedScopes === undefined || this.grantedScopes.has(scope);
    if (ok) this.usedScopes.add(scope);
    return ok;
  }

  /** The user with this id, or `user_not_found`. */
  requireUser(id: string): SandboxUser {
    const u = this.users.get(id);
    if (!u) throw new SlackApiError('user_not_found');
    return u;
  }

  /** Adds a member and posts the `channel_join` system message Slack shows. */
  join(channel: SandboxChannel, userId: string): void {
    if (!this.users.has(userId)) throw new SlackApiError('user_not_found');
    if (channel.members.includes(userId)) return;
    channel.members.push(userId);
    this.append(channel, {
      user: userId,
      subtype: 'channel_join',
      text: `<@${userId}> has joined the channel`,
    });
  }

  /** Stores a new message (a reply when `thread_ts` is set) and returns it. */
  append(
    channel: SandboxChannel,
    m: {
      user?: string;
      bot?: boolean;
      subtype?: string;
      text: string;
      blocks?: unknown[];
      thread_ts?: string;
    },
  ): SandboxMessage {
    const ts = this.nextTs();
    const msg: SandboxMessage = {
      type: 'message',
      channel: channel.id,
      ts,
      ...(m.user ? { user: m.user } : {}),
      ...(m.bot ? { bot_id: this.botId, app_id: this.appId } : {}),
      ...(m.subtype ? { subtype: m.subtype } : {}),
      text: m.text,
      ...(m.blocks ? { blocks: m.blocks } : {}),
      history: [],
    };
    if (m.thread_ts && m.thread_ts !== ts) {
      msg.thread_ts = m.thread_ts;
      const parent = this.findMessage(channel, m.thread_ts);
      if (parent) {
        parent.thread_ts = parent.ts;
        parent.reply_count = (parent.reply_count ?? 0) + 1;
        parent.latest_reply = ts;
        const author = m.user ?? this.botUserId;
        parent.reply_users = [...new Set([...(parent.reply_users ?? []), author])];
      }
    }
    channel.messages.push(msg);
    return msg;
  }

  /** The live (not deleted) message with this ts in the channel. */
  findMessage(channel: SandboxChannel, ts: string): SandboxMessage | undefined {
    return channel.messages.find((m) => m.ts === ts && !m.deleted);
  }

  /** Issues a trigger_id for `user`, valid for 3 s and one views.open, as Slack's are. */
  issueTrigger(user: string): string {
    const id = `${this.nowSeconds()}.${this.nextId('X').slice(1)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { user, issuedAt: this.now(), used: false });
    return id;
  }

  /** Message shape returned by the Web API: internal fields dropped, pins reported as `pinned_to`. */
  toWire(m: SandboxMessage): Record<string, unknown> {
    const { channel, history: _history, deleted: _deleted, files, metadata: _metadata, ...rest } = m;
    const c = this.channels.get(channel);
    const pinned = c?.pins.some((p) => p.ts === m.ts);
    return {
      ...rest,
      ...(m.bot_id ? { bot_profile: { id: this.botId, app_id: this.appId, name: 'incident-bot' } } : {}),
      ...(files ? { files: files.map((f) => this.fileToWire(f)) } : {}),
      ...(pinned ? { pinned_to: [channel] } : {}),
      team: this.teamId,
    };
  }

  /** File shape returned by the Web API (content dropped, permalink added). */
  fileToWire(f: SandboxFile): Record<string, unknown> {
    const { content: _content, ...rest } = f;
    return { ...rest, permalink: `https://sandbox.slack.test/files/${f.user}/${f.id}/${f.name}` };
  }

  /** Conversation object as conversations.* return it; `is_member` is from the bot's point of view. */
  channelToWire(c: SandboxChannel, opts: { numMembers?: boolean } = {}): Record<string, unknown> {
    return {
      id: c.id,
      name: c.name,
      name_normalized: c.name,
      is_channel: !c.is_private,
      is_group: c.is_private,
      is_im: false,
      is_mpim: false,
      is_private: c.is_private,
      is_archived: c.is_archived,
      is_general: false,
      is_shared: false,
      is_ext_shared: false,
      is_org_shared: false,
      is_member: c.members.includes(this.botUserId),
      created: c.created,
      creator: c.creator,
      unlinked: 0,
      topic: c.topic,
      purpose: c.purpose,
      previous_names: [],
      context_team_id: this.teamId,
      ...(opts.numMembers ? { num_members: c.members.length } : {}),
    };
  }
}
