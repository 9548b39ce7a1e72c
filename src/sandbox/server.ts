import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { z } from 'zod';
import { sendJson } from '../server.js';
import { validateBlocks } from './blocks.js';
import { METHODS, storeView, viewArg } from './methods.js';
import { type RateLimit, RateLimiter } from './rate-limiter.js';
import { renderChannel } from './render.js';
import { EVENT_SCOPES, METHOD_SCOPES, manifestBotScopes } from './scopes.js';
import type { SocketModeHub, SocketModeOptions } from './socket-mode.js';
import { addUserGroup, type SandboxUserGroup, USERGROUP_METHODS } from './usergroups.js';
import { serveWorkspacePage } from './web-page.js';
import {
  type EphemeralMessage,
  type ResponseUrlRecord,
  type SandboxChannel,
  type SandboxFile,
  type SandboxMessage,
  type SandboxPin,
  type SandboxUser,
  type SandboxUserSpec,
  type SandboxView,
  SlackApiError,
  Workspace,
} from './workspace.js';

/** Options for {@link startSandbox}. `now` (ms) drives message ts, trigger/response_url expiry and rate limits. */
export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** The only token the API accepts; default `xoxb-sandbox`. */
  botToken?: string;
  /** Per-method overrides of the default Slack tier limits, e.g. `{ 'pins.add': { perMinute: 60, burst: 1 } }`. */
  rateLimits?: Partial<Record<string, RateLimit>>;
  logger?: Logger;
  now?: () => number;
  /**
   * The bot token's scopes: `manifest` (default) reads `oauth_config.scopes.bot` of manifest.yml, so
   * a scope removed from it makes its methods answer `missing_scope`; `all` grants every scope. They
   * are sent in every authenticated answer's `x-oauth-scopes` header as Slack does
   * (https://docs.slack.dev/authentication/tokens).
   */
  scopes?: 'manifest' | 'all' | string[];
  /**
   * A hostile workspace: new users have empty display names. Guests, deactivated and external users,
   * archived and private channels refuse whenever a test creates them; `restrictChannelCreation`
   * (conversations.create: restricted_action) is its own knob on `workspace.knobs`.
   */
  hostile?: boolean;
  /** Socket Mode (apps.connections.open and its WebSocket endpoint); `false` turns it off. */
  socketMode?: SocketModeOptions | false;
}

/**
 * One HTTP call the sandbox answered: Web API methods by name, plus `response_url` and `upload_url`
 * posts. `args` are parsed (JSON-valued form fields stay strings, as sent); the token is never recorded.
 */
export interface TranscriptEntry {
  seq: number;
  /** ISO 8601 time the call was answered. */
  at: string;
  method: string;
  args: Record<string, unknown>;
  ok: boolean;
  error?: string;
  /** HTTP status returned. */
  status: number;
  /** The JSON body returned. */
  response: Record<string, unknown>;
}

/** A scripted failure for the next `count` (default 1) calls of a method; see {@link Sandbox.failNext}. */
export interface FailSpec {
  /** HTTP status: 500/503 as an outage, 429 as a rate limit, 200 with `error` as a Slack API error. */
  status?: 200 | 429 | 500 | 502 | 503;
  /** Seconds for `Retry-After` on a 429 (default 1). */
  retryAfter?: number;
  count?: number;
  /** The `error` string (default `ratelimited` for 429, `internal_error` for 5xx). */
  error?: string;
}

/** Slack allows a response_url 5 uses within 30 minutes (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses). */
export const RESPONSE_URL_LIMITS = { uses: 5, ttlMs: 30 * 60_000 } as const;

interface SandboxEvents {
  call: [TranscriptEntry];
  change: [];
}

const ResponseBody = z.object({
  text: z.string().optional(),
  blocks: z.array(z.unknown()).optional(),
  response_type: z.enum(['ephemeral', 'in_channel']).optional(),
  replace_original: z.union([z.boolean(), z.string()]).optional(),
  delete_original: z.union([z.boolean(), z.string()]).optional(),
  thread_ts: z.string().optional(),
});

