import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';

// Slack's Socket Mode, as the sandbox plays it (https://docs.slack.dev/apis/events-api/using-socket-mode,
// https://docs.slack.dev/reference/methods/apps.connections.open), checked against what
// @slack/socket-mode 3.x expects: `apps.connections.open` with an app-level token returns a one-use
// WebSocket URL; the server says `hello` first, pings, sends envelopes
// `{ envelope_id, type, payload, accepts_response_payload[, retry_attempt, retry_reason] }` and reads
// acks `{ envelope_id, payload? }`; Events API envelopes not acked in time are sent again (the Events
// API retry policy, with `retry_attempt` counting up); slash commands and interactions are not (the
// person sees an error instead); `{ type: "disconnect", reason: "refresh_requested" }` asks the app to
// reconnect with a new URL.

/** The kinds of envelope Slack sends over Socket Mode. */
export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

/** Options of the sandbox's Socket Mode endpoint. */
export interface SocketModeOptions {
  /** The app-level token `apps.connections.open` accepts; default `xapp-1-A0SANDBOX01-1-sandbox`. */
  appToken?: string;
  /** How often the server pings each connection, ms (Slack: every few seconds; the client gives up after 30 s without). */
  pingIntervalMs?: number;
  /** How long an envelope waits for its ack before it counts as unanswered, ms (Slack: 3 s). */
  ackTimeoutMs?: number;
  /** Redeliveries of an unacknowledged Events API envelope (Slack: 3). */
  maxRetries?: number;
}

/** One envelope sent (and possibly sent again) to the app, with its ack. */
export interface EnvelopeRecord {
  envelopeId: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  /** Times sent: 1 + redeliveries. */
  attempts: number;
  acked: boolean;
  /** The ack's `payload`, when it carried one. */
  response?: Record<string, unknown>;
}

/** What {@link SocketModeHub.deliver} resolves with: the ack's payload, or `acked: false` when none came in time. */
export interface Delivery {
  envelopeId: string;
  acked: boolean;
  attempts: number;
  response?: Record<string, unknown>;
}

interface HubEvents {
  hello: [WebSocket];
  ack: [EnvelopeRecord];
  pong: [WebSocket];
  ping: [WebSocket];
  closed: [WebSocket];
}

/** Slack's error when another token type calls a method (https://docs.slack.dev/reference/methods/apps.connections.open#errors). */
export const NOT_ALLOWED_TOKEN_TYPE = 'not_allowed_token_type';

/**
 * The sandbox's Socket Mode side: issues connection URLs, accepts WebSocket upgrades on
 * `/link/?ticket=…`, and delivers envelopes to the connected app with acks, redelivery, pings
 * and refreshes as Slack does.
 */
export class SocketModeHub extends EventEmitter<HubEvents> {
  readonly appToken: string;
  readonly envelopes: EnvelopeRecord[] = [];
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #tickets = new Set<string>();
  readonly #open = new Set<WebSocket>();
  readonly #waiting = new Map<string, (ack: Record<string, unknown> | undefined) => void>();
  readonly #baseUrl: string;
  readonly #appId: string;
  readonly #opts: Required<Omit<SocketModeOptions, 'appToken'>>;
  #timers = new Set<NodeJS.Timeout>();
  #next = 0;

