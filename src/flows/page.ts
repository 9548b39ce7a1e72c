import { DomainError } from '../core/errors.js';
import type { Incident } from '../core/incident.js';
import type { IncidentId } from '../core/incident-model.js';
import { channelUrl, pagerSeverity, parseRoutingKeys } from '../core/outbound.js';
import type { Deps } from './deps.js';
import { handleOutboundError } from './outbound-failure.js';
import { mutate } from './record.js';

/** PAGERDUTY_ROUTING_KEYS as service → routing key ({} when unset). */
export function routingKeys(deps: Deps): Record<string, string> {
  const parsed = parseRoutingKeys(deps.config.PAGERDUTY_ROUTING_KEYS ?? '');
  return typeof parsed === 'string' ? {} : parsed;
}

/**
 * Queues a PagerDuty trigger for `service` (a name of PAGERDUTY_ROUTING_KEYS). One job per trigger
 * of a service (`page-<id>-<service>-trigger-<n>`), so retries and double requests page once; a
 * service already paged and not resolved is not paged again (`already`: when it was). Throws BAD_INPUT
 * naming the known services.
 */
export async function requestPage(
  deps: Deps,
  id: IncidentId,
  service: string,
  o: { requestedBy?: string; reason?: string } = {},
): Promise<{ queued: boolean; already?: string }> {
  const keys = routingKeys(deps);
  const names = Object.keys(keys);
  if (names.length === 0) {
    throw new DomainError(
      'BAD_INPUT',
      'Paging is not set up',
      'Set PAGERDUTY_ROUTING_KEYS=service=integration-key,… (README, "Paging with PagerDuty").',
    );
  }
  const svc = service.toLowerCase();
  if (!keys[svc]) {
    throw new DomainError(
      'BAD_INPUT',
      `No PagerDuty service "${service.slice(0, 40)}"`,
      `Known: ${names.join(', ')}.`,
    );
  }
  const inc = await deps.store.current(id);
  if (!inc) throw new DomainError('INCIDENT_NOT_FOUND', `${id} does not exist`);
  if (inc.status === 'closed') {
    throw new DomainError('INCIDENT_CLOSED', `${id} is closed`, 'Start a new incident to page someone.');
  }
  const page = inc.pages?.[svc];
  if (page?.state === 'triggered') return { queued: false, already: page.at };
  const n = (page?.triggers ?? 0) + 1;
  await deps.jobs.enqueue(
    'page',
    { incidentId: id, service: svc, action: 'trigger', ...o },
    {
      jobId: `page-${id}-${svc}-trigger-${n}`,
      attempts: deps.config.OUTBOUND_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 1000 },
    },
  );
  return { queued: true };
}

/** Queues a resolve for every service paged and not resolved (on resolve and on close); idempotent per trigger. */
export async function resolvePages(deps: Deps, inc: Incident): Promise<void> {
  for (const [svc, page] of Object.entries(inc.pages ?? {})) {
    if (page.state !== 'triggered') continue;
    await deps.jobs.enqueue(
      'page',
      { incidentId: inc.id, service: svc, action: 'resolve' },
      {
        jobId: `page-${inc.id}-${svc}-resolve-${page.triggers}`,
        attempts: deps.config.OUTBOUND_JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: 1000 },
      },
    );
  }
}

/**
 * Sends one PagerDuty Events API v2 event (https://developer.pagerduty.com/docs/events-api-v2/trigger-events)
 * with `dedup_key` = the incident id, so PagerDuty keeps one alert per incident and service and the
 * resolve closes it; a trigger carries the title, severity and a link back to the channel. Recorded as
 * a `page_sent` entry once per trigger/resolve; a trigger for a service already triggered, or a
 * resolve for one not triggered, sends nothing.
 */
export async function sendPage(
  deps: Deps,
  p: { incidentId: IncidentId; service: string; action: 'trigger' | 'resolve'; reason?: string },
): Promise<'sent' | 'skipped'> {
  const pager = deps.pager;
  if (!pager) throw new DomainError('BAD_INPUT', 'PagerDuty is not configured in this worker');
  const key = routingKeys(deps)[p.service];
  if (!key)
    throw new DomainError('BAD_INPUT', `PAGERDUTY_ROUTING_KEYS has no service "${p.service}" any more`);
  const inc = await deps.store.current(p.incidentId);
  if (!inc) throw new DomainError('INCIDENT_NOT_FOUND', `${p.incidentId} does not exist`);
  const page = inc.pages?.[p.service];
  if (p.action === 'trigger' ? page?.state === 'triggered' : page?.state !== 'triggered') return 'skipped';
  const links = inc.channelId
    ? [{ href: channelUrl(inc.channelId), text: `Slack: #${inc.channelName ?? inc.channelId}` }]
    : [];
  try {
    await pager.send({
      routingKey: key,
      action: p.action,
      dedupKey: inc.id,
      ...(p.action === 'trigger'
        ? {
            payload: {
              summary: `${inc.id} ${inc.severity}: ${inc.title}`.slice(0, 1024),
              source: 'incident-bot',
              severity: pagerSeverity(inc.severity),
            },
            links,
          }
        : {}),
    });
  } catch (err) {
    return await handleOutboundError(deps, inc.id, err, {
      subject: `${p.action === 'trigger' ? 'page to' : 'resolving the page to'} ${p.service}`,
      where: `service ${p.service}`,
      claimBase: `page-${p.service}-${p.action}-${page?.triggers ?? 0}`,
    });
  }
  const n = (page?.triggers ?? 0) + (p.action === 'trigger' ? 1 : 0);
  await mutate(
    deps,
    inc.id,
    () => [
      {
        kind: 'page_sent',
        incidentId: inc.id,
        at: deps.now().toISOString(),
        actor: { type: 'bot' },
        source: 'bot',
        service: p.service,
        action: p.action,
        dedupKey: inc.id,
        ...(p.reason ? { reason: p.reason } : {}),
      },
    ],
    { claimKey: `page-${p.service}-${p.action}-${n}`, allowClosed: true },
  );
  return 'sent';
}
