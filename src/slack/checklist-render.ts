import { type CheckResult, describeSeenFrom, type ServerFigures, type Verdict } from '../core/check.js';
import type { SlackMessage } from '../flows/deps.js';
import { escapeText, mention, truncate } from './escape.js';
import { fitMessage } from './limits.js';

/** The state of one (check, target) row: `pending` while its job runs, else the verdict of its latest result. */
export type RowState = 'pending' | Verdict;

/** One target of an automated item: its state, its latest result (possibly from an earlier run while pending). */
export interface CheckRow {
  target: string;
  state: RowState;
  result?: CheckResult;
}

/** An automated checklist item: its check id and rows, or why it cannot run (`skipped`, with how to fix it). */
export interface AutomatedItemView {
  kind: 'automated';
  id: string;
  label: string;
  checkId: string;
  rows: CheckRow[];
  /** Set when the check has no target: what to configure so it runs. */
  skippedBecause?: string;
}

/** A manual item: a checkbox, and who ticked it when. */
export interface ManualItemView {
  kind: 'manual';
  id: string;
  label: string;
  hint?: string;
  checked: boolean;
  by?: string;
  at?: string;
}

/** Everything the checklist message shows; built by src/flows/checklist.ts from the folded timeline. */
export interface ChecklistView {
  incidentId: string;
  name: string;
  description?: string;
  items: (AutomatedItemView | ManualItemView)[];
  /** Results of checks run on request that no item of this checklist covers. */
  extra: CheckRow[];
  /** Problems with the targets file or the checklist templates, shown verbatim (escaped). */
  problems: string[];
  run: number;
  window?: { from: string; to: string };
}

/** `action_id` prefix of the manual items' checkboxes; the suffix is the item id. */
export const CHECKLIST_ACTION_PREFIX = 'checklist-item-';

const ICON: Record<RowState, string> = {
  pending: ':hourglass_flowing_sand:',
  pass: ':white_check_mark:',
  warn: ':warning:',
  fail: ':x:',
  error: ':exclamation:',
  skipped: ':heavy_minus_sign:',
};
const RANK: Record<RowState, number> = { skipped: 0, pass: 1, warn: 2, error: 3, fail: 4, pending: 5 };

/** The state an item shows: pending while any row runs, else its worst verdict. */
export function itemState(item: AutomatedItemView): RowState {
  if (item.skippedBecause || item.rows.length === 0) return 'skipped';
  return item.rows.reduce<RowState>((w, r) => (RANK[r.state] > RANK[w] ? r.state : w), 'skipped');
}

function pct(x: number | undefined): string {
  if (x === undefined) return '?';
  const p = x * 100;
  return `${p > 0 && p < 10 ? p.toFixed(1) : Math.round(p)}%`;
}

const BAR_CELLS = 10;
const MAX_SERVERS_PER_POOL = 8;
const MAX_POOLS = 4;

/** One bar, `BAR_CELLS` wide: `██████████` for 100%, `█░░░░░░░░░` for 10%; at least one cell for any traffic. */
export function bar(share: number): string {
  const clamped = Math.min(1, Math.max(0, share));
  let full = Math.round(clamped * BAR_CELLS);
  if (full === 0 && clamped > 0) full = 1;
  return '█'.repeat(full) + '░'.repeat(BAR_CELLS - full);
}

/**
 * Per-server bars of a traffic-distribution result, observed share against expected, in a code block so the
 * columns line up: `web1  ██████████  99%  expected 98% by weight, 33% if even`. Empty when no server has a share.
 */
export function distributionBars(result: CheckResult): string {
  const byPool = new Map<string, ServerFigures[]>();
  for (const s of result.servers) {
    if (s.observedShare === undefined) continue;
    const list = byPool.get(s.backend) ?? [];
    list.push(s);
    byPool.set(s.backend, list);
  }
  if (byPool.size === 0) return '';
  const lines: string[] = [];
  const pools = [...byPool.entries()].slice(0, MAX_POOLS);
  const width = Math.min(24, Math.max(...pools.flatMap(([, ss]) => ss.map((s) => s.server.length))));
  for (const [pool, servers] of pools) {
    if (byPool.size > 1) lines.push(`${pool}:`);
    const shown = [...servers].sort((a, b) => b.observedShare! - a.observedShare!);
    for (const s of shown.slice(0, MAX_SERVERS_PER_POOL)) {
      const name = truncate(s.server, width).padEnd(width);
      const expected =
        s.expectedShare === undefined
          ? ''
          : s.evenShare !== undefined && Math.abs(s.evenShare - s.expectedShare) > 0.005
            ? `expected ${pct(s.expectedShare)} by weight, ${pct(s.evenShare)} if even`
            : `expected ${pct(s.expectedShare)}`;
      lines.push(
        `${name} ${bar(s.observedShare!)} ${pct(s.observedShare).padStart(4)}  ${expected}`.trimEnd(),
      );
    }
    if (shown.length > MAX_SERVERS_PER_POOL)
      lines.push(`… and ${shown.length - MAX_SERVERS_PER_POOL} more servers`);
  }
  if (byPool.size > MAX_POOLS) lines.push(`… and ${byPool.size - MAX_POOLS} more pools`);
  // Server names come from config files: escape them, and keep a stray backtick from ending the block.
  return `\`\`\`\n${escapeText(lines.join('\n').replace(/`/g, "'"))}\n\`\`\``;
}

