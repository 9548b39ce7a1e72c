import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followupMarker } from '../../src/core/outbound.js';
import { type BotProcess, startBot } from '../../src/process.js';
import { CREATE_ISSUE_ACTION } from '../../src/slack/followup-render.js';
import { eventually } from '../support/eventually.js';
import { GitHubStandIn } from '../support/github-standin.js';
import { type Harness, startHarness } from '../support/harness.js';
import { channelLine, declare, entriesOf, entry, outboundDrained, slash } from './support.js';

// `/incident followup` → a GitHub issue, through the real Bolt request path, real Redis and two real
// BullMQ worker processes' worth of workers (the harness's and a second bot with only workers),
// against the GitHub stand-in (test/support/github-standin.ts, validated against GitHub's OpenAPI).

const REPO = 'acme/shop';
const TOKEN = 'ghp_incidentbot';
let gh: GitHubStandIn;
let h: Harness;
let worker2: BotProcess;
const ownerMap = join(tmpdir(), `ib-owner-map-${process.pid}.yml`);

beforeAll(async () => {
  gh = await new GitHubStandIn().start();
  gh.addRepo(REPO, { token: TOKEN, assignable: ['octocat'] });
  h = await startHarness('outbound-github', {
    FOLLOWUP_GITHUB_REPO: REPO,
    GITHUB_TOKEN: TOKEN,
    GITHUB_API_URL: gh.url,
    FOLLOWUP_OWNER_MAP: ownerMap,
    OUTBOUND_TIMEOUT_MS: '1500',
    OUTBOUND_JOB_ATTEMPTS: '3',
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  });
  // The owner map is read per job, so it can name the sandbox's users once they exist.
  writeFileSync(ownerMap, `# Slack user → tracker accounts\n${h.users.bob}:\n  github: octocat\n`);
  worker2 = await startBot({ env: h.env, web: false });
}, 120_000);
afterAll(async () => {
  await worker2?.close();
  await h?.close();
  await gh?.close();
});

const withMarker = (id: string, f: string) =>
  gh.issues(REPO).filter((i) => i.body.includes(followupMarker(id, f)));
const createsFor = (id: string, f: string) =>
  gh.seen.filter(
    (r) => r.method === 'POST' && String((r.body as { body?: string })?.body).includes(followupMarker(id, f)),
  );

