import { OutboundError } from '../core/outbound.js';
import type { PagerEvent, PagerPort } from '../flows/deps.js';

/**
 * PagerDuty Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/trigger-events): one
 * POST per event to `url` (https://events.pagerduty.com/v2/enqueue unless overridden). 202 is
 * accepted; 400 is refused (not retried); 429 and 5xx and network errors are retried, as the
 * Overview's "Response Codes & Retry Logic" table says.
 */
export class PagerDutyEvents implements PagerPort {
  constructor(private readonly opts: { url: string; timeoutMs: number }) {}

  async send(ev: PagerEvent): Promise<void> {
    const body = {
      routing_key: ev.routingKey,
      event_action: ev.action,
      dedup_key: ev.dedupKey,
      ...(ev.action === 'trigger' && ev.payload ? { payload: ev.payload, client: 'incident-bot' } : {}),
      ...(ev.action === 'trigger' && ev.links?.length ? { links: ev.links } : {}),
    };
    let res: Response;
    try {
      res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new OutboundError('pagerduty', 'timeout', 'no answer in time');
      const cause = (err as { cause?: Error }).cause;
      throw new OutboundError('pagerduty', 'network', cause?.message ?? (err as Error).message);
    }
    const text = await res.text().catch(() => '');
    if (res.status === 202) return;
    let detail = `HTTP ${res.status}`;
    try {
      const j = JSON.parse(text) as { message?: string; errors?: string[] };
      detail = [j.message, ...(j.errors ?? [])].filter(Boolean).join('; ') || detail;
    } catch {}
    if (res.status === 429) {
      // The doc asks for a backoff "of a few minutes" and sends no Retry-After; honour one if present.
      const wait = Number(res.headers.get('retry-after'));
      throw new OutboundError(
        'pagerduty',
        'rate-limited',
        detail,
        429,
        Number.isFinite(wait) && wait > 0 ? wait : 60,
      );
    }
    if (res.status === 401) throw new OutboundError('pagerduty', 'auth', detail, 401);
    if (res.status === 403) throw new OutboundError('pagerduty', 'forbidden', detail, 403);
    if (res.status === 404) throw new OutboundError('pagerduty', 'not-found', detail, 404);
    if (res.status >= 400 && res.status < 500)
      throw new OutboundError('pagerduty', 'invalid', detail, res.status);
    throw new OutboundError('pagerduty', 'unavailable', detail, res.status);
  }
}