function rowText(row: CheckRow, showTarget: boolean): string {
  const who = showTarget ? `*${escapeText(row.target)}* ` : '';
  const r = row.result;
  if (row.state === 'pending') {
    return `${ICON.pending} ${who}running…${r ? ` (last run: ${r.verdict} — ${escapeText(r.summary)})` : ''}`;
  }
  if (!r) return `${ICON.skipped} ${who}not run yet`;
  const out = [`${ICON[r.verdict]} ${who}*${r.verdict}* — ${escapeText(r.summary)}`];
  if (r.checkId === 'traffic-distribution') {
    const bars = distributionBars(r);
    if (bars) out.push(bars);
  }
  const detail = [
    ...(r.seenFrom?.length ? [`seen from: ${describeSeenFrom(r.seenFrom)}`] : []),
    ...r.evidence.slice(0, 3),
    ...r.notes.slice(0, 2).map((n) => `note: ${n}`),
  ];
  for (const d of detail) out.push(`> ${escapeText(truncate(d, 300))}`);
  return out.join('\n');
}

function automatedSection(item: AutomatedItemView): unknown {
  const state = itemState(item);
  const head = `${ICON[state]} *${escapeText(item.label)}*  \`${escapeText(item.checkId)}\``;
  const body = item.skippedBecause
    ? `${ICON.skipped} skipped — ${escapeText(item.skippedBecause)}`
    : item.rows.map((r) => rowText(r, true)).join('\n');
  return {
    type: 'section',
    block_id: `check-${item.id}`.slice(0, 255),
    text: { type: 'mrkdwn', text: truncate(`${head}\n${body}`, 3000) },
  };
}

function manualSection(item: ManualItemView): unknown {
  const done = item.checked && item.by ? `\n_done by ${mention(item.by)}_` : '';
  const hint = item.hint ? `\n${escapeText(item.hint)}` : '';
  const option = {
    // An option's text is at most 75 characters (@slack/types composition-objects.d.ts).
    text: { type: 'mrkdwn', text: `*${truncate(escapeText(item.label), 70)}*` },
    value: item.id,
  };
  return {
    type: 'section',
    block_id: `manual-${item.id}`.slice(0, 255),
    text: {
      type: 'mrkdwn',
      text: truncate(
        `${item.checked ? ':ballot_box_with_check:' : ':white_square:'} ${escapeText(item.label)}${hint}${done}`,
        3000,
      ),
    },
    accessory: {
      type: 'checkboxes',
      action_id: `${CHECKLIST_ACTION_PREFIX}${item.id}`,
      options: [option],
      ...(item.checked ? { initial_options: [option] } : {}),
    },
  };
}

/** Slack's limit is 50 blocks; header, problems, extra and footer take at most 5. */
const MAX_ITEM_BLOCKS = 44;

/**
 * The checklist message (Block Kit, https://docs.slack.dev/reference/block-kit/blocks): one section per
 * item, automated items with their live state per target (pending → pass/warn/fail/error), the
 * traffic-distribution bars, manual items as checkboxes; at most 50 blocks, section text at most 3000 characters.
 */
export function checklistMessage(view: ChecklistView): SlackMessage {
  const blocks: unknown[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`${view.incidentId} checklist: ${view.name}`, 150),
        emoji: true,
      },
    },
  ];
  if (view.description)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncate(escapeText(view.description), 2900) }],
    });
  if (view.problems.length > 0) {
    const lines = view.problems.map((p) => `• ${escapeText(p)}`);
    blocks.push({
      type: 'section',
      block_id: 'problems',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `:warning: *Diagnostics configuration problems* (the checks that can run still do; fix the file and restart the bot):\n${lines.join('\n')}`,
          3000,
        ),
      },
    });
  }
  const itemBlocks = view.items.map((i) => (i.kind === 'manual' ? manualSection(i) : automatedSection(i)));
  if (itemBlocks.length > MAX_ITEM_BLOCKS) {
    const rest = view.items.slice(MAX_ITEM_BLOCKS - 1);
    blocks.push(...itemBlocks.slice(0, MAX_ITEM_BLOCKS - 1));
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `…and ${rest.length} more items: ${rest.map((i) => escapeText(i.label)).join(' · ')}`,
          3000,
        ),
      },
    });
  } else blocks.push(...itemBlocks);
  if (view.extra.length > 0) {
    blocks.push({
      type: 'section',
      block_id: 'extra',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `*Other checks run on request*\n${view.extra.map((r) => `\`${escapeText(r.result?.checkId ?? '?')}\` ${rowText(r, true)}`).join('\n')}`,
          3000,
        ),
      },
    });
  }
  const footer = [`Run ${view.run}`];
  if (view.window)
    footer.push(`window ${view.window.from.slice(11, 16)}–${view.window.to.slice(11, 16)} UTC`);
  footer.push('re-run with `/incident diagnose [check]`');
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: footer.join(' · ') }] });

  const automated = view.items.filter((i): i is AutomatedItemView => i.kind === 'automated');
  const counts = new Map<RowState, number>();
  for (const i of automated) counts.set(itemState(i), (counts.get(itemState(i)) ?? 0) + 1);
  const tally = (['fail', 'error', 'warn', 'pending', 'pass', 'skipped'] as RowState[])
    .filter((s) => counts.get(s))
    .map((s) => `${counts.get(s)} ${s}`)
    .join(', ');
  // Updated in place with chat.update: inside its limits by construction.
  return fitMessage(
    { text: `${view.incidentId} checklist (${view.name}): ${tally || 'no automated checks'}`, blocks },
    { updatable: true },
  );
}
