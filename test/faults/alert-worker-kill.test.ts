import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertmanagerBody } from '../bench/alert-storm.js';
import { type Stack, startStack, storeOf, timeline, until } from './support.js';

const TOKEN = 'faults-alert-webhook-token-0123';
const GROUPS = 10;
let s: Stack;
beforeAll(async () => {
  s = await startStack('faults-alert-kill', {
    rateLimits: 'raised',
    env: { ALERT_WEBHOOK_TOKEN: TOKEN, WORKER_CONCURRENCY: '1' },
  });
});
afterAll(async () => {
  await s?.close();
});

async function deliver(body: string): Promise<number> {
  const res = await fetch(`${s.webUrl}/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

describe('a worker SIGKILLed while it ingests alerts and sets up their channels', () => {
  it('ends, after a restart, with one incident and one channel per group and every alert on its timeline once', async () => {
    const worker = s.workers[0]!;
    let creates = 0;
    // Killed inside the third conversations.create: Slack made the channel, the worker never heard.
    const killed = new Promise<void>((resolve) => {
      const onCall = (e: { method: string }) => {
        if (e.method !== 'conversations.create' || ++creates !== 3) return;
        s.sandbox.off('call', onCall);
        process.kill(worker.proc.pid!, 'SIGKILL');
        resolve();
      };
      s.sandbox.on('call', onCall);
    });
    const bodies: string[] = [];
    for (let k = 0; k < 4; k++) for (let g = 0; g < GROUPS; g++) bodies.push(alertmanagerBody(g, k));
    for (const b of [...bodies, ...bodies.slice(0, GROUPS)]) expect(await deliver(b)).toBe(202);
    await killed;
    await s.startWorker();

    const ids = Array.from({ length: GROUPS }, (_, i) => `INC-${i + 1}`);
    await until(
      'every incident with its channel and all four alerts',
      async () => {
        for (const id of ids) {
          const es = await timeline(s, id);
          if (!es.some((e) => e.kind === 'summary_posted')) return false;
          if (new Set(es.filter((e) => e.kind === 'alert_fired').map((e) => e.fingerprint)).size < 4)
            return false;
        }
        return true;
      },
      120_000,
      250,
    );
    expect((await storeOf(s).allIncidents()).length).toBe(GROUPS);
    for (const id of ids) {
      const es = await timeline(s, id);
      const fired = es.filter((e) => e.kind === 'alert_fired').map((e) => String(e.fingerprint));
      expect(fired.sort(), id).toEqual([...new Set(fired)].sort());
      expect(fired, id).toHaveLength(4);
      expect(
        es.filter((e) => e.kind === 'channel_created'),
        id,
      ).toHaveLength(1);
    }
    const channels = s.sandbox.channels().filter((c) => c.name.startsWith('inc-'));
    expect(channels).toHaveLength(GROUPS);
    for (const c of channels) expect(c.pins, c.name).toHaveLength(1);
  });
});
