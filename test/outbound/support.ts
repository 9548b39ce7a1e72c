import { expect } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import type { EntryOf, TimelineEntry } from '../../src/core/timeline.js';
import { eventually } from '../support/eventually.js';
import type { Harness } from '../support/harness.js';

/** Declares an incident with `/incident start` from #general and waits for its channel and pinned summary. */
export async function declare(h: Harness, title: string): Promise<{ id: IncidentId; channel: string }> {
  const general =
    h.sandbox.channelByName('general')?.id ??
    h.sandbox.addChannel({ name: 'general', members: Object.values(h.users) }).id;
  const r = await h.client.slashCommand({
    text: `start sev2 ${title}`,
    userId: h.users.alice,
    channelId: general,
  });
  const id = /INC-\d+/.exec(JSON.stringify(r.body))?.[0] as IncidentId | undefined;
  if (r.status !== 200 || !id) throw new Error(`start answered ${r.status}: ${JSON.stringify(r.body)}`);
  const channel = await eventually(() => {
    const c = h.sandbox.channels().find((x) => x.name.includes(`-${id.slice(4)}-`) && x.pins.length > 0);
    if (!c) throw new Error(`${id}: no channel with a pinned summary yet`);
    return c.id;
  }, 60_000);
  return { id, channel };
}

/** Runs `/incident <text>` as `user` in `channel` and returns the reply text. */
export async function slash(
  h: Harness,
  channel: string,
  text: string,
  user = h.users.alice,
): Promise<string> {
  const r = await h.client.slashCommand({ text, userId: user, channelId: channel });
  expect(r.status).toBe(200);
  return String((r.body as { text?: string }).text ?? '');
}

/** The incident's entries of one kind. */
export async function entriesOf<K extends TimelineEntry['kind']>(
  h: Harness,
  id: IncidentId,
  kind: K,
): Promise<EntryOf<K>[]> {
  return (await h.bot.rt.store.entries(id)).filter((e): e is EntryOf<K> => e.kind === kind);
}

/** Waits for the incident's first entry of `kind` matching `pred`. */
export async function entry<K extends TimelineEntry['kind']>(
  h: Harness,
  id: IncidentId,
  kind: K,
  pred: (e: EntryOf<K>) => boolean = () => true,
  timeoutMs = 30_000,
): Promise<EntryOf<K>> {
  return eventually(async () => {
    const hit = (await entriesOf(h, id, kind)).find(pred);
    if (!hit) throw new Error(`${id}: no ${kind} entry yet`);
    return hit;
  }, timeoutMs);
}

/** Waits until the outbound queue has nothing waiting, running or delayed (every request and retry done). */
export async function outboundDrained(h: Harness): Promise<void> {
  await eventually(async () => {
    const c = await h.bot.rt.jobs.queues.outbound.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const left = Object.values(c).reduce((a, b) => a + b, 0);
    if (left > 0) throw new Error(`outbound queue still has ${JSON.stringify(c)}`);
  }, 60_000);
}

/** Waits for a bot message in `channel` whose text matches `re`, and returns its text. */
export async function channelLine(h: Harness, channel: string, re: RegExp): Promise<string> {
  return eventually(() => {
    const m = h.sandbox.messages(channel).find((x) => re.test(x.text));
    if (!m) throw new Error(`no message matching ${re} in the channel yet`);
    return m.text;
  }, 30_000);
}
