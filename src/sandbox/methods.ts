import { z } from 'zod';
import { BLOCK_LIMITS, validateBlocks } from './blocks.js';
import {
  type SandboxChannel,
  type SandboxFile,
  type SandboxView,
  SlackApiError,
  type Workspace,
} from './workspace.js';

/** What a method handler gets: the workspace, the parsed arguments, and the sandbox's base URL. */
export interface MethodContext {
  ws: Workspace;
  args: Record<string, unknown>;
  baseUrl: string;
}

/** A Web API method: returns the success body (without `ok`) or throws SlackApiError. */
export type MethodHandler = (ctx: MethodContext) => Record<string, unknown>;

/** Max chat.postMessage `text` (https://docs.slack.dev/reference/methods/chat.postMessage#truncating). */
export const MAX_TEXT = 40_000;
/** Max chat.update `text`: longer answers `msg_too_long` (https://docs.slack.dev/reference/methods/chat.update). */
export const MAX_UPDATE_TEXT = 4000;
/** Trigger ids expire 3 s after issue (https://docs.slack.dev/interactivity/handling-user-interaction#modal_responses). */
export const TRIGGER_TTL_MS = 3000;

// Form-encoded args are all strings; JSON-bodied args keep their types. Accept both.
const Str = z.union([z.string(), z.number()]).transform(String);
const Bool = z
  .union([z.boolean(), z.string(), z.number()])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 1);
const Int = z.union([z.number(), z.string().regex(/^-?\d+$/)]).transform(Number);

/** Parses args with `schema`; a missing field maps to its Slack error in `missing`, anything else to invalid_arguments. */
function parse<T extends z.ZodType>(
  schema: T,
  args: Record<string, unknown>,
  missing: Record<string, string> = {},
): z.infer<T> {
  const r = schema.safeParse(args);
  if (r.success) return r.data;
  for (const issue of r.error.issues) {
    const field = String(issue.path[0] ?? '');
    if (args[field] === undefined && missing[field]) throw new SlackApiError(missing[field]);
  }
  throw new SlackApiError('invalid_arguments', {
    response_metadata: {
      messages: r.error.issues.map((i) => `[ERROR] ${i.message} [json-pointer:/${i.path.join('/')}]`),
    },
  });
}

/** A JSON-valued argument: an array/object as sent in a JSON body, or a JSON string from a form body. */
function jsonArg(v: unknown, formatError: string): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new SlackApiError(formatError);
  }
}

/** Parses and validates `blocks`: invalid_blocks_format when not a JSON array, invalid_blocks on Block Kit errors. */
function blocksArg(v: unknown, max: number = BLOCK_LIMITS.blocksPerMessage): unknown[] | undefined {
  if (v === undefined || v === '') return undefined;
  const blocks = jsonArg(v, 'invalid_blocks_format');
  if (!Array.isArray(blocks)) throw new SlackApiError('invalid_blocks_format');
  if (JSON.stringify(blocks).length > BLOCK_LIMITS.blocksJson) throw new SlackApiError('msg_blocks_too_long');
  const errors = validateBlocks(blocks, max);
  if (errors.length > 0) {
    throw new SlackApiError('invalid_blocks', {
      errors,
      response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
    });
  }
  return blocks;
}

/**
 * The channel as a bot token sees it: a private channel the bot is not in does not exist for it
 * (`channel_not_found`, https://docs.slack.dev/reference/methods/conversations.info#errors).
 */
function visibleChannel(ws: Workspace, id: string | undefined): SandboxChannel {
  const c = ws.requireChannel(id);
  if (c.is_private && !c.members.includes(ws.botUserId)) throw new SlackApiError('channel_not_found');
  return c;
}

/** Every method that changes a channel or posts in it answers `is_archived` once it is archived. */
function requireNotArchived(c: SandboxChannel): void {
  if (c.is_archived) throw new SlackApiError('is_archived');
}

