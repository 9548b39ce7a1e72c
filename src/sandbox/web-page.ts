import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Sandbox } from './server.js';
import type { SandboxChannel, SandboxMessage } from './workspace.js';

// A read-only web page of the sandbox workspace: channels, messages with their Block Kit rendered
// (https://docs.slack.dev/reference/block-kit/blocks), pins, files and the API calls the bot made,
// updated live over Server-Sent Events while the sandbox changes. Served by the sandbox itself at
// /workspace (see Sandbox.handle), never by the bot.

const EMOJI: Record<string, string> = {
  white_check_mark: '✅',
  warning: '⚠️',
  x: '❌',
  exclamation: '❗',
  hourglass_flowing_sand: '⏳',
  heavy_minus_sign: '➖',
  ballot_box_with_check: '☑️',
  white_square: '⬜',
  rotating_light: '🚨',
  pushpin: '📌',
  memo: '📝',
  mag: '🔍',
  bell: '🔔',
  fire: '🔥',
  large_green_circle: '🟢',
  red_circle: '🔴',
  large_yellow_circle: '🟡',
  page_facing_up: '📄',
  link: '🔗',
  bulb: '💡',
  arrow_right: '➡️',
  information_source: 'ℹ️',
  checkered_flag: '🏁',
  busts_in_silhouette: '👥',
  loudspeaker: '📢',
  green_heart: '💚',
  broken_heart: '💔',
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Slack's own text escapes (&amp; &lt; &gt;) back to characters. */
function unslack(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

const emoji = (s: string) => s.replace(/:([a-z0-9_+-]+):/g, (all, name: string) => EMOJI[name] ?? all);

/** Slack mrkdwn (https://docs.slack.dev/messaging/formatting-message-text) as HTML: code, bold, italics, strike, links, mentions. */
export function mrkdwnToHtml(text: string, sandbox: Sandbox): string {
  const out: string[] = [];
  // Code blocks first: nothing inside them is formatted.
  const parts = text.split('```');
  parts.forEach((part, i) => {
    if (i % 2 === 1) {
      out.push(`<pre>${esc(unslack(part.replace(/^\n/, '')))}</pre>`);
      return;
    }
    let html = '';
    let last = 0;
    for (const m of part.matchAll(/<([^>\n]+)>/g)) {
      html += inline(part.slice(last, m.index));
      html += entity(m[1]!, sandbox);
      last = m.index! + m[0].length;
    }
    html += inline(part.slice(last));
    out.push(html);
  });
  return out.join('');
}

function inline(s: string): string {
  const codes: string[] = [];
  let t = esc(unslack(s)).replace(/`([^`\n]+)`/g, (_all, c: string) => {
    codes.push(`<code>${c}</code>`);
    return `\uE000${codes.length - 1}\uE000`;
  });
  t = emoji(t)
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1<b>$2</b>')
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, '$1<i>$2</i>')
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, '$1<s>$2</s>')
    // Slack's "> " quotes, one line each.
    .split('\n')
    .map((l) => (l.startsWith('&gt; ') ? `<span class="quote">${l.slice(5)}</span>` : l))
    .join('<br>');
  return t.replace(/\uE000(\d+)\uE000/g, (_all, i: string) => codes[Number(i)]!);
}

function entity(body: string, sandbox: Sandbox): string {
  const [target, label] = body.split('|', 2) as [string, string | undefined];
  if (/^@[UW]/.test(target)) {
    const u = sandbox.user(target.slice(1));
    return `<span class="mention">@${esc(u?.name ?? label ?? target.slice(1))}</span>`;
  }
  if (/^#[CG]/.test(target)) {
    const c = sandbox.channel(target.slice(1));
    return `<a class="mention" href="?channel=${esc(target.slice(1))}">#${esc(c?.name ?? label ?? target.slice(1))}</a>`;
  }
  if (target.startsWith('!')) return `<span class="mention">@${esc(target.slice(1).split('^')[0]!)}</span>`;
  const url = unslack(target);
  const safe = /^(https?|mailto):/i.test(url) ? url : '#';
  return `<a href="${esc(safe)}" rel="noreferrer">${esc(unslack(label ?? url))}</a>`;
}

type Obj = Record<string, unknown>;
const text = (t: unknown, sb: Sandbox): string => {
  const o = t as { type?: string; text?: string } | undefined;
  if (!o?.text) return '';
  return o.type === 'mrkdwn' ? mrkdwnToHtml(o.text, sb) : emoji(esc(o.text));
};

