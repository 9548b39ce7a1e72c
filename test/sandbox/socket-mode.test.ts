import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';

// The sandbox's Socket Mode, driven by a plain `ws` client playing the app, so each part of the
// protocol (https://docs.slack.dev/apis/events-api/using-socket-mode) is seen on the wire:
// apps.connections.open and its token rules, hello, envelopes and acks, redelivery, ping/pong, refresh.

let sandbox: Sandbox;
beforeAll(async () => {
  // A short ack window so the redelivery case is quick; Slack's is 3 s.
  sandbox = await startSandbox({ socketMode: { ackTimeoutMs: 300 } });
});
afterAll(async () => {
  await sandbox?.close();
});

async function api(method: string, token?: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${sandbox.apiUrl}${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: method === 'chat.postMessage' ? 'channel=C1&text=hi' : '',
  });
  return (await res.json()) as Record<string, unknown>;
}

/** A connected app: its socket and every JSON message the server sent, in order, with a way to wait for the next. */
async function connect(): Promise<{
  ws: WebSocket;
  messages: Record<string, unknown>[];
  next: () => Promise<Record<string, unknown>>;
}> {
  const { url } = (await api('apps.connections.open', sandbox.socketMode!.appToken)) as { url: string };
  const ws = new WebSocket(url);
  const messages: Record<string, unknown>[] = [];
  const queue: Record<string, unknown>[] = [];
  let waiter: ((m: Record<string, unknown>) => void) | undefined;
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    messages.push(m);
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w(m);
    } else queue.push(m);
  });
  const next = () =>
    queue.length > 0
      ? Promise.resolve(queue.shift()!)
      : new Promise<Record<string, unknown>>((r) => (waiter = r));
  return { ws, messages, next };
}

describe('the sandbox’s Socket Mode', () => {
  it('opens connections for the app-level token only, refusing other token types as Slack does', async () => {
    expect(await api('apps.connections.open')).toEqual({ ok: false, error: 'not_authed' });
    expect(await api('apps.connections.open', sandbox.botToken)).toEqual({
      ok: false,
      error: 'not_allowed_token_type',
    });
    expect(await api('apps.connections.open', 'xapp-1-A0OTHER-1-wrong')).toEqual({
      ok: false,
      error: 'invalid_auth',
    });
    const ok = await api('apps.connections.open', sandbox.socketMode!.appToken);
    expect(ok).toMatchObject({
      ok: true,
      url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[\w-]+&app_id=A/),
    });
    // The app-level token calls nothing else.
    expect(await api('chat.postMessage', sandbox.socketMode!.appToken)).toEqual({
      ok: false,
      error: 'not_allowed_token_type',
    });
  });

  it('says hello first, takes a URL once, and reads acks by envelope_id with their payload', async () => {
    const app = await connect();
    const hello = await app.next();
    expect(hello).toMatchObject({
      type: 'hello',
      num_connections: 1,
      connection_info: { app_id: sandbox.workspace.appId },
    });
    // The URL was for one connection: a second upgrade with it is refused.
    const again = new WebSocket(app.ws.url);
    const [, res] = (await once(again, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(res.statusCode).toBe(401);

    const delivery = sandbox.socketMode!.deliver('slash_commands', { command: '/incident', text: 'help' });
    const env = await app.next();
    expect(env).toMatchObject({
      type: 'slash_commands',
      accepts_response_payload: true,
      payload: { command: '/incident', text: 'help' },
    });
    app.ws.send(
      JSON.stringify({
        envelope_id: env.envelope_id,
        payload: { text: 'the help', response_type: 'ephemeral' },
      }),
    );
    expect(await delivery).toEqual({
      envelopeId: env.envelope_id,
      acked: true,
      attempts: 1,
      response: { text: 'the help', response_type: 'ephemeral' },
    });
    app.ws.close();
    await once(app.ws, 'close');
  });

  it('sends an Events API envelope again when no ack arrives in time, and an interaction only once', async () => {
    const app = await connect();
    await app.next(); // hello
    const delivery = sandbox.socketMode!.deliver('events_api', { type: 'event_callback', event_id: 'Ev1' });
    const first = await app.next();
    expect(first).toMatchObject({
      type: 'events_api',
      retry_attempt: 0,
      retry_reason: '',
      accepts_response_payload: false,
    });
    // Not acked: the same envelope comes again, marked as a retry.
    const second = await app.next();
    expect(second).toMatchObject({
      envelope_id: first.envelope_id,
      retry_attempt: 1,
      retry_reason: 'timeout',
    });
    app.ws.send(JSON.stringify({ envelope_id: second.envelope_id }));
    expect(await delivery).toMatchObject({ acked: true, attempts: 2 });

    const click = sandbox.socketMode!.deliver('interactive', { type: 'block_actions' });
    expect(await app.next()).toMatchObject({ type: 'interactive', accepts_response_payload: false });
    expect(await click).toMatchObject({ acked: false, attempts: 1 });
    app.ws.close();
    await once(app.ws, 'close');
  });

  it('pings the app and answers its pings, and asks it to reconnect with refresh_requested', async () => {
    const app = await connect();
    await app.next(); // hello
    // The server's ping is answered by the client's pong; the client's ping by the server's pong.
    await sandbox.socketMode!.pingAll();
    const pong = once(app.ws, 'pong');
    app.ws.ping('are you there');
    expect(String((await pong)[0])).toBe('are you there');

    const refreshed = sandbox.socketMode!.refresh();
    expect(await app.next()).toEqual({
      type: 'disconnect',
      reason: 'refresh_requested',
      debug_info: { host: 'sandbox' },
    });
    // The app does what Slack asks: a new URL, a new connection, and the old one closed.
    const fresh = await connect();
    app.ws.close();
    await refreshed;
    expect(await fresh.next()).toMatchObject({ type: 'hello' });
    await once(app.ws, 'close');
    fresh.ws.close();
    await once(fresh.ws, 'close');
  });
});
