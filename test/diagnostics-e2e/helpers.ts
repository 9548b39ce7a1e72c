import type { TimelineEntry } from '../../src/core/timeline.js';
import { blocksToText, type SandboxMessage } from '../../src/sandbox/index.js';
import type { Harness } from '../support/harness.js';

/** The checklist message's readable text (its blocks as Slack shows them). */
export function shown(m: { text: string; blocks?: unknown[] }): string {
  return m.blocks?.length ? blocksToText(m.blocks).join('\n') : m.text;
}

/** Opens an incident with `/incident start` from `general` and resolves with its channel id. */
export async function openIncident(h: Harness, general: string, title: string): Promise<string> {
  const after = h.sandbox.seq;
  await h.client.slashCommand({ text: `start sev2 ${title}`, userId: h.users.alice, channelId: general });
  const created = await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok, { after });
  return h.sandbox.channelByName(String(created.args.name))!.id;
}

/** Waits for the bot's checklist message in `channel` (its header names the checklist). */
export function checklistMessage(h: Harness, channel: string): Promise<SandboxMessage> {
  return h.sandbox.waitForMessage((m) => !!m.bot_id && / checklist: /.test(shown(m)), { channel });
}

/** Waits until the checklist message has been updated to a version with no check pending, after transcript seq `after`. */
export async function settledChecklist(h: Harness, channel: string, ts: string, after = 0): Promise<string> {
  await h.sandbox.waitFor(
    (e) =>
      e.method === 'chat.update' &&
      e.ok &&
      e.args.channel === channel &&
      e.args.ts === ts &&
      !/\d+ pending/.test(String(e.args.text)),
    { after, timeoutMs: 30_000 },
  );
  return shown(h.sandbox.message(channel, ts)!);
}

/** The incident's check_result entries. */
export async function checkResults(h: Harness, id: string) {
  const entries: TimelineEntry[] = await h.bot.rt.store.entries(id);
  return entries.flatMap((e) => (e.kind === 'check_result' ? [e] : []));
}