function requireBotMember(ws: Workspace, c: SandboxChannel): void {
  if (!c.members.includes(ws.botUserId)) throw new SlackApiError('not_in_channel');
}

/** Reading a channel with a bot token needs membership; a private one the bot is not in does not exist for it. */
function requireReadable(ws: Workspace, c: SandboxChannel): void {
  if (c.is_private && !c.members.includes(ws.botUserId)) throw new SlackApiError('channel_not_found');
  requireBotMember(ws, c);
}

/** Cursor pagination over a list: the cursor is the base64 start offset, as opaque as Slack's. */
function page<T>(items: T[], cursor: unknown, limit: number): { items: T[]; next_cursor: string } {
  const start =
    typeof cursor === 'string' && cursor ? Number(Buffer.from(cursor, 'base64').toString()) || 0 : 0;
  const slice = items.slice(start, start + limit);
  const next = start + limit < items.length ? Buffer.from(String(start + limit)).toString('base64') : '';
  return { items: slice, next_cursor: next };
}

const ChannelArg = z.object({ channel: z.string().min(1) });
const MISSING_CHANNEL = { channel: 'channel_not_found' };

const PostArgs = z.object({
  channel: z.string().min(1),
  text: Str.optional(),
  blocks: z.unknown().optional(),
  attachments: z.unknown().optional(),
  thread_ts: Str.optional(),
  reply_broadcast: Bool.optional(),
  metadata: z.unknown().optional(),
});

const Metadata = z.object({
  event_type: z.string().regex(/^[A-Za-z0-9_]+$/),
  event_payload: z.record(z.string(), z.unknown()),
});

/** `metadata` as Slack takes it: a JSON object (or its JSON string) with `event_type` and `event_payload`; `invalid_metadata_format` otherwise. */
function metadataArg(v: unknown): z.infer<typeof Metadata> | undefined {
  if (v === undefined) return undefined;
  const parsed = Metadata.safeParse(typeof v === 'string' ? jsonArg(v, 'invalid_metadata_format') : v);
  if (!parsed.success) throw new SlackApiError('invalid_metadata_format');
  return parsed.data;
}

function messageBody(args: z.infer<typeof PostArgs>): { text: string; blocks?: unknown[] } {
  const blocks = blocksArg(args.blocks);
  const text = args.text ?? '';
  if (!text && !blocks && !args.attachments) throw new SlackApiError('no_text');
  if (text.length > MAX_TEXT) throw new SlackApiError('msg_too_long');
  return { text, ...(blocks ? { blocks } : {}) };
}

const chatPostMessage: MethodHandler = ({ ws, args }) => {
  const a = parse(PostArgs, args, MISSING_CHANNEL);
  const dm = ws.users.get(a.channel);
  // A user id as `channel` posts in the app's DM with that person (the Messages tab of the App Home).
  const c = dm ? ws.dm(dm.id) : visibleChannel(ws, ws.channelByName(a.channel)?.id ?? a.channel);
  requireNotArchived(c);
  // chat:write.public lets a bot post to a public channel it has not joined
  // (https://docs.slack.dev/reference/scopes/chat.write.public); without it: not_in_channel.
  if (!c.members.includes(ws.botUserId) && !(!c.is_private && ws.hasScope('chat:write.public'))) {
    throw new SlackApiError('not_in_channel');
  }
  const body = messageBody(a);
  const metadata = metadataArg(a.metadata);
  const msg = ws.append(c, { user: ws.botUserId, bot: true, ...body, thread_ts: a.thread_ts });
  if (metadata) msg.metadata = metadata;
  return { channel: c.id, ts: msg.ts, message: ws.toWire(msg) };
};

