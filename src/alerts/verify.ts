import { createHmac, hash, timingSafeEqual } from 'node:crypto';

const sha256 = (s: string) => hash('sha256', s, 'buffer');

// The configured secret's digest, computed once per secret rather than on every request.
let known: { secret: string; digest: Buffer } | undefined;
function secretDigest(secret: string): Buffer {
  if (known?.secret !== secret) known = { secret, digest: sha256(secret) };
  return known.digest;
}

// Hashing both sides first gives equal-length inputs, so timingSafeEqual never throws and the
// comparison time does not depend on where (or whether) the strings differ, nor on their lengths.
function sameSecret(given: string, secret: string): boolean {
  return timingSafeEqual(sha256(given), secretDigest(secret));
}

/**
 * Checks an `Authorization` header against the webhook token, in constant time: `Bearer <token>`
 * (Alertmanager `http_config.authorization`, Grafana "Authorization header"), or `Basic` whose
 * password is the token (any user name; for senders that only do basic auth, like Grafana legacy).
 */
export function verifyBearerToken(authorization: string | undefined, token: string): boolean {
  if (!authorization || token === '') return false;
  const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(authorization);
  if (!m) return false;
  const scheme = m[1]!.toLowerCase();
  const credentials = m[2]!;
  if (scheme === 'bearer') return sameSecret(credentials, token);
  if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && sameSecret(decoded.slice(colon + 1), token);
  }
  return false;
}

/** The `v1=` signature PagerDuty sends for `rawBody`: HMAC-SHA256 with the subscription secret, hex. */
export function pagerDutySignature(rawBody: Buffer, secret: string): string {
  return `v1=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/**
 * Verifies `X-PagerDuty-Signature` (comma-separated `v1=<hex>` values; several during a secret
 * rotation) against the raw body, in constant time; true when any v1 signature matches.
 * Format: PagerDuty/developer-docs `docs/webhooks/04-Signatures.md`.
 */
export function verifyPagerDutySignature(
  rawBody: Buffer,
  header: string | undefined,
  secret: string,
): boolean {
  if (!header || secret === '') return false;
  const expected = Buffer.from(pagerDutySignature(rawBody, secret), 'utf8');
  let ok = false;
  for (const part of header.split(',')) {
    const given = Buffer.from(part.trim(), 'utf8');
    // Every candidate is compared (no early return), and only equal lengths reach timingSafeEqual.
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