describe('follow-ups become GitHub issues', () => {
  it('creates one issue for /incident followup, assigned through the owner map, and posts its link in the channel', async () => {
    const { id, channel } = await declare(h, 'Checkout errors');
    const reply = await slash(h, channel, `followup Rebalance the edge pool weights <@${h.users.bob}>`);
    expect(reply).toMatch(/Follow-up F1 added to INC-\d+; creating its GitHub issue/);
    const created = await entry(h, id, 'followup_issue_created');
    expect(created).toMatchObject({ followupId: 'F1', tracker: 'github', assignee: 'octocat' });
    expect(created.found).toBeUndefined();
    const [issue] = withMarker(id, 'F1');
    expect(withMarker(id, 'F1')).toHaveLength(1);
    expect(issue).toMatchObject({ title: 'Rebalance the edge pool weights', assignees: ['octocat'] });
    expect(issue!.body).toContain(`https://slack.com/app_redirect?channel=${channel}`);
    expect(created.url).toBe(`https://github.com/${REPO}/issues/${issue!.number}`);
    const line = await channelLine(h, channel, /Follow-up F1 is tracked as/);
    expect(line).toContain(created.url);

    // An owner with no entry in the map: created unassigned, and the channel says why.
    await slash(h, channel, `followup Alert on each server's share of requests <@${h.users.carol}>`);
    const second = await entry(h, id, 'followup_issue_created', (e) => e.followupId === 'F2');
    expect(second.assignee).toBeUndefined();
    expect(second.unassigned).toMatch(/FOLLOWUP_OWNER_MAP has no github account/);
    expect(withMarker(id, 'F2')[0]!.assignees).toEqual([]);
    await channelLine(h, channel, /Follow-up F2 .*unassigned: FOLLOWUP_OWNER_MAP has no github account/);
  });

  it('creates the issue once when GitHub created it but the answer timed out: the retry finds it by its marker', async () => {
    const { id, channel } = await declare(h, 'Timeout then retry');
    gh.failNext({ swallow: true, match: /^POST \/repos\/acme\/shop\/issues$/ });
    await slash(h, channel, 'followup Add a rollback plan for load-balancer config');
    const created = await entry(h, id, 'followup_issue_created');
    expect(created.found).toBe(true);
    expect(withMarker(id, 'F1')).toHaveLength(1);
    expect(createsFor(id, 'F1')).toHaveLength(1);
    expect(gh.seen.some((r) => r.method === 'GET' && r.path.includes('since='))).toBe(true);
    await channelLine(h, channel, /Follow-up F1 is tracked as .*found from an earlier try/);
  });

  it('creates one issue however many requests for it race across two workers (command, /incident issue, button)', async () => {
    const { id, channel } = await declare(h, 'Racing requests');
    const summaryTs = h.sandbox.channel(channel)!.pins[0]!.ts;
    await Promise.all([
      slash(h, channel, 'followup Check LB config in CI'),
      slash(h, channel, 'issue F1'),
      slash(h, channel, 'issue F1', h.users.bob),
      h.client.blockAction({
        actionId: CREATE_ISSUE_ACTION,
        value: `${id}/F1`,
        userId: h.users.carol,
        channelId: channel,
        messageTs: summaryTs,
      }),
    ]);
    await entry(h, id, 'followup_issue_created');
    await outboundDrained(h);
    expect(withMarker(id, 'F1')).toHaveLength(1);
    expect(await entriesOf(h, id, 'followup_issue_created')).toHaveLength(1);
    expect(createsFor(id, 'F1')).toHaveLength(1);
  });
});