const chatUpdate: MethodHandler = ({ ws, args }) => {
  const a = parse(PostArgs.extend({ ts: Str }), args, { ...MISSING_CHANNEL, ts: 'message_not_found' });
  const c = visibleChannel(ws, a.channel);
  requireNotArchived(c);
  const msg = ws.findMessage(c, a.ts);
  if (!msg) throw new SlackApiError('message_not_found');
  if (msg.user !== ws.botUserId || !msg.bot_id) throw new SlackApiError('cant_update_message');
  const blocks = blocksArg(a.blocks);
  const text = a.text ?? msg.text;
  if (!text && !blocks) throw new SlackApiError('no_text');
  if (text.length > MAX_UPDATE_TEXT) throw new SlackApiError('msg_too_long');
  const editTs = ws.nextTs();
  msg.history.push({ text: msg.text, ...(msg.blocks ? { blocks: msg.blocks } : {}), ts: editTs });
  msg.text = text;
  // An update replaces the message: sent without `blocks`, the old blocks are gone and only the
  // text shows (https://docs.slack.dev/reference/methods/chat.update, "blocks").
  if (blocks && blocks.length > 0) msg.blocks = blocks;
  else delete msg.blocks;
  msg.edited = { user: ws.botUserId, ts: editTs };
  return { channel: c.id, ts: msg.ts, text: msg.text, message: ws.toWire(msg) };
};

const chatPostEphemeral: MethodHandler = ({ ws, args }) => {
  const a = parse(PostArgs.extend({ user: z.string().min(1) }), args, {
    ...MISSING_CHANNEL,
    user: 'user_not_found',
  });
  const c = visibleChannel(ws, a.channel);
  requireNotArchived(c);
  ws.requireUser(a.user);
  requireBotMember(ws, c);
  if (!c.members.includes(a.user)) throw new SlackApiError('user_not_in_channel');
  const body = messageBody(a);
  const ts = ws.nextTs();
  c.ephemeral.push({
    channel: c.id,
    user: a.user,
    ts,
    ...body,
    thread_ts: a.thread_ts,
    source: 'chat.postEphemeral',
  });
  return { message_ts: ts };
};

const chatGetPermalink: MethodHandler = ({ ws, args, baseUrl }) => {
  const a = parse(z.object({ channel: z.string().min(1), message_ts: Str }), args, {
    ...MISSING_CHANNEL,
    message_ts: 'message_not_found',
  });
  const c = ws.requireChannel(a.channel);
  const msg = ws.findMessage(c, a.message_ts);
  if (!msg) throw new SlackApiError('message_not_found');
  const thread = msg.thread_ts && msg.thread_ts !== msg.ts ? `?thread_ts=${msg.thread_ts}&cid=${c.id}` : '';
  return { channel: c.id, permalink: `${baseUrl}/archives/${c.id}/p${msg.ts.replace('.', '')}${thread}` };
};

const conversationsCreate: MethodHandler = ({ ws, args }) => {
  const a = parse(z.object({ name: z.string(), is_private: Bool.optional() }), args, {
    name: 'invalid_name_required',
  });
  if (ws.knobs.restrictChannelCreation) throw new SlackApiError('restricted_action');
  const c = ws.addChannel({ name: a.name, isPrivate: a.is_private, members: [ws.botUserId] });
  return { channel: ws.channelToWire(c) };
};

const conversationsInvite: MethodHandler = ({ ws, args }) => {
  const a = parse(
    z.object({ channel: z.string().min(1), users: z.string().min(1), force: Bool.optional() }),
    args,
    {
      ...MISSING_CHANNEL,
      users: 'no_user',
    },
  );
  const c = visibleChannel(ws, a.channel);
  requireNotArchived(c);
  requireBotMember(ws, c);
  const ids = a.users.split(',').map((s) => s.trim());
  // Slack checks all users first and invites none when one fails (unless `force`), except that a
  // removed (deactivated) account fails "silently": the others are invited and the error returned
  // (https://docs.slack.dev/reference/methods/conversations.invite, "Partially failed calls").
  const errors: Array<{ user: string; ok: false; error: string }> = [];
  for (const id of ids) {
    const error = inviteError(ws, c, id);
    if (error) errors.push({ user: id, ok: false, error });
  }
  const blocking = errors.filter((e) => e.error !== 'cant_invite');
  if (blocking.length > 0 && !a.force) throw new SlackApiError(blocking[0]!.error, { errors });
  for (const id of ids) if (!errors.some((e) => e.user === id)) ws.join(c, id);
  if (errors.length > 0 && !a.force) throw new SlackApiError(errors[0]!.error, { errors });
  return { channel: ws.channelToWire(c), ...(errors.length > 0 ? { errors } : {}) };
};

