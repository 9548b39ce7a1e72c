import type { IncomingMessage } from 'node:http';
import { OpenApiFixture } from './openapi.js';
import { type Answer, StandIn } from './standin-http.js';

// PagerDuty Events API v2 stand-in (POST /v2/enqueue), validated against PagerDuty's OpenAPI
// description (test/fixtures/outbound/pagerduty-events-v2.openapi.json, see SOURCE.md) and the
// behaviour of https://developer.pagerduty.com/docs/events-api-v2/trigger-events: 202
// {status: success, message: "Event processed", dedup_key}; 400 "invalid event" for a body the
// schema refuses, a routing key that is not 32 characters, a trigger without payload or a
// resolve without dedup_key; events for the same routing key and dedup_key apply to one open
// alert; a resolve of no open alert is dropped (still 202).

const ENQUEUE = '/enqueue';

/** One alert as PagerDuty would keep it: per routing key and dedup key. */
export interface PdAlert {
  routingKey: string;
  dedupKey: string;
  status: 'triggered' | 'resolved';
  summary: string;
  severity: string;
  links: { href: string; text?: string }[];
  triggers: number;
}

export class PagerDutyStandIn extends StandIn {
  readonly fixture = new OpenApiFixture('pagerduty-events-v2.openapi.json');
  readonly alerts: PdAlert[] = [];

  /** The Events API URL to put in PAGERDUTY_EVENTS_URL. */
  get eventsUrl(): string {
    return `${this.url}/v2/enqueue`;
  }

  protected route(
    method: string,
    path: string,
    _q: URLSearchParams,
    _req: IncomingMessage,
    body: unknown,
  ): Answer {
    if (method !== 'POST' || path !== `/v2${ENQUEUE}`)
      return { status: 404, body: { status: 'Not found', message: 'Not found' } };
    const invalid = (errors: string[]): Answer => ({
      status: 400,
      body: { status: 'invalid event', message: 'Event object is invalid', errors },
    });
    const schemaErr = this.fixture.request(ENQUEUE, 'post', body);
    if (schemaErr) return invalid([schemaErr]);
    const b = body as {
      routing_key: string;
      event_action: 'trigger' | 'acknowledge' | 'resolve';
      dedup_key?: string;
      payload?: { summary: string; severity: string };
      links?: { href: string; text?: string }[];
    };
    if (b.routing_key.length !== 32)
      return invalid(["Length of 'routing_key' is incorrect (should be 32 characters)"]);
    if (b.event_action === 'trigger' && !b.payload) return invalid(["'payload' is missing or blank"]);
    if (b.event_action !== 'trigger' && !b.dedup_key) return invalid(["'dedup_key' is missing or blank"]);
    const dedup = b.dedup_key ?? `auto-${this.alerts.length + 1}`;
    const open = this.alerts.find(
      (a) => a.routingKey === b.routing_key && a.dedupKey === dedup && a.status === 'triggered',
    );
    if (b.event_action === 'trigger') {
      if (open) open.triggers++;
      else
        this.alerts.push({
          routingKey: b.routing_key,
          dedupKey: dedup,
          status: 'triggered',
          summary: b.payload!.summary,
          severity: b.payload!.severity,
          links: b.links ?? [],
          triggers: 1,
        });
    } else if (b.event_action === 'resolve' && open) {
      open.status = 'resolved';
    }
    return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: dedup } };
  }
}