function element(e: Obj, sb: Sandbox): string {
  switch (e.type) {
    case 'button': {
      const style = e.style === 'primary' || e.style === 'danger' ? ` ${e.style}` : '';
      const href = typeof e.url === 'string' && /^https?:/.test(e.url) ? ` data-url="${esc(e.url)}"` : '';
      return `<button class="btn${style}" disabled${href}>${text(e.text, sb)}</button>`;
    }
    case 'checkboxes': {
      const checked = new Set(((e.initial_options as Obj[] | undefined) ?? []).map((o) => String(o.value)));
      return `<span class="checkboxes">${((e.options as Obj[] | undefined) ?? [])
        .map(
          (o) =>
            `<label><input type="checkbox" disabled${checked.has(String(o.value)) ? ' checked' : ''}> ${text(o.text, sb)}</label>`,
        )
        .join('')}</span>`;
    }
    case 'image':
      return `<span class="image">[${esc(String(e.alt_text ?? 'image'))}]</span>`;
    case 'static_select':
    case 'users_select':
    case 'conversations_select':
      return `<select disabled><option>${text(e.placeholder, sb) || 'Select…'}</option></select>`;
    case 'mrkdwn':
    case 'plain_text':
      return `<span>${text(e, sb)}</span>`;
    default:
      return `<span class="unknown">[${esc(String(e.type))}]</span>`;
  }
}

/** One Block Kit block as HTML (section, fields, accessory, context, actions, header, divider, input). */
export function blockToHtml(b: Obj, sb: Sandbox): string {
  switch (b.type) {
    case 'header':
      return `<div class="b-header">${text(b.text, sb)}</div>`;
    case 'divider':
      return '<hr>';
    case 'section': {
      const fields = (b.fields as Obj[] | undefined) ?? [];
      const acc = b.accessory ? `<div class="accessory">${element(b.accessory as Obj, sb)}</div>` : '';
      return `<div class="b-section"><div class="b-main">${b.text ? `<div>${text(b.text, sb)}</div>` : ''}${
        fields.length
          ? `<div class="fields">${fields.map((f) => `<div>${text(f, sb)}</div>`).join('')}</div>`
          : ''
      }</div>${acc}</div>`;
    }
    case 'context':
      return `<div class="b-context">${((b.elements as Obj[] | undefined) ?? []).map((e) => element(e, sb)).join(' ')}</div>`;
    case 'actions':
      return `<div class="b-actions">${((b.elements as Obj[] | undefined) ?? []).map((e) => element(e, sb)).join(' ')}</div>`;
    case 'input':
      return `<div class="b-input"><label>${text(b.label, sb)}</label> ${element((b.element as Obj) ?? {}, sb)}</div>`;
    default:
      return `<div class="unknown">[${esc(String(b.type))} block]</div>`;
  }
}

const time = (ts: string) =>
  `${new Date(Number(ts) * 1000).toISOString().replace('T', ' ').slice(0, 16)} UTC`;

function messageHtml(m: SandboxMessage, c: SandboxChannel, sb: Sandbox, replies: SandboxMessage[]): string {
  const who = m.bot_id ? 'incident-bot' : (sb.user(m.user ?? '')?.name ?? m.user ?? 'unknown');
  if (m.subtype)
    return `<div class="msg system" id="m${m.ts}"><span class="ts">${time(m.ts)}</span> ${mrkdwnToHtml(m.text, sb)}</div>`;
  const body = m.blocks?.length
    ? (m.blocks as Obj[]).map((b) => blockToHtml(b, sb)).join('')
    : `<div>${mrkdwnToHtml(m.text, sb)}</div>`;
  const pinned = c.pins.some((p) => p.ts === m.ts);
  const files = (m.files ?? [])
    .map(
      (f) =>
        `<div class="file">📄 <a class="file-link" href="/workspace/files/${esc(f.id)}">${esc(f.title)}</a> <span class="meta">${esc(f.name)}, ${f.size} bytes</span></div>`,
    )
    .join('');
  const reactions = m.reactions?.length
    ? `<div class="reactions">${m.reactions.map((r) => `<span>${emoji(`:${r.name}:`)} ${r.count}</span>`).join(' ')}</div>`
    : '';
  const thread = replies.length
    ? `<div class="thread">${replies.map((r) => messageHtml(r, c, sb, [])).join('')}</div>`
    : '';
  return `<div class="msg${m.bot_id ? ' bot' : ''}${pinned ? ' pinned' : ''}" id="m${m.ts}"><div class="head"><b>${esc(who)}</b>${
    m.bot_id ? ' <span class="app">APP</span>' : ''
  } <span class="ts">${time(m.ts)}</span>${pinned ? ' <span class="pin">📌 pinned</span>' : ''}${m.edited ? ' <span class="meta">(edited)</span>' : ''}</div>${body}${files}${reactions}${thread}</div>`;
}