/**
 * Why Slack would refuse to invite `id` to `c`, from conversations.invite's errors
 * (https://docs.slack.dev/reference/methods/conversations.invite#errors): a guest (`user_is_restricted`),
 * a single-channel guest (`user_is_ultra_restricted`, or `ura_max_channels` once in their one
 * channel), an external user (`no_external_invite_permission`), a deactivated account (`cant_invite`).
 */
function inviteError(ws: Workspace, c: SandboxChannel, id: string): string | undefined {
  const u = ws.users.get(id);
  if (!u) return 'user_not_found';
  if (id === ws.botUserId) return 'cant_invite_self';
  if (c.members.includes(id)) return 'already_in_channel';
  if (u.deleted) return 'cant_invite';
  if (u.is_stranger) return 'no_external_invite_permission';
  if (u.is_ultra_restricted) {
    const inOne = [...ws.channels.values()].some((x) => x.members.includes(id));
    return inOne ? 'ura_max_channels' : 'user_is_ultra_restricted';
  }
  if (u.is_restricted) return 'user_is_restricted';
  return undefined;
}

/**
 * conversations.archive (https://docs.slack.dev/reference/methods/conversations.archive): the bot
 * must be a member; an archived channel answers `already_archived`, #general `cant_archive_general`.
 * Archiving posts the `channel_archive` message and marks the channel archived (no more posts).
 */
const conversationsArchive: MethodHandler = ({ ws, args }) => {
  const a = parse(ChannelArg, args, MISSING_CHANNEL);
  const c = visibleChannel(ws, a.channel);
  if (c.name === 'general') throw new SlackApiError('cant_archive_general');
  requireBotMember(ws, c);
  ws.archive(c);
  return {};
};

const conversationsJoin: MethodHandler = ({ ws, args }) => {
  const a = parse(ChannelArg, args, MISSING_CHANNEL);
  const c = ws.requireChannel(a.channel);
  if (c.is_private) throw new SlackApiError('method_not_supported_for_channel_type');
  requireNotArchived(c);
  const already = c.members.includes(ws.botUserId);
  ws.join(c, ws.botUserId);
  return {
    channel: ws.channelToWire(c),
    ...(already
      ? { warning: 'already_in_channel', response_metadata: { warnings: ['already_in_channel'] } }
      : {}),
  };
};

const conversationsInfo: MethodHandler = ({ ws, args }) => {
  const a = parse(ChannelArg.extend({ include_num_members: Bool.optional() }), args, MISSING_CHANNEL);
  const c = visibleChannel(ws, a.channel);
  return { channel: ws.channelToWire(c, { numMembers: a.include_num_members }) };
};

const conversationsList: MethodHandler = ({ ws, args }) => {
  const a = parse(
    z.object({
      cursor: z.string().optional(),
      limit: Int.optional(),
      exclude_archived: Bool.optional(),
      types: z.string().optional(),
    }),
    args,
  );
  const types = new Set((a.types ?? 'public_channel').split(',').map((t) => t.trim()));
  const all = [...ws.channels.values()].filter(
    (c) =>
      (c.is_private
        ? types.has('private_channel') && c.members.includes(ws.botUserId)
        : types.has('public_channel')) && !(a.exclude_archived && c.is_archived),
  );
  const p = page(all, a.cursor, Math.min(a.limit ?? 100, 1000));
  return {
    channels: p.items.map((c) => ws.channelToWire(c)),
    response_metadata: { next_cursor: p.next_cursor },
  };
};