const truthy = (v: unknown) => v === true || v === 'true';

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Parses a request body as Slack accepts it: form-encoded, JSON, or multipart, plus the query string. */
async function parseArgs(req: IncomingMessage, raw: Buffer, url: URL): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (raw.length === 0) return args;
  if (type === 'application/json') {
    const json: unknown = JSON.parse(raw.toString('utf8'));
    if (typeof json === 'object' && json !== null && !Array.isArray(json)) Object.assign(args, json);
  } else if (type === 'multipart/form-data') {
    const form = await new Request('http://sandbox/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type']! },
      body: raw,
    }).formData();
    for (const [k, v] of form) args[k] = typeof v === 'string' ? v : Buffer.from(await v.arrayBuffer());
  } else {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
  }
  return args;
}

/**
 * A local stand-in for the Slack Web API (https://docs.slack.dev/reference/methods) with Slack's
 * request/response shapes, errors and rate limits, a transcript of every call, fault injection, and
 * the workspace state (users, channels, messages, pins, files, views) for assertions.
 */
export class Sandbox extends EventEmitter<SandboxEvents> {
  readonly url: string;
  readonly apiUrl: string;
  readonly botToken: string;
  readonly transcript: TranscriptEntry[] = [];
  readonly workspace: Workspace;
  readonly #server: Server;
  readonly #limiter: RateLimiter;
  readonly #faults = new Map<string, Array<Required<Pick<FailSpec, 'status' | 'error'>> & FailSpec>>();
  readonly #logger: Logger | undefined;
  /** Socket Mode's side (see socket-mode.ts), when the sandbox serves it. */
  socketMode: SocketModeHub | undefined;

  constructor(server: Server, url: string, opts: SandboxOptions) {
    super();
    this.setMaxListeners(0);
    this.#server = server;
    this.url = url;
    this.apiUrl = `${url}/api/`;
    this.botToken = opts.botToken ?? 'xoxb-sandbox';
    this.workspace = new Workspace(opts.now);
    const scopes = opts.scopes ?? 'manifest';
    if (scopes !== 'all') {
      this.workspace.grantedScopes = new Set(scopes === 'manifest' ? manifestBotScopes() : scopes);
    }
    if (opts.hostile) this.workspace.knobs.emptyDisplayNames = true;
    this.#limiter = new RateLimiter(opts.rateLimits, opts.now);
    this.#logger = opts.logger;
  }

  /** The bot token's scopes (see {@link SandboxOptions.scopes}); with `all`, every scope a served method or event needs. */
  get scopes(): string[] {
    const granted = this.workspace.grantedScopes;
    if (granted) return [...granted];
    const all = new Set(Object.values(EVENT_SCOPES));
    for (const m of Object.values(METHOD_SCOPES))
      for (const sc of [...m.public, ...(m.private ?? [])]) all.add(sc);
    return [...all];
  }

  /** Grants exactly these scopes from now on (an admin changing the app's scopes and reinstalling it). */
  set scopes(list: string[]) {
    this.workspace.grantedScopes = new Set(list);
  }

  /** Changes a member as an admin would: deactivates (`deleted`) or makes a guest (`is_restricted`, `is_ultra_restricted`). */
  updateUser(
    id: string,
    patch: Partial<Pick<SandboxUser, 'deleted' | 'is_restricted' | 'is_ultra_restricted'>>,
  ): void {
    Object.assign(this.workspace.requireUser(id), patch);
    this.emit('change');
  }

  get botUserId(): string {
    return this.workspace.botUserId;
  }

  get botId(): string {
    return this.workspace.botId;
  }

  get teamId(): string {
    return this.workspace.teamId;
  }

  /** Sequence number of the last transcript entry (0 before any call); pass as `after` to wait for later calls. */
  get seq(): number {
    return this.transcript.at(-1)?.seq ?? 0;
  }

  /** Adds a workspace member (a guest, external or deactivated one too: see SandboxUserSpec); `id` defaults to a fresh `U…`. */
  addUser(u: Omit<SandboxUserSpec, 'isBot'>): SandboxUser {
    const user = this.workspace.addUser(u);
    this.emit('change');
    return user;
  }