/** The channel the page shows by default: the newest incident channel, else the newest channel. */
function defaultChannel(sb: Sandbox): SandboxChannel | undefined {
  const all = sb.channels();
  return [...all].reverse().find((c) => c.name.startsWith('inc-')) ?? all.at(-1);
}

/** The live part of the page for `channelId` (default: the newest incident channel): sidebar, channel, pins, files, API calls. */
export function workspaceFragment(sb: Sandbox, channelId?: string): string {
  const c = (channelId && sb.channel(channelId)) || defaultChannel(sb);
  const side = sb
    .channels()
    .map(
      (x) =>
        `<a class="ch${x.id === c?.id ? ' current' : ''}${x.is_archived ? ' archived' : ''}" href="?channel=${x.id}">${x.is_private ? '🔒' : '#'}${esc(x.name)}${x.is_archived ? ' (archived)' : ''}</a>`,
    )
    .join('');
  if (!c) return `<nav>${side}</nav><main><p class="empty">No channels yet.</p></main>`;
  const top = c.messages.filter((m) => !m.deleted && (!m.thread_ts || m.thread_ts === m.ts));
  const repliesOf = (m: SandboxMessage) =>
    c.messages.filter((r) => !r.deleted && r.thread_ts === m.ts && r.ts !== m.ts);
  const pins = c.pins
    .map((p) => c.messages.find((m) => m.ts === p.ts && !m.deleted))
    .filter((m): m is SandboxMessage => !!m)
    .map(
      (m) => `<li><a href="#m${m.ts}">${esc((m.text || 'message').split('\n')[0]!.slice(0, 120))}</a></li>`,
    )
    .join('');
  const files = c.files
    .map((f) => `<li><a class="file-link" href="/workspace/files/${esc(f.id)}">${esc(f.title)}</a></li>`)
    .join('');
  const calls = sb.transcript
    .slice(-60)
    .reverse()
    .map(
      (e) =>
        `<li class="${e.ok ? 'ok' : 'err'}"><span class="ts">${esc(e.at.slice(11, 19))}</span> ${esc(e.method)}${e.ok ? '' : ` → ${esc(e.error ?? String(e.status))}`}</li>`,
    )
    .join('');
  const members = c.members.map((id) => esc(sb.user(id)?.name ?? id)).join(', ');
  return `<nav><div class="team">Sandbox workspace</div>${side}</nav><main><header><h1 id="channel-name">#${esc(c.name)}</h1><div class="meta">${
    c.topic.value ? `${mrkdwnToHtml(c.topic.value, sb)} · ` : ''
  }members: ${members}</div></header><section class="messages">${top
    .map((m) => messageHtml(m, c, sb, repliesOf(m)))
    .join(
      '',
    )}</section></main><aside><h2>📌 Pinned</h2><ul class="pins">${pins || '<li class="meta">none</li>'}</ul><h2>Files</h2><ul class="files">${
    files || '<li class="meta">none</li>'
  }</ul><h2>API calls (latest first)</h2><ul class="calls">${calls}</ul></aside>`;
}