  constructor(server: Server, baseUrl: string, appId: string, opts: SocketModeOptions = {}) {
    super();
    this.setMaxListeners(0);
    this.appToken = opts.appToken ?? `xapp-1-${appId}-1-sandbox`;
    this.#baseUrl = baseUrl.replace(/^http/, 'ws');
    this.#appId = appId;
    this.#opts = {
      pingIntervalMs: opts.pingIntervalMs ?? 10_000,
      ackTimeoutMs: opts.ackTimeoutMs ?? 3000,
      maxRetries: opts.maxRetries ?? 3,
    };
    server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
  }

  /** Open connections that have been sent `hello`. */
  get connections(): number {
    return this.#open.size;
  }

  /**
   * `apps.connections.open` for `token`: a one-use `ws://…/link/?ticket=…&app_id=…` URL for the app
   * token; `not_authed` without one, `not_allowed_token_type` for a bot or user token,
   * `invalid_auth` for another app token. Returns the response body (without `ok`) or throws the error code.
   */
  connectionsOpen(token: string | undefined): { url: string } {
    if (!token) throw new SocketModeError('not_authed');
    if (/^xox[bpa]-/.test(token)) throw new SocketModeError(NOT_ALLOWED_TOKEN_TYPE);
    if (token !== this.appToken) throw new SocketModeError('invalid_auth');
    const ticket = randomUUID();
    this.#tickets.add(ticket);
    return { url: `${this.#baseUrl}/link/?ticket=${ticket}&app_id=${this.#appId}` };
  }

  /** Resolves once at least `n` connections (default 1) have been sent `hello`. */
  async connected(n = 1): Promise<void> {
    while (this.#open.size < n) await new Promise((r) => this.once('hello', r));
  }

  /**
   * Sends an envelope to one open connection (the newest) and waits for its ack. An Events API
   * envelope not acked within the ack timeout is sent again (`retry_attempt` + 1, `retry_reason:
   * "timeout"`), up to `maxRetries` times, to whichever connection is open then; other types are sent once.
   * Rejects when no connection is open.
   */
  async deliver(
    type: EnvelopeType,
    payload: Record<string, unknown>,
    opts: { retryAttempt?: number; retryReason?: string } = {},
  ): Promise<Delivery> {
    const rec: EnvelopeRecord = { envelopeId: randomUUID(), type, payload, attempts: 0, acked: false };
    this.envelopes.push(rec);
    const tries = type === 'events_api' ? this.#opts.maxRetries + 1 : 1;
    for (let i = 0; i < tries && !rec.acked; i++) {
      const ws = this.#pick();
      if (!ws)
        throw new Error(
          'sandbox Socket Mode: no app is connected (call apps.connections.open and connect first)',
        );
      rec.attempts += 1;
      const acked = new Promise<Record<string, unknown> | undefined | null>((resolve) => {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          this.#waiting.delete(rec.envelopeId);
          resolve(null);
        }, this.#opts.ackTimeoutMs);
        this.#timers.add(t);
        this.#waiting.set(rec.envelopeId, (ack) => {
          clearTimeout(t);
          this.#timers.delete(t);
          resolve(ack);
        });
      });
      const envelope: Record<string, unknown> = {
        envelope_id: rec.envelopeId,
        type,
        payload,
        accepts_response_payload: acceptsResponsePayload(type, payload),
      };
      if (type === 'events_api') {
        const attempt = (opts.retryAttempt ?? 0) + i;
        envelope.retry_attempt = attempt;
        envelope.retry_reason = attempt === 0 ? '' : i > 0 ? 'timeout' : (opts.retryReason ?? 'timeout');
      }
      ws.send(JSON.stringify(envelope));
      const ack = await acked;
      if (ack !== null) {
        rec.acked = true;
        if (ack) rec.response = ack;
        this.emit('ack', rec);
      }
    }
    return { envelopeId: rec.envelopeId, acked: rec.acked, attempts: rec.attempts, response: rec.response };
  }

  /**
   * Sends `{ type: "disconnect", reason: "refresh_requested" }` to every open connection and resolves
   * once the app has connected again with a new URL (Slack refreshes connections every few hours).
   */
  async refresh(): Promise<void> {
    const old = [...this.#open];
    const hello = new Promise((r) => this.once('hello', r));
    for (const ws of old)
      ws.send(
        JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'sandbox' } }),
      );
    await hello;
  }

  /** Pings every open connection now (as the interval does); resolves when each has answered with a pong. */
  async pingAll(): Promise<void> {
    await Promise.all(
      [...this.#open].map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('pong', () => resolve());
            ws.ping();
          }),
      ),
    );
  }

  /** Closes every connection and stops the timers. */
  close(): void {
    for (const t of this.#timers) clearTimeout(t);
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
  }

  #pick(): WebSocket | undefined {
    return [...this.#open].at(-1);
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== '/link/' || !this.#tickets.delete(ticket)) {
      // A used, unknown or missing ticket: Slack refuses the upgrade.
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  #accept(ws: WebSocket): void {
    this.#open.add(ws);
    const ping = setInterval(() => {
      this.emit('ping', ws);
      ws.ping(Buffer.from(`ping-${++this.#next}`));
    }, this.#opts.pingIntervalMs);
    ws.on('pong', () => this.emit('pong', ws));
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: { envelope_id?: unknown; payload?: unknown };
      try {
        msg = JSON.parse(data.toString('utf8'));
      } catch {
        return;
      }
      if (typeof msg.envelope_id !== 'string') return;
      const waiting = this.#waiting.get(msg.envelope_id);
      if (!waiting) return;
      this.#waiting.delete(msg.envelope_id);
      const payload =
        msg.payload && typeof msg.payload === 'object' && Object.keys(msg.payload).length > 0
          ? (msg.payload as Record<string, unknown>)
          : undefined;
      waiting(payload);
    });
    ws.on('close', () => {
      clearInterval(ping);
      this.#open.delete(ws);
      this.emit('closed', ws);
    });
    ws.on('error', () => {});
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#open.size,
        debug_info: {
          host: 'sandbox-applink',
          build_number: 1,
          approximate_connection_time: 18060,
        },
        connection_info: { app_id: this.#appId },
      }),
    );
    this.emit('hello', ws);
  }
}

/** A Slack error code from the Socket Mode side (answered as `{ ok: false, error }`). */
export class SocketModeError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'SocketModeError';
  }
}

/** Slack accepts a response payload in the ack of slash commands, view submissions and option requests. */
function acceptsResponsePayload(type: EnvelopeType, payload: Record<string, unknown>): boolean {
  if (type === 'slash_commands') return true;
  if (type === 'interactive') return ['view_submission', 'block_suggestion'].includes(String(payload.type));
  return false;
}
