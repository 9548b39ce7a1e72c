import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { foldTimeline } from '../../src/core/incident.js';
import { outgoingEvent } from '../../src/core/outgoing-event.js';
import { postmortemView } from '../../src/core/postmortem/index.js';
import {
  receiverLabel,
  verifyWebhook,
  webhookReceivers,
  webhookSignature,
} from '../../src/outbound/webhook.js';
import { timeline } from '../postmortem/story.js';

const story = () =>
  timeline(
    { kind: 'declared', at: '2024-02-27T10:05:00.000Z', title: 'Checkout latency', severity: 'SEV2' },
    { kind: 'role_assigned', at: '2024-02-27T10:06:00.000Z', role: 'comms', userId: 'U2' },
    { kind: 'role_assigned', at: '2024-02-27T10:07:00.000Z', role: 'commander', userId: 'U3' },
    { kind: 'note', at: '2024-02-27T10:08:00.000Z', text: 'looking' },
    {
      kind: 'stakeholder_update',
      at: '2024-02-27T10:10:00.000Z',
      text: 'Rolling back the weights',
      status: 'identified',
      severity: 'SEV2',
      nextUpdateDue: '2024-02-27T10:40:00.000Z',
    },
    { kind: 'status_changed', at: '2024-02-27T10:20:00.000Z', from: 'investigating', to: 'monitoring' },
    { kind: 'status_changed', at: '2024-02-27T10:30:00.000Z', from: 'monitoring', to: 'resolved' },
  );

describe('outgoing webhook events', () => {
  it('maps the timeline to the documented event types, with the incident as of each event', () => {
    const entries = story();
    const out = entries.map((e) => outgoingEvent(e, foldTimeline(entries.slice(0, e.seq))));
    expect(out.map((e) => e?.type ?? null)).toEqual([
      'incident.declared',
      null, // a comms lead is not the commander
      'incident.commander_changed',
      null, // notes stay in Slack
      'incident.update_posted',
      'incident.status_changed',
      'incident.resolved',
    ]);
    expect(out[2]).toMatchObject({
      id: 'INC-42-3',
      seq: 3,
      data: { user_id: 'U3' },
      incident: { commander: 'U3' },
    });
    expect(out[4]?.data).toEqual({
      text: 'Rolling back the weights',
      status: 'identified',
      severity: 'SEV2',
      impact: null,
      next_update_due: '2024-02-27T10:40:00.000Z',
    });
    expect(out[6]?.incident).toMatchObject({ status: 'resolved', resolved_at: '2024-02-27T10:30:00.000Z' });
  });

  it('signs `<timestamp>.<body>` and refuses a wrong secret, a changed body and an old timestamp', () => {
    const body = '{"id":"INC-1-1"}';
    const signature = webhookSignature('s3cret-s3cret-s3cret', 1_700_000_000, body);
    const hmac = createHmac('sha256', 's3cret-s3cret-s3cret').update(`1700000000.${body}`).digest('hex');
    expect(signature).toBe(`sha256=${hmac}`);
    const headers = { timestamp: '1700000000', signature };
    expect(verifyWebhook('s3cret-s3cret-s3cret', headers, body, 1_700_000_100)).toBe(true);
    expect(verifyWebhook('another-secret-xx', headers, body, 1_700_000_100)).toBe(false);
    expect(verifyWebhook('s3cret-s3cret-s3cret', headers, `${body} `, 1_700_000_100)).toBe(false);
    expect(verifyWebhook('s3cret-s3cret-s3cret', headers, body, 1_700_000_301)).toBe(false);
    expect(verifyWebhook('s3cret-s3cret-s3cret', { timestamp: 'now', signature }, body, 1_700_000_000)).toBe(
      false,
    );
  });

  it('gives each receiver a stable id and shows it without credentials or query', () => {
    const [a, b] = webhookReceivers(['https://u:p@hooks.example.com/x?token=1', 'https://n8n.example.com/w']);
    expect(a?.id).toMatch(/^[0-9a-f]{12}$/);
    expect(webhookReceivers(['https://n8n.example.com/w'])[0]?.id).toBe(b?.id);
    expect(receiverLabel(a!.url)).toBe('https://hooks.example.com/x');
  });

  it('refuses webhook URLs without a secret, and URLs that are not http(s), saying what to write', () => {
    const base = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'abcdefgh12345678' };
    expect(() => loadConfig({ ...base, OUTGOING_WEBHOOK_URLS: 'https://hooks.example.com/x' })).toThrow(
      /OUTGOING_WEBHOOK_SECRET: is required with OUTGOING_WEBHOOK_URLS/,
    );
    expect(() =>
      loadConfig({ ...base, OUTGOING_WEBHOOK_URLS: 'ftp://x', OUTGOING_WEBHOOK_SECRET: '0123456789abcdef' }),
    ).toThrow(ConfigError);
    const c = loadConfig({
      ...base,
      OUTGOING_WEBHOOK_URLS: ' https://a.example.com/h , https://b.example.com/h ',
      OUTGOING_WEBHOOK_SECRET: '0123456789abcdef',
    });
    expect(c.OUTGOING_WEBHOOK_URLS).toEqual(['https://a.example.com/h', 'https://b.example.com/h']);
    expect(loadConfig(base).POSTMORTEM_DIR).toBeUndefined();
    expect(loadConfig(base).POSTMORTEM_GIT_BRANCH).toBe('main');
  });
});

describe('stakeholder updates in the postmortem timeline', () => {
  it('shows each update as an Update row with its status, severity and author', () => {
    const rows = postmortemView(story()).timeline.items;
    const row = rows.find((r) => r.label === 'Update');
    expect(row).toMatchObject({
      time: '10:10 UTC',
      text: 'status update to stakeholders (identified, SEV2) by U1: Rolling back the weights',
      ref: '[#5]',
    });
  });
});