describe('GitHub refusing or failing', () => {
  it.each([
    [
      401,
      { message: 'Bad credentials' },
      /answered 401 \(Bad credentials\): GITHUB_TOKEN is wrong, expired or revoked/,
    ],
    [
      404,
      { message: 'Not Found' },
      /answered 404 \(Not Found\): acme\/shop does not exist or GITHUB_TOKEN cannot see it; check FOLLOWUP_GITHUB_REPO/,
    ],
    [
      403,
      { message: 'Resource not accessible by personal access token' },
      /answered 403 .*may not do this on acme\/shop/,
    ],
    [
      422,
      {
        message: 'Validation Failed',
        errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }],
      },
      /answered 422 .*refused as invalid/,
    ],
  ])(
    'answering %i: says what to fix in the channel, keeps the follow-up, does not retry, and /incident issue creates it once fixed',
    async (status, body, line) => {
      const { id, channel } = await declare(h, `GitHub ${status}`);
      gh.failNext({ status, body, match: /^POST / });
      await slash(h, channel, 'followup Validate weights before deploy');
      const failed = await entry(h, id, 'outbound_failed');
      expect(failed).toMatchObject({ service: 'github', subject: 'follow-up F1' });
      expect(failed.retryInS).toBeUndefined();
      expect(failed.error).toMatch(line);
      await channelLine(h, channel, line);
      await outboundDrained(h);
      expect(createsFor(id, 'F1')).toHaveLength(1);
      expect(withMarker(id, 'F1')).toHaveLength(0);
      const inc = await h.bot.rt.store.current(id);
      expect(inc!.followups.map((f) => f.id)).toEqual(['F1']);
      // Fixed: asked again, it looks for an issue first (a request was sent) and creates exactly one.
      expect(await slash(h, channel, 'issue F1')).toMatch(/Creating the issue of F1/);
      await entry(h, id, 'followup_issue_created');
      expect(withMarker(id, 'F1')).toHaveLength(1);
    },
  );

  it('rate limited (429 with Retry-After): says so, waits, and then creates the issue once', async () => {
    const { id, channel } = await declare(h, 'GitHub 429');
    gh.failNext({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { message: 'You have exceeded a secondary rate limit.' },
      match: /^POST /,
    });
    await slash(h, channel, 'followup Alert on pool health');
    await channelLine(
      h,
      channel,
      /GitHub — follow-up F1: answered 429 .*rate limited; retried after 1 s \(Retry-After\)\. Retrying in 1 s\./,
    );
    await entry(h, id, 'followup_issue_created');
    await outboundDrained(h);
    expect(withMarker(id, 'F1')).toHaveLength(1);
  });

  it('answering 502 then recovering: retried with backoff, one issue, nothing said as a failure', async () => {
    const { id, channel } = await declare(h, 'GitHub 502 once');
    gh.failNext({ status: 502, body: { message: 'Server Error' }, match: /^POST / });
    await slash(h, channel, 'followup Document the weights');
    await entry(h, id, 'followup_issue_created');
    await outboundDrained(h);
    expect(withMarker(id, 'F1')).toHaveLength(1);
    expect(await entriesOf(h, id, 'outbound_failed')).toHaveLength(0);
  });

  it('answering 503 on every try: gives up after its attempts, says so, and keeps the follow-up', async () => {
    const { id, channel } = await declare(h, 'GitHub down');
    gh.failNext({ status: 503, body: { message: 'Service Unavailable' }, count: 3, match: /^(POST|GET) / });
    await slash(h, channel, 'followup Add share-of-requests alert');
    const failed = await entry(h, id, 'outbound_failed', () => true, 45_000);
    expect(failed.error).toMatch(
      /gave up after 3 attempts: answered 503 .*The follow-up is kept; try again with `\/incident issue F1`/,
    );
    await channelLine(h, channel, /gave up after 3 attempts/);
    expect(withMarker(id, 'F1')).toHaveLength(0);
    expect((await h.bot.rt.store.current(id))!.followups).toHaveLength(1);
  });
});

describe('the follow-ups message under the postmortem draft', () => {
  it('shows a Create issue button for a follow-up without an issue; the click creates it once and the re-rendered draft links it', async () => {
    const { id, channel } = await declare(h, 'Draft buttons');
    gh.failNext({ status: 401, body: { message: 'Bad credentials' }, match: /^POST / });
    await slash(h, channel, 'followup Rebalance weights');
    await entry(h, id, 'outbound_failed');
    await slash(h, channel, 'close Weights fixed');
    const msg = await eventually(() => {
      const m = h.sandbox
        .messages(channel)
        .find((x) => /follow-up\(s\); 1 without a GitHub issue/.test(x.text));
      if (!m) throw new Error('no follow-ups message yet');
      return m;
    }, 30_000);
    expect(JSON.stringify(msg.blocks)).toContain(`"value":"${id}/F1"`);
    const click = await h.client.blockAction({
      actionId: CREATE_ISSUE_ACTION,
      value: `${id}/F1`,
      userId: h.users.bob,
      channelId: channel,
      messageTs: msg.ts,
    });
    expect(click.status).toBe(200);
    const created = await entry(h, id, 'followup_issue_created');
    expect(withMarker(id, 'F1')).toHaveLength(1);
    await eventually(() => {
      const drafts = h.sandbox.files(channel).filter((f) => f.content.includes(created.url));
      if (drafts.length === 0) throw new Error('no draft with the issue link yet');
      expect(drafts.at(-1)!.content).toMatch(
        /- \[ \] Rebalance weights — \[acme\/shop#\d+\]\(https:\/\/github\.com\/acme\/shop\/issues\/\d+\)/,
      );
    }, 30_000);
  });
});
