import { describe, expect, it } from 'vitest';
import { channelName, slugify } from '../../src/core/channel-name.js';
import { foldTimeline } from '../../src/core/incident.js';
import { canTransition } from '../../src/core/status.js';
import type { TimelineEntry } from '../../src/core/timeline.js';

const user = (id: string) => ({ type: 'user' as const, id });
const base = { incidentId: 'INC-7', source: 'slash' as const };
const at = '2024-02-27T10:00:00.000Z';

type Input = TimelineEntry extends infer E
  ? E extends TimelineEntry
    ? Omit<E, 'seq' | 'incidentId' | 'source'>
    : never
  : never;

function tl(...entries: Input[]): TimelineEntry[] {
  return entries.map((e, i) => ({ ...base, ...e, seq: i + 1 }) as TimelineEntry);
}

describe('folding a timeline into an incident', () => {
  const entries = tl(
    {
      kind: 'declared',
      at: '2024-02-27T10:00:00.000Z',
      actor: { type: 'alert', source: 'alertmanager' },
      title: 'Checkout latency',
      severity: 'SEV2',
    },
    {
      kind: 'channel_created',
      at: '2024-02-27T10:00:02.000Z',
      actor: { type: 'bot' },
      channelId: 'C1',
      channelName: 'inc-20240227-7-checkout-latency',
    },
    { kind: 'note', at: '2024-02-27T10:05:00.000Z', actor: user('U1'), text: 'looking' },
    {
      kind: 'role_assigned',
      at: '2024-02-27T10:06:00.000Z',
      actor: user('U1'),
      role: 'commander',
      userId: 'U2',
    },
    {
      kind: 'hypothesis_suspected',
      at: '2024-02-27T10:10:00.000Z',
      actor: user('U2'),
      hypothesisId: 'H1',
      text: 'database',
      category: 'database',
    },
    {
      kind: 'hypothesis_ruled_out',
      at: '2024-02-27T11:10:00.000Z',
      actor: user('U2'),
      hypothesisId: 'H1',
      evidence: 'p99 2ms',
    },
    {
      kind: 'status_changed',
      at: '2024-02-27T12:00:00.000Z',
      actor: user('U2'),
      from: 'investigating',
      to: 'identified',
    },
    { kind: 'severity_changed', at: '2024-02-27T12:01:00.000Z', actor: user('U2'), from: 'SEV2', to: 'SEV1' },
    {
      kind: 'status_changed',
      at: '2024-02-27T13:00:00.000Z',
      actor: user('U2'),
      from: 'identified',
      to: 'monitoring',
    },
    { kind: 'closed', at: '2024-02-27T14:30:00.000Z', actor: user('U2'), resolution: 'Fixed weights' },
  );

  it('derives status, severity, roles and the lifecycle times from the entries', () => {
    const inc = foldTimeline(entries);
    expect(inc).toMatchObject({
      id: 'INC-7',
      title: 'Checkout latency',
      severity: 'SEV1',
      status: 'closed',
      commander: 'U2',
      channelId: 'C1',
      acknowledgedAt: '2024-02-27T10:05:00.000Z',
      identifiedAt: '2024-02-27T12:00:00.000Z',
      mitigatedAt: '2024-02-27T13:00:00.000Z',
      resolvedAt: '2024-02-27T14:30:00.000Z',
      closedAt: '2024-02-27T14:30:00.000Z',
      resolution: 'Fixed weights',
      entryCount: 10,
    });
    expect(inc.hypotheses).toEqual([
      expect.objectContaining({
        id: 'H1',
        state: 'ruled-out',
        evidence: 'p99 2ms',
        settledAt: '2024-02-27T11:10:00.000Z',
      }),
    ]);
  });

  it('collects the alerts’ runbook and source links once each, web links only', () => {
    const fired = (name: string, runbook: string, source?: string) => ({
      kind: 'alert_fired' as const,
      at,
      actor: { type: 'alert' as const, source: 'alertmanager' },
      alertGroupId: 'g',
      fingerprint: name,
      name,
      labels: {},
      annotations: { runbook_url: runbook },
      startsAt: at,
      generatorURL: source,
    });
    const inc = foldTimeline(
      tl(
        {
          kind: 'declared',
          at,
          actor: { type: 'alert', source: 'alertmanager' },
          title: 'x',
          severity: 'SEV2',
        },
        fired('HighErrorRate', 'https://runbooks.example.com/web', 'http://prom.example.com/graph?x'),
        fired('HighLatency', 'https://runbooks.example.com/web', 'javascript:alert(1)'),
      ),
    );
    expect(inc.links).toEqual([
      { title: 'Runbook: HighErrorRate', url: 'https://runbooks.example.com/web' },
      { title: 'Alert source: HighErrorRate', url: 'http://prom.example.com/graph?x' },
    ]);
  });

  it('refuses a timeline that does not start with a declaration', () => {
    expect(() => foldTimeline(entries.slice(1))).toThrow(/must start with a declared entry/);
  });
});

describe('the status transition table', () => {
  it('lets an open incident move between open statuses and close, and keeps closed final', () => {
    expect(canTransition('investigating', 'identified')).toBe(true);
    expect(canTransition('monitoring', 'investigating')).toBe(true);
    expect(canTransition('resolved', 'closed')).toBe(true);
    expect(canTransition('closed', 'monitoring')).toBe(false);
    expect(canTransition('closed', 'investigating')).toBe(false);
  });
});

describe('incident channel names', () => {
  it('follow inc-<yyyymmdd>-<n>-<slug> in UTC with only legal characters', () => {
    expect(channelName(42, 'Checkout latency & 5xx!', '2024-02-27T23:59:00.000Z')).toBe(
      'inc-20240227-42-checkout-latency-5xx',
    );
  });
  it('stay within 80 characters and add an attempt suffix after a clash', () => {
    const name = channelName(12345, 'x'.repeat(200), '2024-02-27T10:00:00.000Z', 3);
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[a-z0-9_-]+-3$/);
  });
  it('turn accents and emoji into a plain slug', () => {
    expect(slugify('Café – Ünïcode 🚨 outage')).toBe('cafe-unicode-outage');
  });
});
