import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../src/sandbox/index.js';
import { eventually } from '../support/eventually.js';
import { rejectedCount, SIGNING_SECRET, type Stack, startStack, storeOf } from './support.js';

let s: Stack;
beforeAll(async () => {
  s = await startStack('faults-rejected', { workers: 0 });
});
afterAll(async () => {
  await s?.close();
});

const SLACK = 'endpoint="slack",reason="signature"';

function post(body: string | Buffer, headers: Record<string, string>) {
  return fetch(`${s.webUrl}/slack/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
}

describe('requests that are not from Slack', () => {
  it('rejects a forged signature with 401, records nothing, and counts it', async () => {
    const before = await rejectedCount(s.webUrl, SLACK);
    const res = await s.client.slashCommand(
      { text: 'start sev1 forged', userId: s.users.alice, channelId: s.general },
      { signature: sign('something else', Math.floor(Date.now() / 1000), SIGNING_SECRET) },
    );
    expect(res.status).toBe(401);
    expect(await rejectedCount(s.webUrl, SLACK)).toBe(before + 1);
    expect((await storeOf(s).allIncidents()).length).toBe(0);
  });

  it('rejects a correctly signed request replayed more than 5 minutes later, and counts it', async () => {
    const before = await rejectedCount(s.webUrl, SLACK);
    const res = await s.client.slashCommand(
      { text: 'start sev1 replayed', userId: s.users.alice, channelId: s.general },
      { timestamp: Math.floor(Date.now() / 1000) - 5 * 60 - 5 },
    );
    expect(res.status).toBe(401);
    expect(await rejectedCount(s.webUrl, SLACK)).toBe(before + 1);
    expect((await storeOf(s).allIncidents()).length).toBe(0);
  });

  it('rejects an oversized body with 413 and counts it, and the process keeps serving', async () => {
    const labels = 'endpoint="slack",reason="too_large"';
    const before = await rejectedCount(s.webUrl, labels);
    const body = `text=${'x'.repeat(5 * 1024 * 1024)}`;
    const ts = Math.floor(Date.now() / 1000);
    // Bolt answers 413 as soon as Content-Length exceeds its limit (256 KiB here) and closes the connection,
    // so the client may see the answer or a reset while still uploading; the counter is the proof.
    const status = await new Promise<number | 'reset'>((resolve) => {
      const req = request(`${s.webUrl}/slack/events`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': String(Buffer.byteLength(body)),
          'x-slack-request-timestamp': String(ts),
          'x-slack-signature': sign(body, ts, SIGNING_SECRET),
        },
      });
      req.once('response', (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.once('error', () => resolve('reset'));
      req.end(body);
    });
    expect([413, 'reset']).toContain(status);
    await eventually(async () => expect(await rejectedCount(s.webUrl, labels)).toBe(before + 1));
    expect((await fetch(`${s.webUrl}/healthz`)).status).toBe(200);
  });

  it('answers a request without signature headers with 401 instead of crashing', async () => {
    const res = await post('command=%2Fincident&text=help', {});
    expect(res.status).toBe(401);
    expect((await fetch(`${s.webUrl}/healthz`)).status).toBe(200);
  });

  it('answers a GET to the Slack endpoint instead of crashing the web process', async () => {
    const res = await fetch(`${s.webUrl}/slack/events`).catch((err: Error) => err);
    expect(res).toBeInstanceOf(Response);
    expect((await fetch(`${s.webUrl}/healthz`)).status).toBe(200);
  });
});
