import { createHmac, randomBytes } from 'node:crypto';
import type { Sandbox } from './server.js';

/**
 * Slack's request signature: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed by the signing
 * secret; `timestamp` in Unix seconds. https://docs.slack.dev/authentication/verifying-requests-from-slack
 */
export function sign(body: string, timestamp: number | string, secret: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/** Per-request overrides: a Slack retry (`retryNum`, `retryReason`), a stale `timestamp` (s), or a forged `signature`. */
export interface SendOptions {
  retryNum?: number;
  retryReason?: string;
  timestamp?: number;
  signature?: string;
}

/**
 * What the app answered: HTTP status, body (parsed JSON when it is JSON, else text), headers. Over
 * Socket Mode: 200 with the ack's payload as body ('' for a bare ack), or 408 when no ack came in
 * time; `envelopeId` names the envelope.
 */
export interface SimResponse {
  status: number;
  body: unknown;
  headers: Headers;
  envelopeId?: string;
  /** Milliseconds from sending the request to the app's full answer. */
  elapsedMs?: number;
  /**
   * True when the app answered after Slack's 3 seconds: Slack has already shown the user a timeout
   * (`operation_timeout`) and drops the answer.
   * https://docs.slack.dev/interactivity/implementing-slash-commands#responding_to_commands
   */
  late?: boolean;
}

/** Slack's deadline for acknowledging a slash command or an interaction, ms. */
export const SLACK_ACK_DEADLINE_MS = 3000;

/** A slash command's answer plus the response_url / trigger_id it carried. */
export interface SlashCommandResponse extends SimResponse {
  responseUrlId?: string;
  responseUrl: string;
  triggerId: string;
}

/** Options for {@link SlackClientSim}: where the app listens, its signing secret, and the sandbox for ids. */
export interface SlackClientSimOptions {
  /** E.g. `http://127.0.0.1:3000/slack/events`. */
  appUrl: string;
  signingSecret: string;
  sandbox?: Sandbox;
  teamId?: string;
  appId?: string;
  /** Legacy verification token Slack still sends in payloads. */
  token?: string;
  /**
   * How requests reach the app: `http` (default: signed POSTs to `appUrl`) or `socket` (envelopes
   * over the sandbox's Socket Mode connection, https://docs.slack.dev/apis/events-api/using-socket-mode).
   */
  transport?: 'http' | 'socket';
}

interface Actor {
  user: { id: string; username: string; name: string; team_id: string };
  team: { id: string; domain: string };
}

/**
 * Plays Slack's side towards the app: signed slash commands, shortcuts, block actions, view submissions and
 * Events API callbacks, in the wire formats of https://docs.slack.dev/interactivity and
 * https://docs.slack.dev/apis/events-api. With a `sandbox`, users, channels, messages, trigger_ids and
 * response_urls come from it (unknown ids throw), so the app's follow-up API calls land on real state.
 */
export class SlackClientSim {
  readonly appUrl: string;
  readonly #secret: string;
  readonly #sandbox: Sandbox | undefined;
  readonly teamId: string;
  readonly appId: string;
  readonly token: string;
  readonly transport: 'http' | 'socket';

  constructor(opts: SlackClientSimOptions) {
    this.appUrl = opts.appUrl;
    this.#secret = opts.signingSecret;
    this.#sandbox = opts.sandbox;
    this.teamId = opts.teamId ?? opts.sandbox?.teamId ?? 'T0SANDBOX01';
    this.appId = opts.appId ?? opts.sandbox?.workspace.appId ?? 'A0SANDBOX01';
    this.token = opts.token ?? 'sandbox-verification-token';
    this.transport = opts.transport ?? 'http';
    if (this.transport === 'socket' && !opts.sandbox?.socketMode)
      throw new Error('SlackClientSim: transport "socket" needs a sandbox serving Socket Mode');
  }

  /** Sends a signed raw body; the low-level path every other method uses. */
  async send(body: string, contentType: string, opts: SendOptions = {}): Promise<SimResponse> {
    const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      'content-type': contentType,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': opts.signature ?? sign(body, ts, this.#secret),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    };
    if (opts.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(opts.retryNum);
      headers['x-slack-retry-reason'] = opts.retryReason ?? 'http_timeout';
    }
    const t0 = performance.now();
    const res = await fetch(this.appUrl, { method: 'POST', headers, body });
    const text = await res.text();
    const elapsedMs = performance.now() - t0;
    let parsed: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json') && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return {
      status: res.status,
      body: parsed,
      headers: res.headers,
      elapsedMs,
      late: elapsedMs > SLACK_ACK_DEADLINE_MS,
    };
  }

  /**
   * Sends `/incident text` (or `command`) as Slack does: form-encoded, with a sandbox-hosted response_url and
   * a trigger_id. https://docs.slack.dev/interactivity/implementing-slash-commands#app_command_handling
   */
  async slashCommand(
    cmd: { command?: string; text?: string; userId: string; channelId: string },
    opts: SendOptions = {},
  ): Promise<SlashCommandResponse> {
    this.#needs('slash_command');
    const actor = this.#actor(cmd.userId);
    const channelName = this.#channelName(cmd.channelId);
    const rurl = this.#responseUrl(cmd.channelId, cmd.userId);
    const triggerId = this.#trigger(cmd.userId);
    const form = new URLSearchParams({
      token: this.token,
      team_id: this.teamId,
      team_domain: actor.team.domain,
      channel_id: cmd.channelId,
      channel_name: channelName,
      user_id: cmd.userId,
      user_name: actor.user.username,
      command: cmd.command ?? '/incident',
      text: cmd.text ?? '',
      api_app_id: this.appId,
      is_enterprise_install: 'false',
      response_url: rurl.url,
      trigger_id: triggerId,
    });
    const res =
      this.transport === 'socket'
        ? await this.#socket('slash_commands', Object.fromEntries(form))
        : await this.send(form.toString(), 'application/x-www-form-urlencoded', opts);
    return { ...res, responseUrl: rurl.url, ...(rurl.id ? { responseUrlId: rurl.id } : {}), triggerId };
  }

  /**
   * A message shortcut (`message_action`) on a message; with a sandbox, `messageTs` picks the stored message.
   * https://docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload
   */
  async messageShortcut(
    s: {
      callbackId: string;
      userId: string;
      channelId: string;
      messageTs?: string;
      message?: { ts: string; user?: string; text: string };
    },
    opts: SendOptions = {},
  ): Promise<SimResponse & { responseUrlId?: string; triggerId: string }> {
    this.#needs('shortcut');
    const actor = this.#actor(s.userId);
    const message = this.#message(s.channelId, s.messageTs, s.message);
    const rurl = this.#responseUrl(s.channelId, s.userId, message.ts as string);
    const triggerId = this.#trigger(s.userId);
    const payload = {
      type: 'message_action',
      token: this.token,
      action_ts: actionTs(),
      team: actor.team,
      user: actor.user,
      channel: { id: s.channelId, name: this.#channelName(s.channelId) },
      is_enterprise_install: false,
      enterprise: null,
      callback_id: s.callbackId,
      trigger_id: triggerId,
      response_url: rurl.url,
      message_ts: message.ts,
      message,
    };
    const res = await this.#sendPayload(payload, opts);
    return { ...res, ...(rurl.id ? { responseUrlId: rurl.id } : {}), triggerId };
  }

  /** A global shortcut (`shortcut`). https://docs.slack.dev/reference/interaction-payloads/shortcuts-interaction-payload */
  async globalShortcut(
    s: { callbackId: string; userId: string },
    opts: SendOptions = {},
  ): Promise<SimResponse & { triggerId: string }> {
    const actor = this.#actor(s.userId);
    const triggerId = this.#trigger(s.userId);
    const payload = {
      type: 'shortcut',
      token: this.token,
      action_ts: actionTs(),
      team: actor.team,
      user: { id: actor.user.id, username: actor.user.username, team_id: actor.user.team_id },
      is_enterprise_install: false,
      enterprise: null,
      callback_id: s.callbackId,
      trigger_id: triggerId,
    };
    return { ...(await this.#sendPayload(payload, opts)), triggerId };
  }

  /**
   * A button click (`block_actions`) in a view the app published, e.g. the Home tab: the container is
   * the view, there is no channel or message. https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
   */
  async viewBlockAction(
    a: { actionId: string; userId: string; viewId?: string; viewType?: 'home' | 'modal' },
    opts: SendOptions = {},
  ): Promise<SimResponse & { triggerId: string }> {
    const actor = this.#actor(a.userId);
    const triggerId = this.#trigger(a.userId);
    const viewId = a.viewId ?? 'V0SANDHOME';
    const payload = {
      type: 'block_actions',
      user: actor.user,
      api_app_id: this.appId,
      token: this.token,
      container: { type: 'view', view_id: viewId },
      trigger_id: triggerId,
      team: actor.team,
      enterprise: null,
      is_enterprise_install: false,
      view: { id: viewId, type: a.viewType ?? 'home', team_id: actor.team.id },
      actions: [{ action_id: a.actionId, block_id: 'sandbox-block', type: 'button', action_ts: actionTs() }],
    };
    return { ...(await this.#sendPayload(payload, opts)), triggerId };
  }

  /**
   * A button click (`block_actions`) in a message; with a sandbox, `messageTs` picks the stored message.
   * https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
   */
  async blockAction(
    a: {
      actionId: string;
      blockId?: string;
      value?: string;
      userId: string;
      channelId: string;
      messageTs: string;
      type?: string;
    },
    opts: SendOptions = {},
  ): Promise<SimResponse & { responseUrlId?: string; triggerId: string }> {
    const actor = this.#actor(a.userId);
    const message = this.#message(a.channelId, a.messageTs);
    const rurl = this.#responseUrl(a.channelId, a.userId, a.messageTs);
    const triggerId = this.#trigger(a.userId);
    const payload = {
      type: 'block_actions',
      user: actor.user,
      api_app_id: this.appId,
      token: this.token,
      container: { type: 'message', message_ts: a.messageTs, channel_id: a.channelId, is_ephemeral: false },
      trigger_id: triggerId,
      team: actor.team,
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: a.channelId, name: this.#channelName(a.channelId) },
      message,
      state: { values: {} },
      response_url: rurl.url,
      actions: [
        {
          action_id: a.actionId,
          block_id: a.blockId ?? findBlockId(message.blocks, a.actionId) ?? 'sandbox-block',
          type: a.type ?? 'button',
          ...(a.value !== undefined ? { value: a.value } : {}),
          action_ts: actionTs(),
        },
      ],
    };
    const res = await this.#sendPayload(payload, opts);
    return { ...res, ...(rurl.id ? { responseUrlId: rurl.id } : {}), triggerId };
  }

  /**
   * A modal submission (`view_submission`). With a sandbox and `viewId` (default: the user's latest modal with
   * this callback_id) the view's blocks and private_metadata come from views.open.
   * `stateValues` is `view.state.values`: `{ [block_id]: { [action_id]: { type, value | selected_option ... } } }`.
   * https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload#view_submission
   */
  async viewSubmission(
    v: {
      callbackId: string;
      userId: string;
      stateValues: Record<string, Record<string, unknown>>;
      privateMetadata?: string;
      viewId?: string;
    },
    opts: SendOptions = {},
  ): Promise<SimResponse> {
    const actor = this.#actor(v.userId);
    const opened = this.#sandbox
      ?.views()
      .filter((x) => (v.viewId ? x.id === v.viewId : x.callback_id === v.callbackId && x.user === v.userId))
      .at(-1);
    if (this.#sandbox && v.viewId && !opened) throw new Error(`sandbox has no view ${v.viewId}`);
    const id = opened?.id ?? `V${randomBytes(5).toString('hex').toUpperCase()}`;
    const payload = {
      type: 'view_submission',
      team: actor.team,
      user: actor.user,
      api_app_id: this.appId,
      token: this.token,
      trigger_id: this.#trigger(v.userId),
      view: {
        id,
        team_id: this.teamId,
        type: 'modal',
        blocks: opened?.blocks ?? [],
        private_metadata: v.privateMetadata ?? opened?.private_metadata ?? '',
        callback_id: v.callbackId,
        state: { values: v.stateValues },
        hash: opened?.hash ?? `${Math.floor(Date.now() / 1000)}.sandbox`,
        title: opened?.title ?? { type: 'plain_text', text: 'Sandbox' },
        clear_on_close: false,
        notify_on_close: false,
        close: opened?.close ?? null,
        submit: opened?.submit ?? null,
        previous_view_id: null,
        root_view_id: opened?.root_view_id ?? id,
        app_id: this.appId,
        external_id: opened?.external_id ?? '',
        app_installed_team_id: this.teamId,
        bot_id: opened?.bot_id ?? 'B0SANDBOX01',
      },
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    const res = await this.#sendPayload(payload, opts);
    if (this.#sandbox && opened && res.status === 200)
      this.#sandbox.applyViewSubmissionAnswer(opened.id, res.body, res.late);
    return res;
  }

  /**
   * An Events API callback (JSON `event_callback` envelope). Pass `eventId` with `retryNum` to replay one
   * delivery as Slack's retries do. https://docs.slack.dev/apis/events-api/#callback-field
   */
  async event(
    event: { type: string } & Record<string, unknown>,
    opts: SendOptions & { eventId?: string } = {},
  ): Promise<SimResponse & { eventId: string }> {
    const eventId = opts.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`;
    const now = Math.floor(Date.now() / 1000);
    const envelope = {
      token: this.token,
      team_id: this.teamId,
      context_team_id: this.teamId,
      api_app_id: this.appId,
      event: { event_ts: actionTs(), ...event },
      type: 'event_callback',
      event_id: eventId,
      event_time: now,
      authorizations: [
        {
          enterprise_id: null,
          team_id: this.teamId,
          user_id: this.#sandbox?.botUserId ?? 'U0SANDBOT01',
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
      event_context: `4-${Buffer.from(eventId).toString('base64url')}`,
    };
    const res =
      this.transport === 'socket'
        ? await this.#socket('events_api', envelope, opts)
        : await this.send(JSON.stringify(envelope), 'application/json', opts);
    return { ...res, eventId };
  }

  /**
   * A person adds a reaction: stored in the sandbox (when there is one), then sent as `reaction_added`.
   * https://docs.slack.dev/reference/events/reaction_added
   */
  async reactionAdded(
    r: { userId: string; channelId: string; ts: string; reaction: string },
    opts: SendOptions & { eventId?: string } = {},
  ): Promise<SimResponse & { eventId: string }> {
    this.#needs('reaction_added');
    const msg = this.#sandbox?.message(r.channelId, r.ts);
    if (this.#sandbox && !msg) throw new Error(`sandbox has no message ${r.ts} in ${r.channelId}`);
    this.#sandbox?.react({ channel: r.channelId, ts: r.ts, user: r.userId, name: r.reaction });
    return this.event(
      {
        type: 'reaction_added',
        user: r.userId,
        reaction: r.reaction,
        item: { type: 'message', channel: r.channelId, ts: r.ts },
        ...(msg?.user ? { item_user: msg.user } : {}),
      },
      opts,
    );
  }

  /** The Events API endpoint check (`url_verification`); the app must echo `challenge`. */
  async urlVerification(challenge: string, opts: SendOptions = {}): Promise<SimResponse> {
    this.#httpOnly('url_verification');
    const body = JSON.stringify({ token: this.token, challenge, type: 'url_verification' });
    return this.send(body, 'application/json', opts);
  }

  /** Slack's periodic certificate check: form `ssl_check=1&token=...`; the app answers 200. */
  async sslCheck(opts: SendOptions = {}): Promise<SimResponse> {
    this.#httpOnly('ssl_check');
    return this.send(
      `ssl_check=1&token=${encodeURIComponent(this.token)}`,
      'application/x-www-form-urlencoded',
      opts,
    );
  }

  /**
   * Delivers an envelope over Socket Mode and waits for the ack (the hub resends an Events API
   * envelope that is not acked in time); `retryNum` becomes `retry_attempt`.
   */
  async #socket(
    type: 'slash_commands' | 'interactive' | 'events_api',
    payload: Record<string, unknown>,
    opts: SendOptions = {},
  ): Promise<SimResponse> {
    const d = await this.#sandbox!.socketMode!.deliver(type, payload, {
      retryAttempt: opts.retryNum,
      retryReason: opts.retryReason,
    });
    return {
      status: d.acked ? 200 : 408,
      body: d.response ?? '',
      headers: new Headers(),
      envelopeId: d.envelopeId,
    };
  }

  async #sendPayload(payload: Record<string, unknown>, opts: SendOptions): Promise<SimResponse> {
    if (this.transport === 'socket') return this.#socket('interactive', payload, opts);
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.send(body, 'application/x-www-form-urlencoded', opts);
  }

  #httpOnly(what: string): void {
    if (this.transport === 'socket')
      throw new Error(`SlackClientSim: Slack sends ${what} over HTTP only, not Socket Mode`);
  }

  #actor(userId: string): Actor {
    const user = this.#sandbox?.user(userId);
    if (this.#sandbox && !user)
      throw new Error(`sandbox has no user ${userId}; add it with sandbox.addUser()`);
    const name = user?.name ?? userId.toLowerCase();
    return {
      user: { id: userId, username: name, name, team_id: this.teamId },
      team: { id: this.teamId, domain: 'sandbox' },
    };
  }

  #channelName(channelId: string): string {
    if (!this.#sandbox) return channelId.toLowerCase();
    const c = this.#sandbox.channel(channelId);
    if (!c) throw new Error(`sandbox has no channel ${channelId}; add it with sandbox.addChannel()`);
    return c.name;
  }

  #message(
    channelId: string,
    ts: string | undefined,
    given?: { ts: string; user?: string; text: string },
  ): Record<string, unknown> & { ts: string; blocks?: unknown[] } {
    if (this.#sandbox) {
      const key = ts ?? given?.ts;
      const m = key ? this.#sandbox.message(channelId, key) : undefined;
      if (!m) throw new Error(`sandbox has no message ${key} in ${channelId}`);
      return this.#sandbox.workspace.toWire(m) as Record<string, unknown> & { ts: string };
    }
    if (!given && !ts) throw new Error('messageShortcut needs messageTs or message');
    return { type: 'message', ...(given ?? { ts: ts!, text: '' }) };
  }

  /** Slack delivers commands, shortcuts and events only to an app with their scope (scopes.ts EVENT_SCOPES). */
  #needs(kind: 'slash_command' | 'shortcut' | 'reaction_added'): void {
    if (this.#sandbox && !this.#sandbox.delivered(kind)) {
      throw new Error(
        `Slack would not deliver this ${kind} to the app: its token lacks the scope for it (manifest.yml)`,
      );
    }
  }

  #responseUrl(channel: string, user: string, messageTs?: string): { url: string; id?: string } {
    if (this.#sandbox) {
      const r = this.#sandbox.responseUrl({ channel, user, ...(messageTs ? { messageTs } : {}) });
      return { url: r.url, id: r.id };
    }
    return {
      url: `https://hooks.slack.com/commands/${this.teamId}/${Date.now()}/${randomBytes(12).toString('hex')}`,
    };
  }

  #trigger(user: string): string {
    if (this.#sandbox) return this.#sandbox.issueTrigger(user);
    return `${Date.now()}.${this.teamId}.${randomBytes(16).toString('hex')}`;
  }
}

function actionTs(): string {
  const ms = Date.now();
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000).padStart(6, '0')}`;
}

function findBlockId(blocks: unknown[] | undefined, actionId: string): string | undefined {
  for (const b of blocks ?? []) {
    const block = b as {
      block_id?: string;
      elements?: Array<{ action_id?: string }>;
      accessory?: { action_id?: string };
    };
    if (block.accessory?.action_id === actionId || block.elements?.some((e) => e.action_id === actionId)) {
      return block.block_id;
    }
  }
  return undefined;
}
