import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { type Harness, startHarness } from '../support/harness.js';
import { PagerDutyStandIn } from '../support/pagerduty-standin.js';
import { channelLine, declare, entriesOf, entry, outboundDrained, slash } from './support.js';

// `/incident page <service>` → PagerDuty Events API v2 trigger, resolve on resolve/close, and
// escalation paging, against the Events v2 stand-in (test/support/pagerduty-standin.ts).

const CHECKOUT = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const ONCALL = '0ca11000ca11000ca11000ca11000ca1';
let pd: PagerDutyStandIn;
let h: Harness;

beforeAll(async () => {
  pd = await new PagerDutyStandIn().start();
  h = await startHarness('outbound-paging', {
    PAGERDUTY_ROUTING_KEYS: `checkout=${CHECKOUT},oncall=${ONCALL},broken=tooshort`,
    PAGERDUTY_EVENTS_URL: pd.eventsUrl,
    ESCALATION_PAGE_SERVICE: 'oncall',
    OUTBOUND_TIMEOUT_MS: '1500',
    OUTBOUND_JOB_ATTEMPTS: '3',
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    // SEV1 escalates after 1.5 s without an incident commander; the others never.
    ESCALATION_MINUTES: 'SEV1=0.025,SEV2=0,SEV3=0,SEV4=0',
  });
}, 120_000);
afterAll(async () => {
  await h?.close();
  await pd?.close();
});

const alertsOf = (key: string, id: string) =>
  pd.alerts.filter((a) => a.routingKey === key && a.dedupKey === id);

describe('paging with PagerDuty', () => {
  it('triggers with dedup_key = the incident id and a link to the channel, once, and resolving the incident resolves it', async () => {
    const { id, channel } = await declare(h, 'Checkout 5xx');
    expect(await slash(h, channel, 'page checkout')).toMatch(/Paging checkout on PagerDuty/);
    const sent = await entry(h, id, 'page_sent');
    expect(sent).toMatchObject({ service: 'checkout', action: 'trigger', dedupKey: id });
    const trigger = pd.seen.find((r) => (r.body as { event_action?: string }).event_action === 'trigger')!;
    expect(trigger.body).toMatchObject({
      routing_key: CHECKOUT,
      dedup_key: id,
      payload: { summary: `${id} SEV2: Checkout 5xx`, source: 'incident-bot', severity: 'error' },
      links: [{ href: `https://slack.com/app_redirect?channel=${channel}` }],
    });
    await channelLine(h, channel, /Paged \*checkout\* on PagerDuty; dedup key `INC-\d+`/);
    expect(await slash(h, channel, 'page checkout')).toMatch(/checkout is already paged/);

    await slash(h, channel, 'status resolved');
    await entry(h, id, 'page_sent', (e) => e.action === 'resolve');
    expect(alertsOf(CHECKOUT, id)).toMatchObject([{ status: 'resolved', triggers: 1 }]);
    await channelLine(h, channel, /Resolved the PagerDuty page to \*checkout\*/);
  });

  it('resolves the page when the incident is closed without being resolved first', async () => {
    const { id, channel } = await declare(h, 'Close while paged');
    await slash(h, channel, 'page checkout');
    await entry(h, id, 'page_sent');
    await slash(h, channel, 'close Fixed the weights');
    await entry(h, id, 'page_sent', (e) => e.action === 'resolve');
    expect(alertsOf(CHECKOUT, id)).toMatchObject([{ status: 'resolved' }]);
  });

  it('answers an unknown service with the known ones, and sends nothing', async () => {
    const { channel } = await declare(h, 'Unknown service');
    const before = pd.seen.length;
    expect(await slash(h, channel, 'page nope')).toMatch(
      /No PagerDuty service "nope". Known: checkout, oncall, broken/,
    );
    expect(pd.seen.length).toBe(before);
  });

  it('escalation pages ESCALATION_PAGE_SERVICE when nobody takes command', async () => {
    const { id } = await h.client
      .slashCommand({
        text: 'start sev1 Everything is down',
        userId: h.users.alice,
        channelId: h.announceChannel,
      })
      .then((r) => ({ id: /INC-\d+/.exec(JSON.stringify(r.body))![0] as IncidentId }));
    await entry(h, id, 'escalated');
    const page = await entry(h, id, 'page_sent');
    expect(page).toMatchObject({
      service: 'oncall',
      action: 'trigger',
      reason: expect.stringMatching(/^escalation/),
    });
    expect(alertsOf(ONCALL, id)).toMatchObject([{ status: 'triggered', severity: 'critical', triggers: 1 }]);
  });
});

describe('PagerDuty refusing or failing', () => {
  it('refused with 400 (a routing key PagerDuty rejects): says what to fix in the channel and does not retry', async () => {
    const { id, channel } = await declare(h, 'Broken key');
    await slash(h, channel, 'page broken');
    const failed = await entry(h, id, 'outbound_failed');
    expect(failed.error).toMatch(
      /answered 400 \(Event object is invalid; Length of 'routing_key' is incorrect.*check PAGERDUTY_ROUTING_KEYS/,
    );
    await channelLine(h, channel, /PagerDuty — page to broken: answered 400/);
    await outboundDrained(h);
    expect(
      pd.seen.filter((r) => (r.body as { routing_key?: string }).routing_key === 'tooshort'),
    ).toHaveLength(1);
    expect(await entriesOf(h, id, 'page_sent')).toHaveLength(0);
  });

  it('rate limited (429) and then a 500: told, retried, and paged exactly once', async () => {
    const { id, channel } = await declare(h, 'Throttled');
    pd.failNext({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { status: 'throttle exceeded', message: 'Requests for this service are arriving too quickly.' },
    });
    pd.failNext({ status: 500, body: { status: 'error', message: 'Internal error' } });
    await slash(h, channel, 'page checkout');
    await channelLine(h, channel, /PagerDuty — page to checkout: answered 429 .*rate limited/);
    await entry(h, id, 'page_sent');
    await outboundDrained(h);
    expect(alertsOf(CHECKOUT, id)).toMatchObject([{ status: 'triggered', triggers: 1 }]);
    expect(await entriesOf(h, id, 'page_sent')).toHaveLength(1);
  });

  it('answering 503 on every try: gives up after its attempts and says to page by hand', async () => {
    const { id, channel } = await declare(h, 'PagerDuty down');
    pd.failNext({ status: 503, body: { status: 'error', message: 'Service Unavailable' }, count: 3 });
    await slash(h, channel, 'page checkout');
    const failed = await entry(h, id, 'outbound_failed', () => true, 45_000);
    expect(failed.error).toMatch(
      /gave up after 3 attempts: answered 503 .*Page them by hand, and try again with `\/incident page checkout`/,
    );
    await channelLine(h, channel, /PagerDuty — page to checkout: gave up after 3 attempts/);
    expect(alertsOf(CHECKOUT, id)).toHaveLength(0);
  });
});