const conversationsMembers: MethodHandler = ({ ws, args }) => {
  const a = parse(
    ChannelArg.extend({ cursor: z.string().optional(), limit: Int.optional() }),
    args,
    MISSING_CHANNEL,
  );
  const c = ws.requireChannel(a.channel);
  const p = page(c.members, a.cursor, Math.min(a.limit ?? 100, 1000));
  return { members: p.items, response_metadata: { next_cursor: p.next_cursor } };
};

function setTopicOrPurpose(field: 'topic' | 'purpose'): MethodHandler {
  return ({ ws, args }) => {
    const a = parse(ChannelArg.extend({ [field]: Str }), args, MISSING_CHANNEL) as {
      channel: string;
    } & Record<string, string>;
    const value = a[field] ?? '';
    const c = visibleChannel(ws, a.channel);
    requireNotArchived(c);
    requireBotMember(ws, c);
    if (field === 'topic' && value.length > 250) throw new SlackApiError('too_long');
    c[field] = { value, creator: ws.botUserId, last_set: ws.nowSeconds() };
    ws.append(c, {
      user: ws.botUserId,
      subtype: `channel_${field}`,
      text: `set the channel ${field}: ${value}`,
    });
    return { channel: ws.channelToWire(c) };
  };
}

const HistoryArgs = ChannelArg.extend({
  latest: Str.optional(),
  oldest: Str.optional(),
  inclusive: Bool.optional(),
  limit: Int.optional(),
  cursor: z.string().optional(),
  include_all_metadata: Bool.optional(),
});

const conversationsHistory: MethodHandler = ({ ws, args }) => {
  const a = parse(HistoryArgs, args, MISSING_CHANNEL);
  const c = ws.requireChannel(a.channel);
  requireReadable(ws, c);
  const latest = a.latest ? Number(a.latest) : Number.POSITIVE_INFINITY;
  const oldest = a.oldest ? Number(a.oldest) : 0;
  const inRange = (ts: number) => (a.inclusive ? ts >= oldest && ts <= latest : ts > oldest && ts < latest);
  // Top-level messages only (thread replies live in conversations.replies), newest first.
  const msgs = c.messages
    .filter((m) => !m.deleted && (!m.thread_ts || m.thread_ts === m.ts) && inRange(Number(m.ts)))
    .reverse();
  const limit = Math.min(Math.max(a.limit ?? 100, 1), 999);
  const p = page(msgs, a.cursor, limit);
  return {
    messages: p.items.map((m) => ({
      ...ws.toWire(m),
      ...(a.include_all_metadata && m.metadata ? { metadata: m.metadata } : {}),
    })),
    has_more: p.next_cursor !== '',
    pin_count: c.pins.length,
    response_metadata: { next_cursor: p.next_cursor },
  };
};

const conversationsReplies: MethodHandler = ({ ws, args }) => {
  const a = parse(HistoryArgs.extend({ ts: Str }), args, { ...MISSING_CHANNEL, ts: 'thread_not_found' });
  const c = ws.requireChannel(a.channel);
  requireReadable(ws, c);
  const parent = ws.findMessage(c, a.ts);
  if (!parent) throw new SlackApiError('thread_not_found');
  const root = parent.thread_ts ?? parent.ts;
  const thread = c.messages.filter((m) => !m.deleted && (m.ts === root || m.thread_ts === root));
  const p = page(thread, a.cursor, Math.min(Math.max(a.limit ?? 1000, 1), 1000));
  return {
    messages: p.items.map((m) => ws.toWire(m)),
    has_more: p.next_cursor !== '',
    response_metadata: { next_cursor: p.next_cursor },
  };
};

const PinArgs = z.object({ channel: z.string().min(1), timestamp: Str });

