import type { CheckResult } from '../../src/core/check.js';
import type { TimelineEntry } from '../../src/core/timeline.js';

type Input = TimelineEntry extends infer E
  ? E extends TimelineEntry
    ? Omit<E, 'seq' | 'incidentId' | 'source' | 'actor'> & Partial<Pick<E, 'source' | 'actor'>>
    : never
  : never;

/** Numbers entries from 1 and fills in the incident id, a user actor (U1) and the slash source. */
export function timeline(...entries: Input[]): TimelineEntry[] {
  return entries.map(
    (e, i) =>
      ({
        incidentId: 'INC-42',
        actor: { type: 'user', id: 'U1' },
        source: 'slash',
        ...e,
        seq: i + 1,
      }) as TimelineEntry,
  );
}

const bot = { actor: { type: 'bot' as const }, source: 'bot' as const };
const alert = { actor: { type: 'alert' as const, source: 'alertmanager' }, source: 'alert' as const };

function check(
  partial: Partial<CheckResult> & Pick<CheckResult, 'checkId' | 'target' | 'verdict' | 'summary'>,
) {
  return { evidence: [], servers: [], bears: [], notes: [], ...partial };
}

/** The seeds' story: alerts at 10:00 UTC, the team chases the database, the LB check finds web-01 at 97%. */
export function seedStory(): TimelineEntry[] {
  return timeline(
    {
      kind: 'declared',
      at: '2024-02-27T10:01:30.000Z',
      ...alert,
      title: 'Checkout errors and latency',
      severity: 'SEV2',
      alertGroupId: 'ag-checkout',
    },
    {
      kind: 'alert_fired',
      at: '2024-02-27T10:01:30.000Z',
      ...alert,
      alertGroupId: 'ag-checkout',
      fingerprint: 'f-errors',
      name: 'HighErrorRate',
      labels: { severity: 'critical', service: 'web' },
      annotations: { summary: '5xx ratio above 5% on web' },
      startsAt: '2024-02-27T10:00:00.000Z',
    },
    {
      kind: 'alert_fired',
      at: '2024-02-27T10:01:30.000Z',
      ...alert,
      alertGroupId: 'ag-checkout',
      fingerprint: 'f-latency',
      name: 'HighLatency',
      labels: { severity: 'warning', service: 'web' },
      annotations: { summary: 'p99 latency > 2s' },
      startsAt: '2024-02-27T10:00:30.000Z',
    },
    {
      kind: 'channel_created',
      at: '2024-02-27T10:01:35.000Z',
      ...bot,
      channelId: 'C42',
      channelName: 'inc-20240227-42-checkout-errors-and-latency',
    },
    { kind: 'role_assigned', at: '2024-02-27T10:04:00.000Z', role: 'commander', userId: 'U1' },
    {
      kind: 'hypothesis_suspected',
      at: '2024-02-27T10:10:00.000Z',
      hypothesisId: 'H1',
      text: 'Database overload after the schema change',
      category: 'database',
    },
    {
      kind: 'note',
      at: '2024-02-27T10:12:00.000Z',
      actor: { type: 'user', id: 'U2' },
      text: 'DB CPU looks fine, checking the slow query log',
    },
    {
      kind: 'check_result',
      at: '2024-02-27T10:20:00.000Z',
      ...bot,
      result: check({
        checkId: 'database',
        target: 'pg-main',
        verdict: 'pass',
        summary: 'p99 query time 4 ms, 12 of 200 connections in use',
        evidence: ['p99 4 ms over 10:05–10:20 UTC'],
        bears: [{ hypothesis: 'database', effect: 'rules-out' }],
      }),
    },
    {
      kind: 'check_result',
      at: '2024-02-27T10:21:00.000Z',
      ...bot,
      result: check({
        checkId: 'traffic-distribution',
        target: 'lb-prod',
        verdict: 'fail',
        summary: 'web-01 takes 97% of requests, expected 33%',
        evidence: ['backend web: weights web-01=100 web-02=1 web-03=1'],
        servers: [
          {
            backend: 'web',
            server: 'web-01',
            weight: 100,
            requests: 97_000,
            observedShare: 0.97,
            expectedShare: 1 / 3,
            errors5xx: 1840,
          },
          {
            backend: 'web',
            server: 'web-02',
            weight: 1,
            requests: 2_000,
            observedShare: 0.02,
            expectedShare: 1 / 3,
            errors5xx: 0,
          },
          {
            backend: 'web',
            server: 'web-03',
            weight: 1,
            requests: 1_000,
            observedShare: 0.01,
            expectedShare: 1 / 3,
            errors5xx: 0,
          },
        ],
        bears: [{ hypothesis: 'load-balancer', effect: 'supports' }],
        window: { from: '2024-02-27T10:05:00.000Z', to: '2024-02-27T10:20:00.000Z' },
      }),
    },
    {
      kind: 'escalated',
      at: '2024-02-27T10:25:00.000Z',
      userIds: ['U3'],
      reason: 'Need the load-balancer owner',
    },
    {
      kind: 'hypothesis_suspected',
      at: '2024-02-27T10:26:00.000Z',
      hypothesisId: 'H2',
      text: 'Load-balancer weights skewed to web-01',
      category: 'load-balancer',
    },
    {
      kind: 'hypothesis_ruled_out',
      at: '2024-02-27T10:30:00.000Z',
      hypothesisId: 'H1',
      evidence: 'Database check passed: p99 4 ms',
    },
    {
      kind: 'hypothesis_confirmed',
      at: '2024-02-27T10:35:00.000Z',
      actor: { type: 'user', id: 'U3' },
      hypothesisId: 'H2',
      evidence: 'HAProxy weights 100/1/1 since the 09:55 deploy',
    },
    { kind: 'status_changed', at: '2024-02-27T10:36:00.000Z', from: 'investigating', to: 'identified' },
    {
      kind: 'note',
      at: '2024-02-27T10:48:00.000Z',
      actor: { type: 'user', id: 'U3' },
      text: 'Weights reset to 1/1/1 and HAProxy reloaded',
    },
    { kind: 'status_changed', at: '2024-02-27T10:50:00.000Z', from: 'identified', to: 'monitoring' },
    {
      kind: 'alert_resolved',
      at: '2024-02-27T10:55:10.000Z',
      ...alert,
      alertGroupId: 'ag-checkout',
      fingerprint: 'f-latency',
      name: 'HighLatency',
      labels: { severity: 'warning', service: 'web' },
      endsAt: '2024-02-27T10:55:00.000Z',
    },
    {
      kind: 'alert_resolved',
      at: '2024-02-27T10:58:10.000Z',
      ...alert,
      alertGroupId: 'ag-checkout',
      fingerprint: 'f-errors',
      name: 'HighErrorRate',
      labels: { severity: 'critical', service: 'web' },
      endsAt: '2024-02-27T10:58:00.000Z',
    },
    {
      kind: 'impact_set',
      at: '2024-02-27T11:05:00.000Z',
      text: 'About 30% of checkout requests failed with 5xx for about an hour',
    },
    { kind: 'status_changed', at: '2024-02-27T11:10:00.000Z', from: 'monitoring', to: 'resolved' },
    {
      kind: 'followup_added',
      at: '2024-02-27T11:20:00.000Z',
      followupId: 'F1',
      text: 'Check HAProxy weights in the deploy pipeline',
      owner: 'U3',
    },
    { kind: 'closed', at: '2024-02-27T14:30:00.000Z', resolution: 'Load-balancer weights corrected' },
  );
}
