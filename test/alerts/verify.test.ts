import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pagerDutySignature, verifyBearerToken, verifyPagerDutySignature } from '../../src/alerts/verify.js';

const BODY = Buffer.from('{"event":{"event_type":"incident.triggered","data":{"title":"café ☕"}}}', 'utf8');
const SECRET = 'whsec-rotating-secret';
const hex = (secret: string) => createHmac('sha256', secret).update(BODY).digest('hex');

describe('bearer token verification', () => {
  it('accepts the token with the Bearer scheme, in any case', () => {
    expect(verifyBearerToken('Bearer s3cret-token', 's3cret-token')).toBe(true);
    expect(verifyBearerToken('bearer   s3cret-token ', 's3cret-token')).toBe(true);
  });

  it('accepts basic auth whose password is the token, for senders without bearer support', () => {
    const basic = Buffer.from('grafana:s3cret-token').toString('base64');
    expect(verifyBearerToken(`Basic ${basic}`, 's3cret-token')).toBe(true);
    expect(
      verifyBearerToken(`Basic ${Buffer.from('s3cret-token:').toString('base64')}`, 's3cret-token'),
    ).toBe(false);
  });

  it('rejects a missing header, another token, a prefix of the token, or another scheme', () => {
    expect(verifyBearerToken(undefined, 's3cret-token')).toBe(false);
    expect(verifyBearerToken('', 's3cret-token')).toBe(false);
    expect(verifyBearerToken('Bearer s3cret-tokem', 's3cret-token')).toBe(false);
    expect(verifyBearerToken('Bearer s3cret', 's3cret-token')).toBe(false);
    expect(verifyBearerToken('Token s3cret-token', 's3cret-token')).toBe(false);
    expect(verifyBearerToken('s3cret-token', 's3cret-token')).toBe(false);
  });

  it('never accepts anything when the configured token is empty', () => {
    expect(verifyBearerToken('Bearer ', '')).toBe(false);
  });
});

describe('PagerDuty signature verification', () => {
  it('computes v1= HMAC-SHA256 hex of the raw body', () => {
    expect(pagerDutySignature(BODY, SECRET)).toBe(`v1=${hex(SECRET)}`);
  });

  it('accepts a header holding the right signature among several (secret rotation)', () => {
    const header = `v1=${hex('old-secret')},v1=${hex(SECRET)}`;
    expect(verifyPagerDutySignature(BODY, header, SECRET)).toBe(true);
    expect(verifyPagerDutySignature(BODY, `v1=${hex(SECRET)}, v1=${hex('old')}`, SECRET)).toBe(true);
  });

  it('rejects a wrong secret, a changed body, a missing header, or another version prefix', () => {
    expect(verifyPagerDutySignature(BODY, `v1=${hex('other')}`, SECRET)).toBe(false);
    const changed = Buffer.from(BODY.toString().replace('café', 'cafe'));
    expect(verifyPagerDutySignature(changed, `v1=${hex(SECRET)}`, SECRET)).toBe(false);
    expect(verifyPagerDutySignature(BODY, undefined, SECRET)).toBe(false);
    expect(verifyPagerDutySignature(BODY, `v0=${hex(SECRET)}`, SECRET)).toBe(false);
    expect(verifyPagerDutySignature(BODY, hex(SECRET), SECRET)).toBe(false);
    expect(verifyPagerDutySignature(BODY, `v1=${hex(SECRET).toUpperCase()}`, SECRET)).toBe(false);
  });
});