const pinsAdd: MethodHandler = ({ ws, args }) => {
  const a = parse(PinArgs, args, { ...MISSING_CHANNEL, timestamp: 'no_item_specified' });
  const c = visibleChannel(ws, a.channel);
  requireNotArchived(c);
  requireBotMember(ws, c);
  if (!ws.findMessage(c, a.timestamp)) throw new SlackApiError('message_not_found');
  if (c.pins.some((p) => p.ts === a.timestamp)) throw new SlackApiError('already_pinned');
  c.pins.push({ ts: a.timestamp, created: ws.nowSeconds(), created_by: ws.botUserId });
  return {};
};

const pinsList: MethodHandler = ({ ws, args }) => {
  const a = parse(ChannelArg, args, MISSING_CHANNEL);
  const c = ws.requireChannel(a.channel);
  const items = c.pins.flatMap((p) => {
    const m = ws.findMessage(c, p.ts);
    return m
      ? [
          {
            type: 'message',
            channel: c.id,
            created: p.created,
            created_by: p.created_by,
            message: ws.toWire(m),
          },
        ]
      : [];
  });
  return { items };
};

const reactionsAdd: MethodHandler = ({ ws, args }) => {
  const a = parse(PinArgs.extend({ name: z.string().min(1) }), args, {
    ...MISSING_CHANNEL,
    timestamp: 'no_item_specified',
    name: 'invalid_name',
  });
  const c = visibleChannel(ws, a.channel);
  requireNotArchived(c);
  const m = ws.findMessage(c, a.timestamp);
  if (!m) throw new SlackApiError('message_not_found');
  const name = a.name.replace(/^:|:$/g, '');
  m.reactions ??= [];
  const r = m.reactions.find((x) => x.name === name);
  if (r?.users.includes(ws.botUserId)) throw new SlackApiError('already_reacted');
  if (r) {
    r.users.push(ws.botUserId);
    r.count += 1;
  } else {
    m.reactions.push({ name, users: [ws.botUserId], count: 1 });
  }
  return {};
};

const usersInfo: MethodHandler = ({ ws, args }) => {
  const a = parse(z.object({ user: z.string().min(1) }), args, { user: 'user_not_found' });
  return { user: ws.requireUser(a.user) };
};

const usersList: MethodHandler = ({ ws, args }) => {
  const a = parse(z.object({ cursor: z.string().optional(), limit: Int.optional() }), args);
  const p = page([...ws.users.values()], a.cursor, Math.min(a.limit ?? 200, 1000));
  return { members: p.items, cache_ts: ws.nowSeconds(), response_metadata: { next_cursor: p.next_cursor } };
};

const ViewArg = z.object({
  type: z.enum(['modal', 'home']),
  title: z.unknown().optional(),
  submit: z.unknown().optional(),
  close: z.unknown().optional(),
  blocks: z.array(z.unknown()),
  private_metadata: z.string().max(3000).optional(),
  callback_id: z.string().max(255).optional(),
  external_id: z.string().optional(),
});

/** Validates a view argument as Slack does (views.open/update/publish, a `response_action` view); throws SlackApiError `invalid_arguments`. */
export function viewArg(v: unknown): z.infer<typeof ViewArg> {
  const view = jsonArg(v, 'invalid_arguments');
  const r = ViewArg.safeParse(view);
  if (!r.success) {
    throw new SlackApiError('invalid_arguments', {
      response_metadata: {
        messages: r.error.issues.map((i) => `[ERROR] ${i.message} [json-pointer:/view/${i.path.join('/')}]`),
      },
    });
  }
  if (r.data.type === 'modal' && r.data.title === undefined) {
    throw new SlackApiError('invalid_arguments', {
      response_metadata: { messages: ['[ERROR] missing required field: title [json-pointer:/view/title]'] },
    });
  }
  // Modal title, submit and close: plain_text of at most 24 characters (@slack/types views.d.ts).
  const long = (['title', 'submit', 'close'] as const).filter((k) => {
    const t = r.data[k] as { text?: unknown } | undefined;
    return typeof t?.text === 'string' && t.text.length > BLOCK_LIMITS.viewTitle;
  });
  if (long.length > 0) {
    throw new SlackApiError('invalid_arguments', {
      response_metadata: {
        messages: long.map(
          (k) =>
            `[ERROR] must be less than ${BLOCK_LIMITS.viewTitle + 1} characters [json-pointer:/view/${k}/text]`,
        ),
      },
    });
  }
  blocksArg(r.data.blocks, BLOCK_LIMITS.blocksPerView);
  return r.data;
}

