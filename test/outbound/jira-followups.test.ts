import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followupMarker } from '../../src/core/outbound.js';
import { type BotProcess, startBot } from '../../src/process.js';
import { type Harness, startHarness } from '../support/harness.js';
import { JiraStandIn } from '../support/jira-standin.js';
import { channelLine, declare, entriesOf, entry, outboundDrained, slash } from './support.js';

// `/incident followup` → a Jira Cloud issue (jira.js), two workers, against the Jira stand-in
// (test/support/jira-standin.ts, validated against Atlassian's OpenAPI description).

const ACCOUNT = '5b10ac8d82e05b22cc7d4ef5';
let jira: JiraStandIn;
let h: Harness;
let worker2: BotProcess;
const ownerMap = join(tmpdir(), `ib-owner-map-jira-${process.pid}.yml`);

beforeAll(async () => {
  jira = await new JiraStandIn().start();
  jira.addProject('OPS');
  jira.addUser('incident-bot@acme.test', 'atlassian-api-token', ACCOUNT);
  h = await startHarness('outbound-jira', {
    FOLLOWUP_JIRA_URL: jira.url,
    FOLLOWUP_JIRA_PROJECT: 'OPS',
    JIRA_EMAIL: 'incident-bot@acme.test',
    JIRA_API_TOKEN: 'atlassian-api-token',
    FOLLOWUP_OWNER_MAP: ownerMap,
    OUTBOUND_TIMEOUT_MS: '1500',
    OUTBOUND_JOB_ATTEMPTS: '3',
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  });
  writeFileSync(ownerMap, `${h.users.bob}: { jira: ${ACCOUNT} }\n`);
  worker2 = await startBot({ env: h.env, web: false });
}, 120_000);
afterAll(async () => {
  await worker2?.close();
  await h?.close();
  await jira?.close();
});

const withMarker = (id: string, f: string) =>
  jira.issues.filter((i) => i.labels.includes(followupMarker(id, f)));

describe('follow-ups become Jira Cloud issues', () => {
  it('creates one issue, assigned by accountId from the owner map, and posts its /browse link', async () => {
    const { id, channel } = await declare(h, 'Jira checkout errors');
    expect(await slash(h, channel, `followup Rebalance the edge pool <@${h.users.bob}>`)).toMatch(
      /creating its Jira issue/,
    );
    const created = await entry(h, id, 'followup_issue_created');
    const [issue] = withMarker(id, 'F1');
    expect(withMarker(id, 'F1')).toHaveLength(1);
    expect(issue).toMatchObject({ summary: 'Rebalance the edge pool', assignee: ACCOUNT });
    expect(created).toMatchObject({
      tracker: 'jira',
      key: issue!.key,
      url: `${jira.url}/browse/${issue!.key}`,
    });
    await channelLine(h, channel, new RegExp(`Follow-up F1 is tracked as .*${issue!.key}`));
  });

  it('creates the issue once when the first answer timed out and racing requests come from two workers', async () => {
    const { id, channel } = await declare(h, 'Jira timeout');
    jira.failNext({ swallow: true, match: /^POST \/rest\/api\/3\/issue$/ });
    await slash(h, channel, 'followup Check LB config in CI');
    await Promise.all([slash(h, channel, 'issue F1'), slash(h, channel, 'issue F1', h.users.carol)]);
    const created = await entry(h, id, 'followup_issue_created');
    await outboundDrained(h);
    expect(created.found).toBe(true);
    expect(withMarker(id, 'F1')).toHaveLength(1);
    expect(await entriesOf(h, id, 'followup_issue_created')).toHaveLength(1);
    expect(jira.seen.some((r) => r.path === '/rest/api/3/search/jql' && r.status === 200)).toBe(true);
  });
});

describe('Jira refusing or failing', () => {
  it.each([
    [
      401,
      {
        errorMessages: ['You are not authenticated. Authentication required to perform this operation.'],
        errors: {},
      },
      /answered 401 .*JIRA_EMAIL and JIRA_API_TOKEN is wrong, expired or revoked/,
    ],
    [
      400,
      { errorMessages: [], errors: { project: 'valid project is required' } },
      /answered 400 \(project: valid project is required\): OPS on .* does not exist .*check FOLLOWUP_JIRA_URL and FOLLOWUP_JIRA_PROJECT/,
    ],
    [
      403,
      { errorMessages: ['You do not have permission to create issues in this project.'], errors: {} },
      /answered 403 .*may not do this on OPS/,
    ],
  ])(
    'answering %i: says what to fix, keeps the follow-up, and creates it once asked again',
    async (status, body, line) => {
      const { id, channel } = await declare(h, `Jira ${status}`);
      jira.failNext({ status, body, match: /^POST \/rest\/api\/3\/issue$/ });
      await slash(h, channel, 'followup Validate weights before deploy');
      const failed = await entry(h, id, 'outbound_failed');
      expect(failed.error).toMatch(line);
      await channelLine(h, channel, line);
      await outboundDrained(h);
      expect(withMarker(id, 'F1')).toHaveLength(0);
      await slash(h, channel, 'issue F1');
      await entry(h, id, 'followup_issue_created');
      expect(withMarker(id, 'F1')).toHaveLength(1);
    },
  );

  it('rate limited (429 with Retry-After): says so, then creates the issue once', async () => {
    const { id, channel } = await declare(h, 'Jira 429');
    jira.failNext({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { errorMessages: ['Rate limit exceeded.'], errors: {} },
      match: /^POST \/rest\/api\/3\/issue$/,
    });
    await slash(h, channel, 'followup Alert on pool health');
    await channelLine(h, channel, /Jira — follow-up F1: answered 429 .*retried after 1 s/);
    await entry(h, id, 'followup_issue_created');
    await outboundDrained(h);
    expect(withMarker(id, 'F1')).toHaveLength(1);
  });

  it('answering 503 then recovering: retried with backoff, one issue, no failure line', async () => {
    const { id, channel } = await declare(h, 'Jira 503 once');
    jira.failNext({
      status: 503,
      body: { errorMessages: ['Service Unavailable'], errors: {} },
      match: /^POST \/rest\/api\/3\/issue$/,
    });
    await slash(h, channel, 'followup Document the weights');
    await entry(h, id, 'followup_issue_created');
    await outboundDrained(h);
    expect(withMarker(id, 'F1')).toHaveLength(1);
    expect(await entriesOf(h, id, 'outbound_failed')).toHaveLength(0);
  });
});
