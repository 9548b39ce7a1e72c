import { describe, expect, it } from 'vitest';
import { foldTimeline } from '../../src/core/incident.js';
import { followupIssueText } from '../../src/core/outbound.js';
import { postmortemView } from '../../src/core/postmortem/index.js';
import type { TimelineEntry } from '../../src/core/timeline.js';
import { checkedPostmortemRenderer } from '../../src/process.js';
import { CREATE_ISSUE_ACTION, followupsMessage } from '../../src/slack/followup-render.js';
import { confirmationFor } from '../../src/slack/render.js';

const at = '2026-05-01T10:00:00.000Z';
const base = { incidentId: 'INC-7', at, actor: { type: 'bot' as const }, source: 'bot' as const };
const entries: TimelineEntry[] = [
  { ...base, seq: 1, kind: 'declared', title: 'Checkout 5xx', severity: 'SEV2' },
  {
    ...base,
    seq: 2,
    kind: 'followup_added',
    followupId: 'F1',
    text: 'Rebalance <edge> weights',
    owner: 'U0BOB',
  },
  { ...base, seq: 3, kind: 'followup_added', followupId: 'F2', text: 'Alert on share of requests' },
  {
    ...base,
    seq: 4,
    kind: 'followup_issue_created',
    followupId: 'F1',
    tracker: 'github',
    key: 'acme/shop#12',
    url: 'https://github.com/acme/shop/issues/12',
    assignee: 'octocat',
  },
];

describe('rendering follow-up issues and outbound failures', () => {
  it('lists each follow-up with its issue link, and a Create issue button only where there is none', () => {
    const msg = followupsMessage(foldTimeline(entries), 'github')!;
    expect(msg.text).toBe('INC-7: 2 follow-up(s); 1 without a GitHub issue');
    expect(msg.blocks).toEqual([
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*Follow-ups of INC-7* (from the postmortem draft)' },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '*F1* Rebalance &lt;edge&gt; weights (owner <@U0BOB>) — <https://github.com/acme/shop/issues/12|acme/shop#12>',
        },
      },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*F2* Alert on share of requests' },
        accessory: {
          type: 'button',
          action_id: CREATE_ISSUE_ACTION,
          text: { type: 'plain_text', text: 'Create issue' },
          value: 'INC-7/F2',
        },
      },
    ]);
    expect(followupsMessage(foldTimeline(entries), undefined)).toBeNull();
  });

  it('writes the issue link next to its follow-up in the draft', () => {
    const md = checkedPostmortemRenderer(undefined)(postmortemView(entries, { now: at }));
    expect(md).toContain(
      '- [ ] Rebalance &lt;edge&gt; weights (owner: U0BOB) — [acme/shop#12](https://github.com/acme/shop/issues/12) [#2, #4]',
    );
    expect(md).toMatch(/- \[ \] Alert on share of requests \[#3\]/);
  });

  it('says in the channel what failed and whether it is retried, escaping the vendor text', () => {
    const failed = confirmationFor({
      ...base,
      seq: 5,
      kind: 'outbound_failed',
      service: 'jira',
      subject: 'follow-up F2',
      error: 'answered 429 (<b>slow down</b>): rate limited; retried after 30 s (Retry-After).',
      retryInS: 30,
    });
    expect(failed?.text).toBe(
      ':warning: Jira — follow-up F2: answered 429 (&lt;b&gt;slow down&lt;/b&gt;): rate limited; retried after 30 s (Retry-After). Retrying in 30 s.',
    );
  });

  it('puts the marker in the issue body and links back to the channel', () => {
    const t = followupIssueText(
      { id: 'INC-7', title: 'Checkout 5xx', severity: 'SEV2' },
      { id: 'F2', text: 'Alert' },
      {
        channelUrl: 'https://slack.com/app_redirect?channel=C1',
      },
    );
    expect(t).toEqual({
      title: 'Alert',
      marker: 'incident-bot-INC-7-F2',
      body: 'Alert\n\nFollow-up F2 of INC-7 (SEV2): Checkout 5xx\nIncident channel: https://slack.com/app_redirect?channel=C1\n\n<!-- incident-bot-INC-7-F2 -->',
    });
  });
});