/** Stores a view for `user` (replacing `existing`, keeping its id and root) with a new hash. */
export function storeView(
  ws: Workspace,
  user: string,
  v: z.infer<typeof ViewArg>,
  existing?: SandboxView,
): SandboxView {
  const id = existing?.id ?? ws.nextId('V');
  const view: SandboxView = {
    id,
    team_id: ws.teamId,
    type: v.type,
    user,
    title: v.title,
    submit: v.submit,
    close: v.close,
    blocks: v.blocks,
    private_metadata: v.private_metadata ?? '',
    callback_id: v.callback_id ?? '',
    ...(v.external_id ? { external_id: v.external_id } : {}),
    state: { values: {} },
    hash: `${ws.nowSeconds()}.${ws.nextId('H')}`,
    root_view_id: existing?.root_view_id ?? id,
    previous_view_id: null,
    app_id: ws.appId,
    bot_id: ws.botId,
  };
  ws.views.set(id, view);
  return view;
}

function viewToWire(v: SandboxView): Record<string, unknown> {
  const { user: _user, ...rest } = v;
  return rest;
}

const viewsOpen: MethodHandler = ({ ws, args }) => {
  const a = parse(z.object({ trigger_id: z.string().min(1), view: z.unknown() }), args, {
    trigger_id: 'invalid_trigger_id',
  });
  const t = ws.triggers.get(a.trigger_id);
  if (!t) throw new SlackApiError('invalid_trigger_id');
  if (t.used) throw new SlackApiError('exchanged_trigger_id');
  if (ws.now() - t.issuedAt > TRIGGER_TTL_MS) throw new SlackApiError('expired_trigger_id');
  const v = viewArg(a.view);
  t.used = true;
  return { view: viewToWire(storeView(ws, t.user, v)) };
};

const viewsUpdate: MethodHandler = ({ ws, args }) => {
  const a = parse(
    z.object({
      view_id: z.string().optional(),
      external_id: z.string().optional(),
      hash: z.string().optional(),
      view: z.unknown(),
    }),
    args,
  );
  const existing = a.view_id
    ? ws.views.get(a.view_id)
    : [...ws.views.values()].find((v) => a.external_id && v.external_id === a.external_id);
  // A modal the user's client has closed can no longer be updated. `not_found` is in the method's
  // error list (https://docs.slack.dev/reference/methods/views.update); that a closed modal answers it
  // is our reading, not stated there. The bot only logs whatever views.update refuses.
  if (!existing || existing.closed) throw new SlackApiError('not_found');
  if (a.hash && a.hash !== existing.hash) throw new SlackApiError('hash_conflict');
  return { view: viewToWire(storeView(ws, existing.user, viewArg(a.view), existing)) };
};

const viewsPublish: MethodHandler = ({ ws, args }) => {
  const a = parse(z.object({ user_id: z.string().min(1), view: z.unknown() }), args, {
    user_id: 'user_not_found',
  });
  ws.requireUser(a.user_id);
  const v = viewArg(a.view);
  if (v.type !== 'home') throw new SlackApiError('invalid_arguments');
  const existing = [...ws.views.values()].find((x) => x.type === 'home' && x.user === a.user_id);
  return { view: viewToWire(storeView(ws, a.user_id, v, existing)) };
};

const filesGetUploadUrlExternal: MethodHandler = ({ ws, args, baseUrl }) => {
  const a = parse(
    z.object({ filename: z.string().min(1), length: Int, alt_txt: z.string().optional() }),
    args,
  );
  if (a.length <= 0) throw new SlackApiError('invalid_arguments');
  const fileId = ws.nextId('F');
  ws.uploads.set(fileId, { fileId, filename: a.filename, length: a.length });
  return { upload_url: `${baseUrl}/upload/v1/${fileId}`, file_id: fileId };
};

