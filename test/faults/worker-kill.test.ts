import { afterEach, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import type { TranscriptEntry } from '../../src/sandbox/index.js';
import { declare, type Stack, startStack, storeOf, timeline, until } from './support.js';

let s: Stack | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** Resolves on the sandbox call matching `pred`, after SIGKILLing `pid` synchronously inside the call (before Slack's answer leaves). */
function killOn(stack: Stack, pid: number, pred: (e: TranscriptEntry) => boolean): Promise<TranscriptEntry> {
  return new Promise((resolve) => {
    const onCall = (e: TranscriptEntry) => {
      if (!pred(e)) return;
      stack.sandbox.off('call', onCall);
      process.kill(pid, 'SIGKILL');
      resolve(e);
    };
    stack.sandbox.on('call', onCall);
  });
}

async function delivered(stack: Stack, id: string): Promise<boolean> {
  const store = storeOf(stack);
  const inc = id as IncidentId;
  return (await store.deliveredCursor(inc)) === (await store.timelineLength(inc));
}

describe('a worker SIGKILLed in the middle of its jobs', () => {
  it('leaves, after a restart, every recorded message and every new incident on the timeline exactly once', async () => {
    // Concurrency 1: the kill lands inside one known job (a record-message read), not inside a post.
    s = await startStack('kill-record', { rateLimits: 'raised', env: { WORKER_CONCURRENCY: '1' } });
    const { alice, bob } = s.users;
    const inc = await declare(s, 'Checkout errors');
    const said = Array.from({ length: 30 }, (_, i) =>
      s!.sandbox.postAsUser({ channel: inc.channel, user: bob, text: `observation ${i}` }),
    );
    const worker = s.workers[0]!;
    let reads = 0;
    const killed = killOn(s, worker.proc.pid!, (e) => e.method === 'conversations.history' && ++reads === 10);
    for (const m of said)
      await s.client.reactionAdded({ userId: alice, channelId: inc.channel, ts: m.ts, reaction: 'pushpin' });
    // Four more incidents declared while the worker is busy (their setup-channel jobs queue up).
    for (let i = 0; i < 4; i++)
      await s.client.slashCommand({ text: `start sev3 Storm ${i}`, userId: alice, channelId: s.general });
    await killed;
    await until('the worker to die', () => worker.proc.signalCode === 'SIGKILL');
    await s.startWorker();

    const entries = await until(
      'all 30 messages recorded and delivered',
      async () => {
        const es = await timeline(s!, inc.id);
        return (
          es.filter((e) => e.kind === 'message_recorded').length >= 30 && (await delivered(s!, inc.id)) && es
        );
      },
      120_000,
      200,
    );
    const recorded = entries.filter((e) => e.kind === 'message_recorded').map((e) => e.messageTs);
    expect(recorded.sort()).toEqual(said.map((m) => m.ts).sort());
    expect(entries.filter((e) => e.kind === 'channel_created')).toHaveLength(1);
    expect(entries.filter((e) => e.kind === 'summary_posted')).toHaveLength(1);
    // Every confirmation once, and in timeline order.
    const confirmations = s.sandbox
      .messages(inc.channel)
      .filter((m) => m.user === s!.sandbox.botUserId && (m.text ?? '').includes('Added to the timeline'));
    expect(confirmations).toHaveLength(30);

    // The incidents declared around the kill: one channel each, one pinned summary each.
    const ids = ['INC-2', 'INC-3', 'INC-4', 'INC-5'];
    await until(
      'the other incidents set up',
      async () => {
        for (const id of ids)
          if (!(await timeline(s!, id)).some((e) => e.kind === 'summary_posted')) return false;
        return true;
      },
      120_000,
      200,
    );
    for (const id of ids) {
      const es = await timeline(s, id);
      expect(
        es.filter((e) => e.kind === 'channel_created'),
        id,
      ).toHaveLength(1);
      expect(
        es.filter((e) => e.kind === 'summary_posted'),
        id,
      ).toHaveLength(1);
    }
    const created = s.sandbox.transcriptFor('conversations.create').filter((e) => e.ok);
    expect(created).toHaveLength(5);
    for (const c of s.sandbox.channels().filter((c) => c.name.startsWith('inc-')))
      expect(c.pins, c.name).toHaveLength(1);
  });

  // deliver() posts, then moves its cursor: a worker killed in between used to post the message
  // again on retry. Posts now carry message metadata and a Redis note (src/flows/post-once.ts).
  it('does not post a confirmation twice when it dies after Slack accepted it', async () => {
    s = await startStack('kill-deliver', { rateLimits: 'raised', env: { WORKER_CONCURRENCY: '1' } });
    const inc = await declare(s, 'Checkout latency');
    await until('the first delivery', () => delivered(s!, inc.id));
    const worker = s.workers[0]!;
    const killed = killOn(
      s,
      worker.proc.pid!,
      (e) =>
        e.method === 'chat.postMessage' &&
        e.args.channel === inc.channel &&
        String(e.args.text).includes('note 3'),
    );
    for (let i = 1; i <= 6; i++)
      await s.client.slashCommand({ text: `note note ${i}`, userId: s.users.alice, channelId: inc.channel });
    await killed;
    await s.startWorker();
    await until(
      'all notes delivered',
      async () => (await timeline(s!, inc.id)).length >= 9 && delivered(s!, inc.id),
      120_000,
      200,
    );
    const notes = s.sandbox.messages(inc.channel).filter((m) => /note \d/.test(m.text ?? ''));
    expect(notes.map((m) => /note (\d)/.exec(m.text ?? '')?.[1])).toEqual(['1', '2', '3', '4', '5', '6']);
  });
});
