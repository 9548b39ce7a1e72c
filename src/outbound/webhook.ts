import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** A configured outgoing webhook: `id` is the first 12 hex digits of the URL's SHA-256 (stable across restarts and reorderings). */
export interface WebhookReceiver {
  id: string;
  url: string;
}

/** The receivers of OUTGOING_WEBHOOK_URLS, each with its stable id. */
export function webhookReceivers(urls: readonly string[]): WebhookReceiver[] {
  return urls.map((url) => ({ id: createHash('sha256').update(url).digest('hex').slice(0, 12), url }));
}

/** The URL without user, password, query or fragment, for messages and the timeline. */
export function receiverLabel(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with `secret`: the value of
 * `X-Incident-Bot-Signature` (`timestamp`: the `X-Incident-Bot-Timestamp` header, Unix seconds).
 */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * A receiver's check, as the README shows it: the signature matches and the timestamp is within
 * `toleranceS` of `nowS` (refuses replays). Constant-time comparison.
 */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowS: number,
  toleranceS = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS || !headers.signature) return false;
  const want = Buffer.from(webhookSignature(secret, ts, body));
  const got = Buffer.from(headers.signature);
  return want.length === got.length && timingSafeEqual(want, got);
}

/** A delivery the receiver did not accept (no answer, or not 2xx): retried by the job. */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';
}

/**
 * POSTs one event (JSON `body`) to a receiver, signed: headers `X-Incident-Bot-Timestamp`,
 * `X-Incident-Bot-Signature`, `X-Incident-Bot-Event` (the type) and `X-Incident-Bot-Delivery` (the
 * idempotency id). Resolves on any 2xx; throws WebhookDeliveryError otherwise (status and the
 * start of the answer, or the network error), after at most `timeoutMs`.
 */
export async function postWebhook(
  receiver: WebhookReceiver,
  event: { id: string; type: string },
  body: string,
  secret: string,
  nowMs: number,
  timeoutMs: number,
): Promise<void> {
  const timestamp = Math.floor(nowMs / 1000);
  let res: Response;
  try {
    res = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'incident-bot',
        'x-incident-bot-timestamp': String(timestamp),
        'x-incident-bot-signature': webhookSignature(secret, timestamp, body),
        'x-incident-bot-event': event.type,
        'x-incident-bot-delivery': event.id,
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new WebhookDeliveryError(
      `${receiverLabel(receiver.url)} did not answer: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status > 299) {
    throw new WebhookDeliveryError(
      `${receiverLabel(receiver.url)} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    );
  }
}
