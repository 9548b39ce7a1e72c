import { describe, expect, it } from 'vitest';
import type { EntryOf } from '../../src/core/timeline.js';
import { validateBlocks } from '../../src/sandbox/index.js';
import {
  alertEntryMessage,
  alertFiredMessage,
  alertResolvedMessage,
  allResolvedMessage,
  CLOSE_INCIDENT_ACTION,
} from '../../src/slack/alert-render.js';

// The pure Block Kit renderers of alert posts, pinned by snapshots and checked against Slack's
// block limits (the sandbox's validator).

const fired: EntryOf<'alert_fired'> = {
  seq: 4,
  incidentId: 'INC-7',
  kind: 'alert_fired',
  at: '2024-05-01T10:00:00.123Z',
  actor: { type: 'alert', source: 'alertmanager' },
  source: 'alert',
  alertGroupId: 'alertmanager-3fa9c0d1e2b4a5c6',
  fingerprint: 'fd817304938026ec',
  name: 'HighErrorRate',
  labels: { service: 'checkout', alertname: 'HighErrorRate', severity: 'critical' },
  annotations: {
    summary: 'Checkout 5xx <b>above</b> 5% 🔥 *now*',
    description: 'p99 4s; <!channel> see dashboard',
    runbook_url: 'https://runbooks.example/checkout/5xx',
  },
  startsAt: '2024-05-01T10:00:00.123Z',
  generatorURL: 'http://prometheus.example:9090/graph?g0.expr=up',
};

describe('alert post rendering', () => {
  it('renders a firing alert with literal texts, the runbook button and the source link', () => {
    const msg = alertFiredMessage(fired);
    expect(msg).toMatchSnapshot();
    expect(validateBlocks(msg.blocks)).toEqual([]);
  });

  it('offers no button or link for a runbook or generator URL that is not http(s)', () => {
    const msg = alertFiredMessage({
      ...fired,
      annotations: { runbook_url: 'javascript:alert(1)' },
      generatorURL: '<!channel>',
    });
    const json = JSON.stringify(msg.blocks);
    expect(json).not.toContain('javascript:');
    expect(json).not.toContain('"actions"');
    expect(json).not.toContain('<!channel>');
  });

  it('renders a resolved alert and the all-resolved notice with its Close button', () => {
    const resolved: EntryOf<'alert_resolved'> = {
      seq: 9,
      incidentId: 'INC-7',
      kind: 'alert_resolved',
      at: '2024-05-01T10:20:00.000Z',
      actor: { type: 'alert', source: 'alertmanager' },
      source: 'alert',
      alertGroupId: fired.alertGroupId,
      fingerprint: fired.fingerprint,
      name: 'HighErrorRate',
      labels: fired.labels,
      endsAt: '2024-05-01T10:20:00.000Z',
    };
    expect(alertResolvedMessage(resolved)).toMatchSnapshot();
    const notice = allResolvedMessage('INC-7', 2);
    expect(notice).toMatchSnapshot();
    expect(JSON.stringify(notice.blocks)).toContain(`"action_id":"${CLOSE_INCIDENT_ACTION}"`);
    expect(alertEntryMessage(resolved)).toEqual(alertResolvedMessage(resolved));
    expect(alertEntryMessage({ ...resolved, kind: 'note', text: 'x' } as never)).toBeNull();
  });
});
