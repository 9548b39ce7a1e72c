import { blocksToText } from './blocks.js';
import type { SandboxMessage, Workspace } from './workspace.js';

function clock(ts: string): string {
  return new Date(Number(ts) * 1000).toISOString().slice(11, 19);
}

function indent(text: string, pad: string): string {
  return text
    .split('\n')
    .map((l, i) => (i === 0 ? l : `${pad}${l}`))
    .join('\n');
}

/**
 * A readable transcript of one channel: `HH:MM:SS author: text` per message (UTC), blocks as their text,
 * thread replies indented, edits, reactions, pins, files and ephemeral messages noted. Throws on an unknown id.
 */
export function renderChannel(ws: Workspace, channelId: string): string {
  const c = ws.channels.get(channelId);
  if (!c) throw new Error(`renderChannel: no channel ${channelId} in the sandbox`);
  const name = (id: string | undefined) => (id ? (ws.users.get(id)?.name ?? id) : 'unknown');
  const lines: string[] = [`#${c.name} (${c.id})${c.topic.value ? ` topic: ${c.topic.value}` : ''}`];
  const body = (m: { text: string; blocks?: unknown[] }) => {
    const parts = m.blocks && m.blocks.length > 0 ? blocksToText(m.blocks) : [m.text];
    return parts.join('\n');
  };
  const render = (m: SandboxMessage, pad: string) => {
    const head = `${pad}${clock(m.ts)} ${name(m.user)}${m.bot_id ? ' [bot]' : ''}: `;
    if (m.subtype) {
      lines.push(`${pad}${clock(m.ts)} · ${m.text.replace(`<@${m.user}>`, name(m.user))}`);
      return;
    }
    // As Slack's clients do: show mentions as names, and entities as the characters they stand for.
    const text = body(m)
      .replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, (_all, id: string) => `@${name(id)}`)
      .replace(/<#([CG][A-Z0-9]+)(?:\|[^>]*)?>/g, (_all, id: string) => `#${ws.channels.get(id)?.name ?? id}`)
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    lines.push(`${head}${indent(text, ' '.repeat(head.length))}${m.edited ? ' (edited)' : ''}`);
    for (const f of m.files ?? []) lines.push(`${pad}  [file] ${f.title} (${f.name}, ${f.size} bytes)`);
    if (m.reactions?.length) {
      lines.push(`${pad}  ${m.reactions.map((r) => `:${r.name}: ${r.count}`).join('  ')}`);
    }
    const pin = c.pins.find((p) => p.ts === m.ts);
    if (pin) lines.push(`${pad}  [pinned by ${name(pin.created_by)}]`);
  };
  const events: Array<{ ts: string; emit: () => void }> = [];
  for (const m of c.messages) {
    if (m.deleted || (m.thread_ts && m.thread_ts !== m.ts)) continue;
    events.push({
      ts: m.ts,
      emit: () => {
        render(m, '');
        for (const r of c.messages) {
          if (!r.deleted && r.thread_ts === m.ts && r.ts !== m.ts) render(r, '    ↳ ');
        }
      },
    });
  }
  for (const e of c.ephemeral) {
    events.push({
      ts: e.ts,
      emit: () => lines.push(`${clock(e.ts)} (only visible to ${name(e.user)}) incident-bot: ${body(e)}`),
    });
  }
  events.sort((a, b) => Number(a.ts) - Number(b.ts));
  for (const e of events) e.emit();
  return lines.join('\n');
}