const FilesArg = z.array(z.object({ id: z.string(), title: z.string().optional() })).min(1);

const filesCompleteUploadExternal: MethodHandler = ({ ws, args }) => {
  const a = parse(
    z.object({
      files: z.unknown(),
      channel_id: z.string().optional(),
      channels: z.string().optional(),
      initial_comment: z.string().optional(),
      thread_ts: Str.optional(),
    }),
    args,
  );
  const files = FilesArg.safeParse(jsonArg(a.files, 'invalid_arguments'));
  if (!files.success) throw new SlackApiError('invalid_arguments');
  const channelId = a.channel_id ?? a.channels?.split(',')[0];
  const channel = channelId ? visibleChannel(ws, channelId) : undefined;
  if (channel) requireNotArchived(channel);
  if (channel) requireBotMember(ws, channel);
  const done: SandboxFile[] = [];
  for (const f of files.data) {
    const up = ws.uploads.get(f.id);
    if (!up?.bytes) throw new SlackApiError('file_not_found');
    const ext = up.filename.includes('.') ? up.filename.split('.').pop()!.toLowerCase() : 'text';
    done.push({
      id: up.fileId,
      name: up.filename,
      title: f.title ?? up.filename,
      size: up.bytes.length,
      mimetype: ext === 'md' ? 'text/markdown' : 'text/plain',
      filetype: ext === 'md' ? 'markdown' : ext,
      user: ws.botUserId,
      created: ws.nowSeconds(),
      channels: channel ? [channel.id] : [],
      content: up.bytes.toString('utf8'),
      ...(a.initial_comment ? { initial_comment: a.initial_comment } : {}),
    });
    ws.uploads.delete(f.id);
  }
  if (channel) {
    channel.files.push(...done);
    const msg = ws.append(channel, {
      user: ws.botUserId,
      bot: true,
      text: a.initial_comment ?? '',
      thread_ts: a.thread_ts,
    });
    msg.files = done;
  }
  return { files: done.map((f) => ws.fileToWire(f)) };
};

const authTest: MethodHandler = ({ ws, baseUrl }) => ({
  url: `${baseUrl}/`,
  team: 'Sandbox',
  user: 'incident-bot',
  team_id: ws.teamId,
  user_id: ws.botUserId,
  bot_id: ws.botId,
  is_enterprise_install: false,
});

/** The Web API methods the sandbox serves, by name (https://docs.slack.dev/reference/methods). */
export const METHODS: Readonly<Record<string, MethodHandler>> = {
  'auth.test': authTest,
  'chat.postMessage': chatPostMessage,
  'chat.update': chatUpdate,
  'chat.postEphemeral': chatPostEphemeral,
  'chat.getPermalink': chatGetPermalink,
  'conversations.create': conversationsCreate,
  'conversations.archive': conversationsArchive,
  'conversations.invite': conversationsInvite,
  'conversations.join': conversationsJoin,
  'conversations.info': conversationsInfo,
  'conversations.list': conversationsList,
  'conversations.members': conversationsMembers,
  'conversations.setTopic': setTopicOrPurpose('topic'),
  'conversations.setPurpose': setTopicOrPurpose('purpose'),
  'conversations.history': conversationsHistory,
  'conversations.replies': conversationsReplies,
  'pins.add': pinsAdd,
  'pins.list': pinsList,
  'reactions.add': reactionsAdd,
  'users.info': usersInfo,
  'users.list': usersList,
  'views.open': viewsOpen,
  'views.update': viewsUpdate,
  'views.publish': viewsPublish,
  'files.getUploadURLExternal': filesGetUploadUrlExternal,
  'files.completeUploadExternal': filesCompleteUploadExternal,
};
