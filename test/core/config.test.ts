import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseSeverityMinutes } from '../../src/config.js';

const good = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'abcdefgh12345678' };

describe('configuration from the environment', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(good);
    expect(c).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      PORT: 3000,
      SLACK_API_URL: 'https://slack.com/api/',
      INCIDENT_RESPONDERS: [],
    });
  });

  it('names every bad or missing variable and how to fix it', () => {
    let err: unknown;
    try {
      loadConfig({
        SLACK_BOT_TOKEN: 'nope',
        PORT: 'eighty',
        INCIDENT_ANNOUNCE_CHANNEL: '#general',
        INCIDENT_RESPONDERS: 'U1AAA,alice',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as Error).message;
    expect(msg).toContain('SLACK_BOT_TOKEN: must be a bot token starting with xoxb-');
    expect(msg).toContain('SLACK_SIGNING_SECRET: is required');
    expect(msg).toMatch(/PORT: /);
    expect(msg).toContain('INCIDENT_ANNOUNCE_CHANNEL: must be a channel id');
    expect(msg).toContain('INCIDENT_RESPONDERS');
  });

  it('needs no signing secret in Socket Mode, but an app-level token there, and one of the two', () => {
    const socket = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_APP_TOKEN: 'xapp-1-A1-1-abc' };
    expect(loadConfig(socket).SLACK_SIGNING_SECRET).toBeUndefined();
    expect(() => loadConfig({ ...socket, SLACK_APP_TOKEN: 'xoxb-1-2-3' })).toThrow(
      'SLACK_APP_TOKEN: must be an app-level token starting with xapp-',
    );
    expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1-2-3' })).toThrow(
      /SLACK_SIGNING_SECRET: is required.*or set SLACK_APP_TOKEN/,
    );
  });

  it('warms the HAProxy log scanner unless LOG_SCAN_WARMUP=0, and refuses other values', () => {
    expect(loadConfig(good).LOG_SCAN_WARMUP).toBe(true);
    expect(loadConfig({ ...good, LOG_SCAN_WARMUP: '0' }).LOG_SCAN_WARMUP).toBe(false);
    expect(loadConfig({ ...good, LOG_SCAN_WARMUP: '1' }).LOG_SCAN_WARMUP).toBe(true);
    expect(() => loadConfig({ ...good, LOG_SCAN_WARMUP: 'off' })).toThrow(/LOG_SCAN_WARMUP: must be 1/);
  });

  it('parses responder lists and per-severity minutes', () => {
    expect(loadConfig({ ...good, INCIDENT_RESPONDERS: 'U01, U02 U03' }).INCIDENT_RESPONDERS).toEqual([
      'U01',
      'U02',
      'U03',
    ]);
    expect(parseSeverityMinutes('REMINDER_MINUTES', 'SEV1=15,sev2=30')).toEqual({
      SEV1: 15,
      SEV2: 30,
      SEV3: 0,
      SEV4: 0,
    });
    expect(() => parseSeverityMinutes('REMINDER_MINUTES', 'SEV1:15')).toThrow(
      /REMINDER_MINUTES: "SEV1:15" is not SEVn=<minutes>/,
    );
  });
});
