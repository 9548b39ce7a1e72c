import type { SlackMessage } from '../flows/deps.js';
import { truncate } from './escape.js';

/**
 * The message limits renderers keep to by construction: `text` at most 40,000 characters for
 * chat.postMessage and 4,000 for chat.update (https://docs.slack.dev/reference/methods/chat.update),
 * at most 50 blocks, and blocks of at most 40,000 characters serialized (Slack answers
 * `msg_blocks_too_long` without publishing the number; the sandbox uses the same figure).
 */
export const MESSAGE_LIMITS = { postText: 40_000, updateText: 4000, blocks: 50, blocksJson: 40_000 } as const;

type TextObject = { type: string; text: string };

function textObjects(v: unknown, out: TextObject[] = []): TextObject[] {
  if (Array.isArray(v)) for (const x of v) textObjects(x, out);
  else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string')
      out.push(o as TextObject);
    else for (const x of Object.values(o)) textObjects(x, out);
  }
  return out;
}

/**
 * Fits a rendered message inside MESSAGE_LIMITS (`updatable`: it will be sent with chat.update, so
 * text at most 4,000): cuts the fallback text, and while the blocks are too large in all shortens
 * the longest section texts (never below 200 characters, ending in "…"). Returns a new message.
 */
export function fitMessage(msg: SlackMessage, opts: { updatable?: boolean } = {}): SlackMessage {
  const text = truncate(
    msg.text,
    (opts.updatable ? MESSAGE_LIMITS.updateText : MESSAGE_LIMITS.postText) - 100,
  );
  if (!msg.blocks) return { ...msg, text };
  const blocks = structuredClone(msg.blocks).slice(0, MESSAGE_LIMITS.blocks);
  let size = JSON.stringify(blocks).length;
  const texts = textObjects(blocks).filter((t) => t.type === 'mrkdwn' || t.text.length > 200);
  while (size > MESSAGE_LIMITS.blocksJson) {
    const longest = texts.reduce<TextObject | undefined>(
      (a, t) => (!a || t.text.length > a.text.length ? t : a),
      undefined,
    );
    if (!longest || longest.text.length <= 200) break;
    const cut = Math.max(
      200,
      longest.text.length - (size - MESSAGE_LIMITS.blocksJson) - 50,
      Math.floor(longest.text.length / 2),
    );
    const before = JSON.stringify(longest.text).length;
    longest.text = truncate(longest.text, cut);
    size -= before - JSON.stringify(longest.text).length;
  }
  return { ...msg, text, blocks };
}
