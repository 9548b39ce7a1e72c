import { describe, expect, it } from 'vitest';
import { accepted, deliver, fixture } from './helpers.js';

describe('the Grafana unified alerting webhook', () => {
  it('turns the documented example into a batch with both alerts and Grafana links', () => {
    const batch = accepted(deliver('grafana', fixture('unified-alerting-webhook.json')));
    expect(batch).toMatchObject({
      source: 'grafana',
      groupKey: '{}:{}',
      status: 'firing',
      severity: 'SEV3',
      externalUrl: 'https://play.grafana.org/',
    });
    expect(batch.title).toBe('High memory usage and 1 more');
    expect(batch.alerts.map((a) => [a.fingerprint, a.name, a.startsAt, a.endsAt])).toEqual([
      ['c6eadffa33fcdf37', 'High memory usage', '2021-10-12T07:51:03.157Z', undefined],
      ['bc97ff14869b13e3', 'High CPU usage', '2021-10-12T07:56:03.157Z', undefined],
    ]);
    expect(batch.alerts[0]).toMatchObject({
      runbookUrl: 'https://myrunbook.com/runbook/1234',
      summary: 'This alert was triggered for zone us-1',
      description: 'The system has high memory usage',
      generatorURL: 'https://play.grafana.org/alerting/1afz29v7z/edit',
      // dashboardURL and panelURL are "" in the example: no link.
      links: [
        {
          title: 'Silence',
          url: 'https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1',
        },
      ],
    });
  });

  it('takes the batch severity from the most severe firing alert', () => {
    const body = fixture('unified-alerting-webhook.json');
    body.alerts[0].labels.severity = 'warning';
    body.alerts[1].labels.severity = 'critical';
    expect(accepted(deliver('grafana', body)).severity).toBe('SEV1');
  });

  it('rejects an unknown alert status with 400 naming the field', () => {
    const body = fixture('unified-alerting-webhook.json');
    body.alerts[0].status = 'alerting';
    expect(deliver('grafana', body).body).toMatchObject({
      issues: [{ path: 'alerts[0].status' }],
    });
  });
});

describe('the Grafana legacy alerting webhook', () => {
  it('turns the documented alerting example into a firing batch for its rule', () => {
    const batch = accepted(deliver('grafana', fixture('legacy-alerting-webhook.json')));
    expect(batch).toEqual({
      source: 'grafana',
      groupKey: 'legacy-rule/1/1',
      status: 'firing',
      title: 'Panel Title alert',
      severity: 'SEV3',
      receivedAt: '2024-05-01T10:01:00.000Z',
      externalUrl:
        'http://localhost:3000/d/hZ7BuVbWz/test-dashboard?fullscreen&edit&tab=alert&panelId=2&orgId=1',
      alerts: [
        {
          fingerprint: 'legacy-rule/1/1',
          status: 'firing',
          name: 'Panel Title alert',
          labels: { 'tag name': 'tag value', alertname: 'Panel Title alert' },
          annotations: { message: 'Notification Message', eval_matches: 'Count=1' },
          startsAt: '2024-05-01T10:01:00.000Z',
          description: 'Notification Message',
          generatorURL:
            'http://localhost:3000/d/hZ7BuVbWz/test-dashboard?fullscreen&edit&tab=alert&panelId=2&orgId=1',
          links: [{ title: 'Image', url: 'https://grafana.com/static/assets/img/blog/mixed_styles.png' }],
        },
      ],
    });
  });

  it('resolves the same group when the rule goes back to ok', () => {
    const body = fixture('legacy-alerting-webhook.json');
    body.state = 'ok';
    const batch = accepted(deliver('grafana', body));
    expect(batch).toMatchObject({ groupKey: 'legacy-rule/1/1', status: 'resolved' });
    expect(batch.alerts[0]?.endsAt).toBe('2024-05-01T10:01:00.000Z');
  });

  it.each(['no_data', 'paused', 'pending'])('ignores the %s state with a reason', (state) => {
    const body = fixture('legacy-alerting-webhook.json');
    body.state = state;
    const r = deliver('grafana', body);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ignored: expect.stringContaining(`"${state}"`) });
  });

  it('rejects an unknown legacy state with 400 naming the field', () => {
    const body = fixture('legacy-alerting-webhook.json');
    body.state = 'exploded';
    expect(deliver('grafana', body).body).toMatchObject({
      error: expect.stringContaining('state'),
      issues: [{ path: 'state' }],
    });
  });

  it('keys the Test button notification (rule id 0) by rule name, with null tags', () => {
    const batch = accepted(
      deliver('grafana', {
        evalMatches: [
          { value: 100, metric: 'High value', tags: null },
          { value: 200, metric: 'Higher Value', tags: null },
        ],
        imageUrl: 'http://grafana.org/assets/img/blog/mixed_styles.png',
        message: 'Someone is testing the alert notification within grafana.',
        ruleId: 0,
        ruleName: 'Test notification',
        ruleUrl: 'https://localhost:3000/',
        state: 'alerting',
        title: '[Alerting] Test notification',
      }),
    );
    expect(batch.groupKey).toBe('legacy-rule-name/Test notification');
    expect(batch.alerts[0]?.annotations.eval_matches).toBe('High value=100, Higher Value=200');
  });
});