  /** Adds a user group (`S…`, for usergroups.users.list) of existing users. */
  addUserGroup(g: { handle: string; users: string[] }): SandboxUserGroup {
    const group = addUserGroup(this.workspace, g);
    this.emit('change');
    return group;
  }

  /** Adds a channel (Slack's name rules apply; throws SlackApiError `name_taken` etc.); members join in order; the creator defaults to the first member. */
  addChannel(c: { name: string; members?: string[]; isPrivate?: boolean; creator?: string }): SandboxChannel {
    const channel = this.workspace.addChannel({ ...c, creator: c.creator ?? c.members?.[0] });
    this.emit('change');
    return channel;
  }

  /** Archives a channel (as a person would in Slack): afterwards posting to it answers `is_archived`. */
  archiveChannel(channelId: string): void {
    this.workspace.archive(this.#requireChannel(channelId), this.workspace.channels.get(channelId)?.creator);
    this.emit('change');
  }

  /** Posts a message as a person (not through the API), e.g. a message to pin or to run a shortcut on. */
  postAsUser(m: { channel: string; user: string; text: string; threadTs?: string }): SandboxMessage {
    const c = this.workspace.requireChannel(m.channel);
    this.workspace.requireUser(m.user);
    const msg = this.workspace.append(c, { user: m.user, text: m.text, thread_ts: m.threadTs });
    this.emit('change');
    return msg;
  }

  /** Adds a person's reaction to a message (what Slack stores before sending `reaction_added`). */
  react(r: { channel: string; ts: string; user: string; name: string }): void {
    const c = this.workspace.requireChannel(r.channel);
    const m = this.workspace.findMessage(c, r.ts);
    if (!m) throw new SlackApiError('message_not_found');
    m.reactions ??= [];
    const existing = m.reactions.find((x) => x.name === r.name);
    if (existing && !existing.users.includes(r.user)) {
      existing.users.push(r.user);
      existing.count += 1;
    } else if (!existing) {
      m.reactions.push({ name: r.name, users: [r.user], count: 1 });
    }
    this.emit('change');
  }

  user(id: string): SandboxUser | undefined {
    return this.workspace.users.get(id);
  }

  userByName(name: string): SandboxUser | undefined {
    return [...this.workspace.users.values()].find((u) => u.name === name);
  }

  channel(id: string): SandboxChannel | undefined {
    return this.workspace.channels.get(id);
  }

  channelByName(name: string): SandboxChannel | undefined {
    return this.workspace.channelByName(name);
  }

  channels(): SandboxChannel[] {
    return [...this.workspace.channels.values()];
  }

  /**
   * Messages of a channel in ts order, thread replies included, deleted ones not. System messages
   * (`channel_join`, `channel_topic`, ... which conversations.history does return) only with `{ all: true }`.
   */
  messages(channelId: string, opts: { all?: boolean } = {}): SandboxMessage[] {
    return this.#requireChannel(channelId).messages.filter((m) => !m.deleted && (opts.all || !m.subtype));
  }

  /** The message with this ts in the channel, if any. */
  message(channelId: string, ts: string): SandboxMessage | undefined {
    return this.workspace.findMessage(this.#requireChannel(channelId), ts);
  }

  pins(channelId: string): SandboxPin[] {
    return this.#requireChannel(channelId).pins;
  }

  files(channelId: string): SandboxFile[] {
    return this.#requireChannel(channelId).files;
  }

  ephemeral(channelId: string): EphemeralMessage[] {
    return this.#requireChannel(channelId).ephemeral;
  }

  views(): SandboxView[] {
    return [...this.workspace.views.values()];
  }

  /**
   * What the user's client does with an app's answer to a view_submission
   * (https://docs.slack.dev/surfaces/modals#responding_to_view_submissions): no `response_action`
   * closes the modal, `clear` closes the whole stack, `update` replaces the view (same id),
   * `push` opens a new one on top, `errors` keeps it open. A late answer is dropped by Slack: pass
   * `late` and the view stays as it was.
   */
  applyViewSubmissionAnswer(viewId: string, body: unknown, late = false): void {
    const view = this.workspace.views.get(viewId);
    if (!view || late) return;
    const a = (body && typeof body === 'object' ? body : {}) as { response_action?: string; view?: unknown };
    switch (a.response_action) {
      case 'errors':
        return;
      case 'update':
        storeView(this.workspace, view.user, viewArg(a.view), view);
        return;
      case 'push':
        storeView(this.workspace, view.user, viewArg(a.view));
        return;
      case 'clear':
        for (const v of this.workspace.views.values())
          if (v.root_view_id === view.root_view_id) v.closed = true;
        return;
      default:
        view.closed = true;
    }
  }

  transcriptFor(method: string): TranscriptEntry[] {
    return this.transcript.filter((e) => e.method === method);
  }

  /** Issues a trigger_id for `userId`: one views.open within 3 s. */
  issueTrigger(userId: string): string {
    return this.workspace.issueTrigger(userId);
  }

  /** Issues a response_url (`POST ${url}/response/<id>`) answering `user` in `channel`, optionally about a message. */
  responseUrl(r: { channel: string; user: string; messageTs?: string }): ResponseUrlRecord {
    const id = this.workspace.nextId('R');
    const rec: ResponseUrlRecord = {
      id,
      url: `${this.url}/response/${id}`,
      channel: r.channel,
      user: r.user,
      ...(r.messageTs ? { messageTs: r.messageTs } : {}),
      issuedAt: this.workspace.now(),
      uses: 0,
    };
    this.workspace.responseUrls.set(id, rec);
    return rec;
  }

  /** Makes the next `count` calls of `method` fail as described, before rate limiting or handling. */
  failNext(method: string, spec: FailSpec = {}): void {
    const status = spec.status ?? (spec.error ? 200 : 500);
    const error =
      spec.error ?? (status === 429 ? 'ratelimited' : status >= 500 ? 'internal_error' : 'fatal_error');
    const list = this.#faults.get(method) ?? [];
    for (let i = 0; i < (spec.count ?? 1); i++) list.push({ ...spec, status, error });
    this.#faults.set(method, list);
  }

  /** The channel as readable text (see render.ts), for demos and failure messages. */
  renderChannel(channelId: string): string {
    return renderChannel(this.workspace, channelId);
  }

  /**
   * Resolves with the first transcript entry (after seq `after`, default all) matching `predicate`,
   * waiting for new calls; rejects after `timeoutMs` listing the last calls.
   */
  waitFor(
    predicate: (e: TranscriptEntry) => boolean,
    opts: { timeoutMs?: number; after?: number } = {},
  ): Promise<TranscriptEntry> {
    const after = opts.after ?? 0;
    return this.#wait(
      () => this.transcript.find((e) => e.seq > after && predicate(e)),
      opts.timeoutMs,
      'transcript entry',
    );
  }

  /** Resolves with the first stored message (any channel unless `channel`) matching `predicate`, waiting for changes. */
  waitForMessage(
    predicate: (m: SandboxMessage) => boolean,
    opts: { timeoutMs?: number; channel?: string } = {},
  ): Promise<SandboxMessage> {
    const find = () => {
      for (const c of this.workspace.channels.values()) {
        if (opts.channel && c.id !== opts.channel) continue;
        const hit = c.messages.find((m) => !m.deleted && predicate(m));
        if (hit) return hit;
      }
      return undefined;
    };
    return this.#wait(find, opts.timeoutMs, 'message');
  }

  /** Resolves with the first ephemeral message matching `predicate`, waiting for changes. */
  waitForEphemeral(
    predicate: (m: EphemeralMessage) => boolean,
    opts: { timeoutMs?: number } = {},
  ): Promise<EphemeralMessage> {
    const find = () => {
      for (const c of this.workspace.channels.values()) {
        const hit = c.ephemeral.find(predicate);
        if (hit) return hit;
      }
      return undefined;
    };
    return this.#wait(find, opts.timeoutMs, 'ephemeral message');
  }

  /** Stops the server, dropping keep-alive connections and Socket Mode connections. */
  async close(): Promise<void> {
    this.socketMode?.close();
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  #wait<T>(find: () => T | undefined, timeoutMs = 30_000, what = 'match'): Promise<T> {
    const now = find();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const onChange = () => {
        const hit = find();
        if (hit === undefined) return;
        cleanup();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        cleanup();
        const recent = this.transcript
          .slice(-10)
          .map((e) => `  #${e.seq} ${e.method} ${e.status} ${e.ok ? 'ok' : e.error}`)
          .join('\n');
        reject(
          new Error(
            `sandbox: no ${what} matched within ${timeoutMs} ms; last calls:\n${recent || '  (none)'}`,
          ),
        );
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.off('change', onChange);
      };
      this.on('change', onChange);
    });
  }

  #requireChannel(id: string): SandboxChannel {
    const c = this.workspace.channels.get(id);
    if (!c) throw new Error(`sandbox: no channel ${id}`);
    return c;
  }

  #record(
    method: string,
    args: Record<string, unknown>,
    status: number,
    response: Record<string, unknown>,
  ): TranscriptEntry {
    const { token: _token, ...safeArgs } = args;
    const entry: TranscriptEntry = {
      seq: this.seq + 1,
      at: new Date(this.workspace.now()).toISOString(),
      method,
      args: safeArgs,
      ok: response.ok === true,
      ...(typeof response.error === 'string' ? { error: response.error } : {}),
      status,
      response,
    };
    this.transcript.push(entry);
    this.#logger?.debug({ seq: entry.seq, method, status, error: entry.error }, 'slack sandbox call');
    this.emit('call', entry);
    this.emit('change');
    return entry;
  }

  /** Scopes `method` needs with these args (any one of them), from scopes.ts; private channels need `groups:*`. */
  #neededScopes(method: string, args: Record<string, unknown>): string[] {
    const spec = METHOD_SCOPES[method];
    if (!spec) return [];
    const id =
      typeof args.channel === 'string'
        ? args.channel
        : typeof args.channel_id === 'string'
          ? args.channel_id
          : undefined;
    const channel = id ? this.workspace.channels.get(id) : undefined;
    // A private channel the bot is not in is invisible to it: the method answers channel_not_found.
    const isPrivate =
      (channel?.is_private === true && channel.members.includes(this.workspace.botUserId)) ||
      (method === 'conversations.create' && (args.is_private === true || args.is_private === 'true'));
    if (channel?.is_im) return spec.public;
    return isPrivate && spec.private ? spec.private : spec.public;
  }

  /**
   * Scopes granted to the token that no call or event of this sandbox needed so far: superfluous for
   * what ran. Slash commands, shortcuts and events count when the client sim delivered one.
   */
  unusedScopes(): string[] {
    const granted = this.workspace.grantedScopes;
    if (!granted) return [];
    return [...granted].filter((s) => !this.workspace.usedScopes.has(s)).sort();
  }

  /** Notes that Slack delivered something that needs a scope to the app (see EVENT_SCOPES); false when the token lacks it. */
  delivered(kind: keyof typeof EVENT_SCOPES): boolean {
    const scope = EVENT_SCOPES[kind];
    return scope ? this.workspace.hasScope(scope) : true;
  }

  /** Entry point for every HTTP request to the sandbox. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const raw = await readBody(req);
    const [, root, ...rest] = url.pathname.split('/');
    if (root === 'api' && rest.length === 1 && rest[0]) return this.#api(rest[0], req, raw, url, res);
    if (root === 'response' && rest[0] && req.method === 'POST')
      return this.#response(rest[0], req, raw, res);
    if (root === 'upload' && rest[1] && req.method === 'POST')
      return this.#upload(rest[1], req, raw, url, res);
    // The read-only web page of the workspace (src/sandbox/web-page.ts), live while the sandbox changes.
    if (root === 'workspace') return serveWorkspacePage(this, rest, url, req, res);
    sendJson(res, 404, { ok: false, error: 'not_found' });
  }

  async #api(
    method: string,
    req: IncomingMessage,
    raw: Buffer,
    url: URL,
    res: ServerResponse,
  ): Promise<void> {
    let args: Record<string, unknown>;
    try {
      args = await parseArgs(req, raw, url);
    } catch {
      const json = (req.headers['content-type'] ?? '').includes('json');
      const body = { ok: false, error: json ? 'invalid_json' : 'invalid_form_data' };
      this.#record(method, {}, 200, body);
      return sendJson(res, 200, body);
    }
    let scopeHeader: Record<string, string> = {};
    const reply = (status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) => {
      this.#record(method, args, status, body);
      sendJson(res, status, body, { ...scopeHeader, ...headers });
    };
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ')
      ? auth.slice(7)
      : typeof args.token === 'string'
        ? args.token
        : undefined;
    // Socket Mode's method takes the app-level token, and only that (socket-mode.ts).
    if (method === 'apps.connections.open' && this.socketMode) {
      try {
        return reply(200, { ok: true, ...this.socketMode.connectionsOpen(token) });
      } catch (err) {
        return reply(200, { ok: false, error: (err as Error).message });
      }
    }
    const handler = METHODS[method] ?? USERGROUP_METHODS[method];
    if (!handler) return reply(200, { ok: false, error: 'unknown_method', req_method: method });
    if (!token) return reply(200, { ok: false, error: 'not_authed' });
    // An app-level token calls only apps.connections.open (https://docs.slack.dev/authentication/tokens#app-level).
    if (token.startsWith('xapp-')) return reply(200, { ok: false, error: 'not_allowed_token_type' });
    if (token !== this.botToken) return reply(200, { ok: false, error: 'invalid_auth' });
    scopeHeader = { 'x-oauth-scopes': this.scopes.join(',') };

    const needed = this.#neededScopes(method, args);
    if (needed.length > 0 && !needed.some((sc) => this.workspace.hasScope(sc))) {
      // https://docs.slack.dev/reference/methods (every method): `missing_scope` with `needed` and `provided`.
      return reply(200, {
        ok: false,
        error: 'missing_scope',
        needed: needed.join(','),
        provided: [...(this.workspace.grantedScopes ?? [])].join(','),
      });
    }

    const fault = this.#faults.get(method)?.shift();
    if (fault) {
      const headers: Record<string, string> =
        fault.status === 429 ? { 'retry-after': String(fault.retryAfter ?? 1) } : {};
      return reply(fault.status, { ok: false, error: fault.error }, headers);
    }

    const retryAfter = this.#limiter.take(
      method,
      typeof args.channel === 'string' ? args.channel : undefined,
    );
    if (retryAfter > 0)
      return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });

    try {
      const result = handler({ ws: this.workspace, args, baseUrl: this.url });
      reply(200, { ok: true, ...result });
    } catch (err) {
      if (err instanceof SlackApiError) return reply(200, { ok: false, error: err.code, ...err.extra });
      this.#logger?.error({ err, method }, 'slack sandbox handler failed');
      reply(500, { ok: false, error: 'internal_error' });
    }
  }

  /** `POST /response/<id>`: a `respond()` to a response_url (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses). */
  async #response(id: string, req: IncomingMessage, raw: Buffer, res: ServerResponse): Promise<void> {
    const rec = this.workspace.responseUrls.get(id);
    let args: Record<string, unknown> = {};
    const reply = (status: number, body: Record<string, unknown>) => {
      this.#record('response_url', { response_url_id: id, ...args }, status, body);
      sendJson(res, status, body);
    };
    try {
      // Bolt's respond() posts JSON; older clients post a form with a `payload` field.
      const text = raw.toString('utf8');
      args = text.trimStart().startsWith('{')
        ? JSON.parse(text)
        : await parseArgs(req, raw, new URL('http://x/'));
      if (typeof args.payload === 'string') args = JSON.parse(args.payload);
    } catch {
      return reply(400, { ok: false, error: 'invalid_payload' });
    }
    if (!rec) return reply(404, { ok: false, error: 'invalid_url' });
    if (this.workspace.now() - rec.issuedAt > RESPONSE_URL_LIMITS.ttlMs) {
      return reply(404, { ok: false, error: 'expired_url' });
    }
    if (rec.uses >= RESPONSE_URL_LIMITS.uses) return reply(404, { ok: false, error: 'used_url' });
    const parsed = ResponseBody.safeParse(args);
    if (!parsed.success) return reply(400, { ok: false, error: 'invalid_payload' });
    const body = parsed.data;
    const del = truthy(body.delete_original);
    if (!del && !body.text && !body.blocks?.length) return reply(400, { ok: false, error: 'no_text' });
    const blockErrors = body.blocks ? validateBlocks(body.blocks) : [];
    if (blockErrors.length > 0)
      return reply(400, { ok: false, error: 'invalid_blocks', errors: blockErrors });
    const channel = this.workspace.channels.get(rec.channel);
    if (!channel) return reply(404, { ok: false, error: 'channel_not_found' });
    rec.uses += 1;

    const original = rec.messageTs ? this.workspace.findMessage(channel, rec.messageTs) : undefined;
    const content = { text: body.text ?? '', ...(body.blocks ? { blocks: body.blocks } : {}) };
    if (del) {
      if (original) original.deleted = true;
    } else if (truthy(body.replace_original) && original) {
      const ts = this.workspace.nextTs();
      original.history.push({
        text: original.text,
        ...(original.blocks ? { blocks: original.blocks } : {}),
        ts,
      });
      original.text = content.text;
      if (content.blocks) original.blocks = content.blocks;
      else delete original.blocks;
      original.edited = { user: this.botUserId, ts };
    } else if (body.response_type === 'in_channel') {
      this.workspace.append(channel, {
        user: this.botUserId,
        bot: true,
        ...content,
        thread_ts: body.thread_ts,
      });
    } else {
      channel.ephemeral.push({
        channel: channel.id,
        user: rec.user,
        ts: this.workspace.nextTs(),
        ...content,
        ...(body.thread_ts ? { thread_ts: body.thread_ts } : {}),
        source: 'response_url',
      });
    }
    reply(200, { ok: true });
  }

  /** `POST /upload/v1/<file_id>`: the upload_url from files.getUploadURLExternal; raw bytes or multipart. */
  async #upload(
    fileId: string,
    req: IncomingMessage,
    raw: Buffer,
    url: URL,
    res: ServerResponse,
  ): Promise<void> {
    const up = this.workspace.uploads.get(fileId);
    let bytes = raw;
    if ((req.headers['content-type'] ?? '').startsWith('multipart/form-data')) {
      const form = await parseArgs(req, raw, url);
      bytes = Object.values(form).find((v): v is Buffer => Buffer.isBuffer(v)) ?? Buffer.alloc(0);
    }
    const args = { file_id: fileId, bytes: bytes.length };
    if (!up) {
      this.#record('upload_url', args, 404, { ok: false, error: 'file_not_found' });
      res.writeHead(404).end('file_not_found');
      return;
    }
    up.bytes = bytes;
    this.#record('upload_url', args, 200, { ok: true });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${bytes.length}`);
  }
}

/** Starts the Slack sandbox on 127.0.0.1 (`port` 0 = ephemeral); point WebClient's `slackApiUrl` at `sandbox.apiUrl`. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  let sandbox: Sandbox | undefined;
  const server = createServer((req, res) => {
    sandbox!.handle(req, res).catch((err: unknown) => {
      opts.logger?.error({ err }, 'slack sandbox request failed');
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error' });
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  sandbox = new Sandbox(server, `http://${host}:${port}`, opts);
  if (opts.socketMode !== false) {
    // Loaded on demand: `ws` is a development dependency, absent from a production install.
    const mod = await import('./socket-mode.js').catch((err: unknown) => {
      opts.logger?.warn({ err }, 'slack sandbox: Socket Mode unavailable (is the ws package installed?)');
      return undefined;
    });
    if (mod)
      sandbox.socketMode = new mod.SocketModeHub(
        server,
        sandbox.url,
        sandbox.workspace.appId,
        opts.socketMode || {},
      );
  }
  return sandbox;
}
