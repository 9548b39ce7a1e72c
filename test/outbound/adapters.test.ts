import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundError } from '../../src/core/outbound.js';
import { GitHubTracker } from '../../src/outbound/github.js';
import { JiraTracker } from '../../src/outbound/jira.js';
import { PagerDutyEvents } from '../../src/outbound/pagerduty.js';
import { GitHubStandIn } from '../support/github-standin.js';
import { JiraStandIn } from '../support/jira-standin.js';
import { PagerDutyStandIn } from '../support/pagerduty-standin.js';

// The Octokit, jira.js and fetch adapters against the loopback stand-ins: every request they send
// fits the vendor's OpenAPI description (the stand-ins refuse what does not), every answer the
// stand-ins give fits it too, and each refusal becomes the OutboundError people are told about.

let gh: GitHubStandIn;
let jira: JiraStandIn;
let pd: PagerDutyStandIn;
const KEY = 'R0123456789abcdef0123456789abcd'.padEnd(32, 'x');

beforeAll(async () => {
  gh = await new GitHubStandIn().start();
  gh.addRepo('acme/shop', { token: 'ghp_good', readOnly: ['ghp_readonly'], assignable: ['octocat'] });
  jira = await new JiraStandIn().start();
  jira.addProject('OPS');
  jira.addUser('bot@acme.test', 'jira-token', '5b10ac8d82e05b22cc7d4ef5');
  pd = await new PagerDutyStandIn().start();
});
afterAll(async () => {
  await Promise.all([gh?.close(), jira?.close(), pd?.close()]);
});

const github = (o: { token?: string; repo?: string; timeoutMs?: number } = {}) =>
  new GitHubTracker({
    repo: o.repo ?? 'acme/shop',
    token: o.token ?? 'ghp_good',
    baseUrl: gh.url,
    timeoutMs: o.timeoutMs ?? 5000,
  });
const jiraTracker = (o: { token?: string; project?: string; timeoutMs?: number } = {}) =>
  new JiraTracker({
    url: jira.url,
    project: o.project ?? 'OPS',
    issueType: 'Task',
    email: 'bot@acme.test',
    apiToken: o.token ?? 'jira-token',
    timeoutMs: o.timeoutMs ?? 5000,
  });

async function refusal(p: Promise<unknown>): Promise<OutboundError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OutboundError);
  return err as OutboundError;
}

