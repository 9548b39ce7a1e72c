import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PAGERDUTY_SEVERITY_EVENTS, PAGERDUTY_STATE_EVENTS } from '../../src/alerts/pagerduty.js';
import { parseSeverityMapping } from '../../src/core/alert.js';
import { accepted, deliver, FIXTURES, fixture, fixtureText } from './helpers.js';

/** `event_type` → `data.type`, from PagerDuty's Event Types table. */
const EVENT_TYPES = [
  ...fixtureText('v3-event-types.md').matchAll(/^\|\s*([a-z_.]+)\s*\|\s*`([a-z_]+)`/gm),
].map((m) => ({ eventType: m[1]!, dataType: m[2]! }));

function envelope(eventType: string, data: unknown, occurredAt = '2024-05-01T10:00:30.123Z') {
  return {
    event: {
      id: '01EXAMPLE0EVENT0ID000000000',
      event_type: eventType,
      resource_type: eventType.split('.')[0],
      occurred_at: occurredAt,
      agent: null,
      client: null,
      data,
    },
  };
}

describe('the PagerDuty v3 webhook', () => {
  it('has a data example for every event type in the table', () => {
    expect(EVENT_TYPES.length).toBe(30);
    const files = new Set(readdirSync(FIXTURES));
    for (const { dataType } of EVENT_TYPES) expect(files).toContain(`v3-data-${dataType}.json`);
  });

  it.each(EVENT_TYPES)(
    'answers $eventType ($dataType) with a batch or a reason',
    ({ eventType, dataType }) => {
      const r = deliver('pagerduty', envelope(eventType, fixture(`v3-data-${dataType}.json`)));
      const severityEvents: readonly string[] = PAGERDUTY_SEVERITY_EVENTS;
      if (Object.hasOwn(PAGERDUTY_STATE_EVENTS, eventType) || severityEvents.includes(eventType)) {
        const batch = accepted(r);
        expect(batch.groupKey).toBe('PGR0VU2');
      } else {
        expect(r).toEqual({
          status: 200,
          body: { ignored: `PagerDuty event ${eventType} does not change alert state` },
        });
      }
    },
  );

  it('turns incident.triggered into a firing batch keyed by the incident id', () => {
    const data = fixture('v3-data-incident.json');
    data.reopened_at = null;
    const batch = accepted(deliver('pagerduty', envelope('incident.triggered', data)));
    expect(batch).toEqual({
      source: 'pagerduty',
      groupKey: 'PGR0VU2',
      status: 'firing',
      title: 'A little bump in the road',
      severity: 'SEV1',
      receivedAt: '2024-05-01T10:01:00.000Z',
      externalUrl: 'https://acme.pagerduty.com/incidents/PGR0VU2',
      alerts: [
        {
          fingerprint: 'PGR0VU2',
          status: 'firing',
          name: 'A little bump in the road',
          labels: {
            service: 'API Service',
            urgency: 'high',
            priority: 'P1',
            incident_number: '2',
            incident_key: 'd3640fbd41094207a1c11e58e46b1662',
          },
          annotations: { summary: 'A little bump in the road' },
          startsAt: '2020-04-09T15:16:27.000Z',
          summary: 'A little bump in the road',
          generatorURL: 'https://acme.pagerduty.com/incidents/PGR0VU2',
          severityAsk: { severity: 'SEV1', because: 'priority=P1' },
        },
      ],
    });
  });

  it("ignores the PagerDuty incident incident-bot's own page opened, in every state, and nothing else", () => {
    for (const eventType of ['incident.triggered', 'incident.acknowledged', 'incident.resolved']) {
      const data = fixture('v3-data-incident.json');
      data.incident_key = 'INC-7';
      data.title = 'INC-7 SEV2: Checkout 5xx';
      expect(deliver('pagerduty', envelope(eventType, data))).toEqual({
        status: 200,
        body: {
          ignored:
            "PagerDuty incident PGR0VU2 comes from incident-bot's own page of INC-7 (dedup_key INC-7): not a new alert",
        },
      });
    }
    // another tool's key that looks like ours, or our key with a title we did not write: a real alert
    const data = fixture('v3-data-incident.json');
    data.incident_key = 'INC-7';
    data.title = 'Disk full on db-1';
    expect(accepted(deliver('pagerduty', envelope('incident.triggered', data))).groupKey).toBe('PGR0VU2');
    data.incident_key = 'INC-7x';
    data.title = 'INC-7x SEV2: Checkout 5xx';
    expect(accepted(deliver('pagerduty', envelope('incident.triggered', data))).groupKey).toBe('PGR0VU2');
  });

  it('starts a reopened incident at its reopen time, so it fires again', () => {
    const batch = accepted(
      deliver('pagerduty', envelope('incident.reopened', fixture('v3-data-incident.json'))),
    );
    expect(batch.alerts[0]).toMatchObject({ status: 'firing', startsAt: '2020-10-02T18:45:22.000Z' });
  });

  it('resolves at the time the event occurred', () => {
    const data = fixture('v3-data-incident.json');
    data.status = 'resolved';
    const batch = accepted(deliver('pagerduty', envelope('incident.resolved', data)));
    expect(batch.status).toBe('resolved');
    expect(batch.alerts[0]?.endsAt).toBe('2024-05-01T10:00:30.123Z');
  });

  it('maps urgency when there is no priority, and the mapping can be overridden', () => {
    const data = fixture('v3-data-incident.json');
    data.priority = null;
    expect(accepted(deliver('pagerduty', envelope('incident.triggered', data))).severity).toBe('SEV2');
    data.urgency = 'low';
    expect(accepted(deliver('pagerduty', envelope('incident.triggered', data))).severity).toBe('SEV4');
  });

  it('ignores the documented service.updated body', () => {
    expect(deliver('pagerduty', fixture('v3-event-service.updated.json')).status).toBe(200);
  });

  it('turns the documented incident.priority_updated body into a severity-only firing batch', () => {
    const batch = accepted(deliver('pagerduty', fixture('v3-event-incident.priority_updated.json')));
    expect(batch).toMatchObject({
      source: 'pagerduty',
      groupKey: 'PGR0VU2',
      status: 'firing',
      severity: 'SEV1',
      severityOnly: true,
    });
    // Same alert identity as the trigger (fingerprint and episode start), so it finds that alert.
    expect(batch.alerts).toEqual([
      expect.objectContaining({
        fingerprint: 'PGR0VU2',
        status: 'firing',
        startsAt: '2020-10-02T18:45:22.000Z',
        severityAsk: { severity: 'SEV1', because: 'priority=P1' },
      }),
    ]);
    const triggered = accepted(
      deliver('pagerduty', envelope('incident.triggered', fixture('v3-data-incident.json'))),
    );
    expect(triggered.severityOnly).toBeUndefined();
  });

  it.each([
    ['P1', 'SEV1'],
    ['P2', 'SEV2'],
    ['P3', 'SEV3'],
    ['P4', 'SEV4'],
    ['P5', 'SEV4'],
  ])('maps priority %s on incident.priority_updated to %s, as on trigger', (priority, severity) => {
    const data = fixture('v3-data-incident.json');
    data.priority.summary = priority;
    for (const type of ['incident.priority_updated', 'incident.triggered']) {
      const batch = accepted(deliver('pagerduty', envelope(type, data)));
      expect(batch.severity).toBe(severity);
      expect(batch.alerts[0]?.severityAsk).toEqual({ severity, because: `priority=${priority}` });
    }
  });

  it('maps an account’s own priority names through ALERT_SEVERITY_MAP, else falls back to urgency', () => {
    const data = fixture('v3-data-incident.json');
    data.priority.summary = 'Sev-1 Outage';
    const plain = accepted(deliver('pagerduty', envelope('incident.priority_updated', data)));
    expect(plain.alerts[0]?.severityAsk).toEqual({ severity: 'SEV2', because: 'urgency=high' });
    const mapping = parseSeverityMapping('sev-1 outage=SEV1');
    const mapped = accepted(deliver('pagerduty', envelope('incident.priority_updated', data), { mapping }));
    expect(mapped.alerts[0]?.severityAsk).toEqual({ severity: 'SEV1', because: 'priority=Sev-1 Outage' });
  });

  it('rejects an incident.priority_updated whose data is not an incident', () => {
    const r = deliver(
      'pagerduty',
      envelope('incident.priority_updated', fixture('v3-data-incident_note.json')),
    );
    expect(r.status).toBe(400);
  });

  it('rejects an incident event whose data is not an incident, naming the field', () => {
    const r = deliver('pagerduty', envelope('incident.triggered', fixture('v3-data-incident_note.json')));
    expect(r.status).toBe(400);
    if (r.status !== 400) return;
    expect(r.body.issues.map((i) => i.path)).toContain('event.data.type');
    expect(r.body.issues.map((i) => i.path)).toContain('event.data.created_at');
  });

  it('rejects a body without the event envelope', () => {
    expect(deliver('pagerduty', fixture('v3-data-incident.json')).body).toMatchObject({
      issues: [{ path: 'event' }],
    });
  });
});
