import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { parseRoutingKeys } from '../../src/core/outbound.js';

const good = { SLACK_BOT_TOKEN: 'xoxb-1-2-3', SLACK_SIGNING_SECRET: 'abcdefgh12345678' };

function problems(env: Record<string, string>): string {
  try {
    loadConfig({ ...good, ...env });
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('the outbound settings (follow-up trackers, PagerDuty)', () => {
  it('accepts a GitHub tracker, a Jira tracker, and routing keys with an escalation service', () => {
    expect(loadConfig({ ...good, FOLLOWUP_GITHUB_REPO: 'acme/shop', GITHUB_TOKEN: 'ghp_x' })).toMatchObject({
      GITHUB_API_URL: 'https://api.github.com',
      OUTBOUND_TIMEOUT_MS: 10_000,
    });
    expect(
      loadConfig({
        ...good,
        FOLLOWUP_JIRA_URL: 'https://acme.atlassian.net',
        FOLLOWUP_JIRA_PROJECT: 'OPS',
        JIRA_EMAIL: 'bot@acme.com',
        JIRA_API_TOKEN: 't',
      }).FOLLOWUP_JIRA_ISSUE_TYPE,
    ).toBe('Task');
    expect(
      loadConfig({
        ...good,
        PAGERDUTY_ROUTING_KEYS: 'checkout=abc123,oncall=def456',
        ESCALATION_PAGE_SERVICE: 'oncall',
      }).PAGERDUTY_EVENTS_URL,
    ).toBe('https://events.pagerduty.com/v2/enqueue');
  });

  it('names each setting that is missing, malformed or contradicts another, and how to fix it', () => {
    expect(problems({ FOLLOWUP_GITHUB_REPO: 'https://github.com/acme/shop' })).toMatch(
      /FOLLOWUP_GITHUB_REPO: must be owner\/name/,
    );
    expect(problems({ FOLLOWUP_GITHUB_REPO: 'acme/shop' })).toMatch(
      /GITHUB_TOKEN: is required with FOLLOWUP_GITHUB_REPO/,
    );
    const both = problems({
      FOLLOWUP_GITHUB_REPO: 'acme/shop',
      GITHUB_TOKEN: 'x',
      FOLLOWUP_JIRA_URL: 'https://acme.atlassian.net',
    });
    expect(both).toMatch(/both are set; follow-up issues go to one tracker/);
    expect(both).toMatch(/JIRA_API_TOKEN: is required with FOLLOWUP_JIRA_URL/);
    expect(
      problems({
        FOLLOWUP_JIRA_URL: 'https://a.atlassian.net',
        FOLLOWUP_JIRA_PROJECT: 'ops',
        JIRA_EMAIL: 'e',
        JIRA_API_TOKEN: 't',
      }),
    ).toMatch(/FOLLOWUP_JIRA_PROJECT: must be a Jira project key/);
    expect(problems({ PAGERDUTY_ROUTING_KEYS: 'checkout:abc' })).toMatch(
      /PAGERDUTY_ROUTING_KEYS: "checkout:abc" is not service=routing-key/,
    );
    expect(problems({ PAGERDUTY_ROUTING_KEYS: 'checkout=abc', ESCALATION_PAGE_SERVICE: 'oncall' })).toMatch(
      /ESCALATION_PAGE_SERVICE: "oncall" is not a service of PAGERDUTY_ROUTING_KEYS \(checkout\)/,
    );
  });

  it('never echoes a routing key back in an error', () => {
    const msg = parseRoutingKeys('checkout=secret123 extra');
    expect(typeof msg).toBe('string');
    expect(msg).not.toContain('secret123');
  });
});