describe('the GitHub adapter (Octokit) against the GitHub stand-in', () => {
  it('creates an issue whose answer fits issues/create 201 and finds it again by its marker', async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    const created = await github().create({
      title: 'Fix weights',
      body: 'Fix weights\n\n<!-- incident-bot-INC-9-F1 -->',
      marker: 'incident-bot-INC-9-F1',
      assignee: 'octocat',
    });
    expect(created.key).toMatch(/^acme\/shop#\d+$/);
    const answer = gh.seen.find((r) => r.method === 'POST' && r.status === 201)!;
    expect(gh.fixture.request('/repos/{owner}/{repo}/issues', 'post', answer.body)).toBeNull();
    const rendered = gh.render('acme/shop', gh.issues('acme/shop').at(-1)!);
    expect(gh.fixture.response('/repos/{owner}/{repo}/issues', 'post', 201, rendered)).toBeNull();
    expect(gh.issues('acme/shop').at(-1)!.assignees).toEqual(['octocat']);
    expect(await github().findByMarker('incident-bot-INC-9-F1', since)).toEqual({
      key: created.key,
      url: created.url,
    });
    expect(await github().findByMarker('incident-bot-INC-9-F2', since)).toBeUndefined();
  });

  it('creates the issue unassigned, and says why, when GitHub refuses the assignee with 422', async () => {
    const created = await github().create({ title: 'T', body: 'b', marker: 'm', assignee: 'stranger' });
    expect(created.unassigned).toMatch(/GitHub refused stranger as assignee on acme\/shop/);
    expect(gh.issues('acme/shop').at(-1)!.assignees).toEqual([]);
  });

  it('turns 401, 404, 403, 422, 429 and 503 into what to fix', async () => {
    expect(
      (await refusal(github({ token: 'ghp_bad' }).create({ title: 't', body: '', marker: 'm' }))).problem,
    ).toBe('auth');
    expect(
      (await refusal(github({ repo: 'acme/nope' }).create({ title: 't', body: '', marker: 'm' }))).problem,
    ).toBe('not-found');
    const ro = await refusal(github({ token: 'ghp_readonly' }).create({ title: 't', body: '', marker: 'm' }));
    expect([ro.problem, ro.status]).toEqual(['forbidden', 403]);
    // The stand-in validates the body against the description: no title is refused as GitHub does.
    const invalid = await refusal(
      github().create({ title: undefined as unknown as string, body: '', marker: 'm' }),
    );
    expect([invalid.problem, invalid.status]).toEqual(['invalid', 422]);
    gh.failNext({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { message: 'You have exceeded a secondary rate limit' },
    });
    const limited = await refusal(github().create({ title: 't', body: '', marker: 'm' }));
    expect([limited.problem, limited.retryAfterS, limited.retryable]).toEqual(['rate-limited', 7, true]);
    gh.failNext({
      status: 403,
      headers: {
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 30),
      },
      body: { message: 'API rate limit exceeded' },
    });
    expect((await refusal(github().create({ title: 't', body: '', marker: 'm' }))).problem).toBe(
      'rate-limited',
    );
    gh.failNext({
      status: 403,
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes.' },
    });
    const secondary = await refusal(github().create({ title: 't', body: '', marker: 'm' }));
    expect([secondary.problem, secondary.retryAfterS]).toEqual(['rate-limited', 60]);
    gh.failNext({ status: 503, body: { message: 'Service Unavailable' } });
    const down = await refusal(github().create({ title: 't', body: '', marker: 'm' }));
    expect([down.problem, down.retryable]).toEqual(['unavailable', true]);
  });

  it('reports a timeout (retryable) when GitHub creates the issue but never answers', async () => {
    const before = gh.issues('acme/shop').length;
    gh.failNext({ swallow: true, match: /^POST / });
    const err = await refusal(
      github({ timeoutMs: 300 }).create({ title: 'slow', body: 'x', marker: 'm-slow' }),
    );
    expect([err.problem, err.retryable]).toEqual(['timeout', true]);
    expect(gh.issues('acme/shop').length).toBe(before + 1);
  });
});

