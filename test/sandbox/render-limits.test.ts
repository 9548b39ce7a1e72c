import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/core/check.js';
import { foldTimeline } from '../../src/core/incident.js';
import type { EntryOf, TimelineEntry } from '../../src/core/timeline.js';
import type { SlackMessage } from '../../src/flows/deps.js';
import { BLOCK_LIMITS, MAX_TEXT, MAX_UPDATE_TEXT, validateBlocks } from '../../src/sandbox/index.js';
import {
  alertBatchMessage,
  alertBatchRest,
  alertFiredMessage,
  alertResolvedMessage,
  allResolvedMessage,
} from '../../src/slack/alert-render.js';
import { type ChecklistView, checklistMessage } from '../../src/slack/checklist-render.js';
import { startIncidentModal } from '../../src/slack/modals.js';
import { confirmationFor, summaryMessage } from '../../src/slack/render.js';

// Every renderer stays inside Slack's limits by construction, checked with the sandbox's own
// validator (src/sandbox/blocks.ts, from @slack/types and the Block Kit docs) on hostile input.

const HUGE = 'é<!channel>&*_`'.repeat(2000);
const at = '2024-05-01T10:00:00.000Z';
const base = { incidentId: 'INC-9', at, actor: { type: 'bot' as const }, source: 'bot' as const };

/** Problems Slack would answer for this message: block errors, blocks too long in all, text too long. */
function problems(msg: SlackMessage, opts: { updatable?: boolean } = {}): string[] {
  const out = msg.blocks ? validateBlocks(msg.blocks) : [];
  if (msg.blocks && JSON.stringify(msg.blocks).length > BLOCK_LIMITS.blocksJson)
    out.push('msg_blocks_too_long');
  if (msg.text.length > (opts.updatable ? MAX_UPDATE_TEXT : MAX_TEXT)) out.push(`text of ${msg.text.length}`);
  return out;
}

function fired(i: number, big = false): EntryOf<'alert_fired'> {
  const labels: Record<string, string> = {
    alertname: big ? HUGE : 'HighErrorRate',
    instance: `10.0.0.${i}:80`,
  };
  if (big) for (let k = 0; k < 40; k++) labels[`label_${k}`] = HUGE.slice(0, 500);
  return {
    ...base,
    seq: i + 2,
    kind: 'alert_fired',
    alertGroupId: 'g',
    fingerprint: `f${i}`,
    name: big ? HUGE : 'HighErrorRate',
    labels,
    annotations: big
      ? { summary: HUGE, description: HUGE, runbook_url: `https://runbooks.example/${'r'.repeat(4000)}` }
      : { summary: 'errors', runbook_url: 'https://runbooks.example/x' },
    startsAt: at,
  };
}

describe('renderers inside Slack’s limits', () => {
  it('keep the pinned summary (updated with chat.update) inside them for a huge title, summary and many alerts', () => {
    const entries: TimelineEntry[] = [
      { ...base, seq: 1, kind: 'declared', title: HUGE, severity: 'SEV1', summary: HUGE },
      ...Array.from({ length: 30 }, (_, i) => fired(i, true)),
    ];
    const msg = summaryMessage(foldTimeline(entries), new Date(at));
    expect(problems(msg, { updatable: true })).toEqual([]);
  });

  it('keep every channel confirmation inside them', () => {
    const entries: TimelineEntry[] = [
      { ...base, seq: 2, kind: 'note', text: HUGE },
      {
        ...base,
        seq: 3,
        kind: 'message_recorded',
        channelId: 'C1',
        messageTs: '1.2',
        author: 'U1',
        text: HUGE,
        recordedBy: 'U2',
      },
      { ...base, seq: 4, kind: 'severity_changed', from: 'SEV3', to: 'SEV1', reason: HUGE },
      { ...base, seq: 5, kind: 'hypothesis_suspected', hypothesisId: 'H1', text: HUGE, category: 'database' },
      { ...base, seq: 6, kind: 'escalated', userIds: Array(500).fill('U123456789'), reason: HUGE },
      { ...base, seq: 7, kind: 'job_failed', job: 'deliver', error: HUGE, attempts: 8, detail: HUGE },
      {
        ...base,
        seq: 8,
        kind: 'slack_refused',
        action: 'create_channel',
        target: HUGE,
        error: 'restricted_action',
      },
      { ...base, seq: 9, kind: 'closed', resolution: HUGE },
      { ...base, seq: 10, kind: 'followup_added', followupId: 'F1', text: HUGE, owner: 'U1' },
    ];
    for (const e of entries) {
      const msg = confirmationFor(e);
      expect([e.kind, msg && problems(msg)]).toEqual([e.kind, []]);
    }
  });

  it('keep alert posts and a 1,000-alert batch inside them, the rest of a flood going to a file', () => {
    const big = fired(0, true);
    expect(problems(alertFiredMessage(big))).toEqual([]);
    expect(
      problems(
        alertResolvedMessage({
          ...base,
          seq: 3,
          kind: 'alert_resolved',
          alertGroupId: 'g',
          fingerprint: 'f',
          name: HUGE,
          labels: big.labels,
          endsAt: at,
        }),
      ),
    ).toEqual([]);
    const flood = Array.from({ length: 1000 }, (_, i) => fired(i, i % 100 === 0));
    const batch = alertBatchMessage(flood);
    expect(problems(batch)).toEqual([]);
    expect(JSON.stringify(batch.blocks)).toContain('…and 995 more, listed in the thread.');
    const rest = alertBatchRest(flood);
    expect(rest && 'file' in rest).toBe(true);
    const some = alertBatchRest(Array.from({ length: 40 }, (_, i) => fired(i)));
    expect(some && 'message' in some && problems(some.message)).toEqual([]);
    expect(problems(allResolvedMessage('INC-9', 1000))).toEqual([]);
  });

  it('keep the checklist (updated with chat.update) inside them with 100 items, long labels and huge evidence', () => {
    const result: CheckResult = {
      checkId: 'pool-health',
      target: 'edge',
      verdict: 'fail',
      summary: HUGE,
      evidence: Array(50).fill(HUGE.slice(0, 400)),
      servers: [],
      bears: [],
      notes: [],
    };
    const view: ChecklistView = {
      incidentId: 'INC-9',
      name: HUGE,
      items: Array.from({ length: 100 }, (_, i) =>
        i % 2
          ? { kind: 'manual' as const, id: `m${i}`, label: HUGE, checked: true, by: 'U1', hint: HUGE }
          : {
              kind: 'automated' as const,
              id: `a${i}`,
              label: HUGE,
              checkId: 'pool-health',
              rows: [{ target: 'edge', state: 'fail' as const, result }],
            },
      ),
      extra: [],
      problems: Array(20).fill(HUGE.slice(0, 300)),
      run: 3,
    };
    expect(problems(checklistMessage(view), { updatable: true })).toEqual([]);
  });

  it('keep the declare modal’s title, submit and close within 24 characters', () => {
    const view = startIncidentModal('C1');
    for (const k of ['title', 'submit', 'close'] as const)
      expect(
        ((view as unknown as Record<string, { text?: string }>)[k]?.text ?? '').length,
      ).toBeLessThanOrEqual(24);
    expect(validateBlocks(view.blocks, BLOCK_LIMITS.blocksPerView)).toEqual([]);
  });
});