const STYLE = `
body{margin:0;font:14px/1.45 -apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:#1d1c1d;display:grid;grid-template-columns:220px 1fr 300px;height:100vh}
#live{display:contents}
nav{background:#3f0e40;color:#e8dce8;padding:12px 0;overflow:auto}
nav .team{font-weight:700;color:#fff;padding:0 16px 12px}
nav a.ch{display:block;padding:3px 16px;color:#cfc3cf;text-decoration:none;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
nav a.current{background:#1164a3;color:#fff}
nav a.archived{opacity:.55}
main{overflow:auto;padding:0 20px 40px}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:10px 0}
h1{font-size:18px;margin:0}
.meta,.ts{color:#616061;font-size:12px}
.msg{padding:8px 0;border-bottom:1px solid #f2f2f2;scroll-margin-top:64px}
.msg.pinned{background:#fef9e7}
.msg.system{color:#616061;font-size:13px}
.app{background:#e8e8e8;font-size:10px;padding:0 3px;border-radius:2px}
.b-header{font-weight:700;font-size:16px;margin:4px 0}
.b-section{display:flex;gap:12px;align-items:flex-start;margin:4px 0}
.b-main{flex:1}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}
.b-context{color:#616061;font-size:12px;margin:4px 0}
.b-actions{margin:6px 0;display:flex;gap:8px;flex-wrap:wrap}
.btn{border:1px solid #bbb;background:#fff;border-radius:4px;padding:3px 10px;font-weight:600;color:#1d1c1d}
.btn.primary{background:#007a5a;color:#fff;border-color:#007a5a}
.btn.danger{background:#e01e5a;color:#fff;border-color:#e01e5a}
pre{background:#f8f8f8;border:1px solid #e2e2e2;border-radius:4px;padding:6px 8px;font:12px/1.35 ui-monospace,Menlo,Consolas,monospace;white-space:pre-wrap;margin:4px 0}
code{background:#f4f4f4;border:1px solid #e2e2e2;border-radius:3px;padding:0 3px;font-size:12px;color:#c01343}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px;text-decoration:none}
.thread{margin-left:24px;border-left:3px solid #ddd;padding-left:10px}
.file{margin:4px 0}
aside{border-left:1px solid #ddd;padding:0 14px;overflow:auto;font-size:13px}
aside h2{font-size:13px;margin:14px 0 6px}
aside ul{margin:0;padding-left:18px}
.calls{list-style:none;padding:0;font-family:ui-monospace,Menlo,monospace;font-size:11px}
.calls .err{color:#c01343}
.checkboxes label{display:block}
.quote{display:inline-block;border-left:3px solid #ddd;padding-left:8px;color:#454245}
`;

/** The whole page: the fragment plus a script that re-renders it on each change the sandbox reports. */
export function workspacePage(sb: Sandbox, channelId?: string): string {
  const script = `
const params = new URLSearchParams(location.search);
const live = document.getElementById('live');
let pending = false;
async function refresh() {
  if (pending) return; pending = true;
  try {
    const r = await fetch('/workspace/fragment' + location.search);
    if (r.ok) { live.innerHTML = await r.text(); document.body.dataset.version = String(Number(document.body.dataset.version || 0) + 1); }
  } finally { pending = false; }
}
const es = new EventSource('/workspace/events');
es.onmessage = () => refresh();
`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Slack sandbox</title><style>${STYLE}</style></head><body data-version="0"><div id="live">${workspaceFragment(
    sb,
    channelId,
  )}</div><script>${script}</script></body></html>`;
}

/**
 * Serves `GET /workspace` (the page), `/workspace/fragment` (its live part), `/workspace/events`
 * (Server-Sent Events: one `data:` line per change, at most every 100 ms) and
 * `/workspace/files/<id>` (a shared file's content as text). Read-only: nothing here changes the workspace.
 */
export function serveWorkspacePage(
  sb: Sandbox,
  rest: string[],
  url: URL,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const channel = url.searchParams.get('channel') ?? undefined;
  if (req.method !== 'GET') {
    res.writeHead(405, { allow: 'GET' }).end();
    return;
  }
  if (rest.length === 0 || rest[0] === '') {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(workspacePage(sb, channel));
    return;
  }
  if (rest[0] === 'fragment') {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      .end(workspaceFragment(sb, channel));
    return;
  }
  if (rest[0] === 'events') {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write('retry: 1000\n\n');
    let timer: NodeJS.Timeout | undefined;
    const onChange = () => {
      timer ??= setTimeout(() => {
        timer = undefined;
        res.write(`data: ${sb.seq}\n\n`);
      }, 100);
    };
    sb.on('change', onChange);
    req.on('close', () => {
      sb.off('change', onChange);
      if (timer) clearTimeout(timer);
    });
    return;
  }
  if (rest[0] === 'files' && rest[1]) {
    const file = sb
      .channels()
      .flatMap((c) => c.files)
      .find((f) => f.id === rest[1]);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('file_not_found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(file.content);
    return;
  }
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not_found');
}