describe('the Jira adapter (jira.js) against the Jira Cloud stand-in', () => {
  it('creates an issue with an Atlassian Document description and the marker label, and finds it by the label', async () => {
    const created = await jiraTracker().create({
      title: 'Fix weights',
      body: 'Fix weights\nline two',
      marker: 'incident-bot-INC-9-F1',
      assignee: '5b10ac8d82e05b22cc7d4ef5',
    });
    expect(created).toEqual({ key: 'OPS-1', url: `${jira.url}/browse/OPS-1` });
    expect(jira.issues[0]).toMatchObject({
      labels: ['incident-bot', 'incident-bot-INC-9-F1'],
      assignee: '5b10ac8d82e05b22cc7d4ef5',
    });
    expect(
      jira.fixture.response('/rest/api/3/issue', 'post', 201, { id: '10000', key: 'OPS-1', self: 'x' }),
    ).toBeNull();
    const found = await jiraTracker().findByMarker('incident-bot-INC-9-F1', new Date().toISOString());
    expect(found?.key).toBe('OPS-1');
    const search = jira.seen.find((r) => r.path.startsWith('/rest/api/3/search/jql') && r.status === 200)!;
    expect(jira.fixture.request('/rest/api/3/search/jql', 'post', search.body)).toBeNull();
    expect(
      await jiraTracker().findByMarker('incident-bot-INC-9-F7', new Date().toISOString()),
    ).toBeUndefined();
  });

  it('turns 401, an unknown project, 403, 429 and 502 into what to fix', async () => {
    expect(
      (await refusal(jiraTracker({ token: 'wrong' }).create({ title: 't', body: 'b', marker: 'm' }))).problem,
    ).toBe('auth');
    const noProject = await refusal(
      jiraTracker({ project: 'NOPE' }).create({ title: 't', body: 'b', marker: 'm' }),
    );
    expect([noProject.problem, noProject.message]).toEqual([
      'not-found',
      'project: valid project is required',
    ]);
    jira.failNext({
      status: 403,
      body: { errorMessages: ['You do not have permission to create issues in this project.'], errors: {} },
    });
    expect((await refusal(jiraTracker().create({ title: 't', body: 'b', marker: 'm' }))).problem).toBe(
      'forbidden',
    );
    jira.failNext({
      status: 429,
      headers: { 'retry-after': '3' },
      body: { errorMessages: ['Rate limit exceeded.'], errors: {} },
    });
    const limited = await refusal(jiraTracker().create({ title: 't', body: 'b', marker: 'm' }));
    expect([limited.problem, limited.retryAfterS]).toEqual(['rate-limited', 3]);
    jira.failNext({ status: 502, body: { errorMessages: ['Bad gateway'], errors: {} } });
    expect((await refusal(jiraTracker().create({ title: 't', body: 'b', marker: 'm' }))).problem).toBe(
      'unavailable',
    );
    jira.failNext({ swallow: true });
    expect(
      (await refusal(jiraTracker({ timeoutMs: 300 }).create({ title: 't', body: 'b', marker: 'm' }))).problem,
    ).toBe('timeout');
  });
});

describe('the PagerDuty adapter against the Events API v2 stand-in', () => {
  it('triggers and resolves one alert per routing key and dedup key, with links back to the channel', async () => {
    const events = new PagerDutyEvents({ url: pd.eventsUrl, timeoutMs: 5000 });
    await events.send({
      routingKey: KEY,
      action: 'trigger',
      dedupKey: 'INC-9',
      payload: { summary: 'INC-9 SEV1: checkout down', source: 'incident-bot', severity: 'critical' },
      links: [{ href: 'https://slack.com/app_redirect?channel=C1', text: 'Slack' }],
    });
    expect(pd.alerts).toMatchObject([{ dedupKey: 'INC-9', status: 'triggered', severity: 'critical' }]);
    expect(
      pd.fixture.response('/enqueue', 'post', 202, {
        status: 'success',
        message: 'Event processed',
        dedup_key: 'INC-9',
      }),
    ).toBeNull();
    await events.send({ routingKey: KEY, action: 'resolve', dedupKey: 'INC-9' });
    expect(pd.alerts[0]!.status).toBe('resolved');
  });

  it('is refused with 400 for a routing key PagerDuty would refuse, and retries 429 and 5xx', async () => {
    const events = new PagerDutyEvents({ url: pd.eventsUrl, timeoutMs: 5000 });
    const bad = await refusal(events.send({ routingKey: 'short', action: 'resolve', dedupKey: 'INC-9' }));
    expect([bad.problem, bad.retryable]).toEqual(['invalid', false]);
    expect(bad.message).toMatch(/routing_key/);
    pd.failNext({
      status: 429,
      body: { status: 'throttle exceeded', message: 'Requests for this service are arriving too quickly.' },
    });
    const limited = await refusal(events.send({ routingKey: KEY, action: 'resolve', dedupKey: 'INC-9' }));
    expect([limited.problem, limited.retryable]).toEqual(['rate-limited', true]);
    pd.failNext({ status: 500, body: { status: 'error', message: 'Internal error' } });
    expect(
      (await refusal(events.send({ routingKey: KEY, action: 'resolve', dedupKey: 'INC-9' }))).problem,
    ).toBe('unavailable');
  });
});
