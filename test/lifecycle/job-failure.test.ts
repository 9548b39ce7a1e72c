import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postmortemView } from '../../src/core/postmortem/index.js';
import type { EntryOf } from '../../src/core/timeline.js';
import type { Deps } from '../../src/flows/deps.js';
import { handleFinalFailure } from '../../src/jobs/processors.js';
import { SlackNotifier } from '../../src/slack/notifier.js';
import { postAlert, TOKEN } from '../alerts-e2e/support.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';

// POSTMORTEM_DIR below a regular file: every draft-postmortem job throws (ENOTDIR) when it saves the
// draft, after rendering it, so the job fails for good without touching the code under test.
let dir: string;
let h: Harness;
let channel: string;

const jobFailures = async (id: string) =>
  (await h.bot.rt.store.entries(id)).filter((e): e is EntryOf<'job_failed'> => e.kind === 'job_failed');
const posted = (channelId: string, text: RegExp, after = 0) =>
  h.sandbox.waitFor(
    (e) =>
      e.method === 'chat.postMessage' &&
      e.ok &&
      e.args.channel === channelId &&
      text.test(String(e.args.text)),
    { after },
  );
/** Worker-side deps (with Slack), for calling a failure handler the way the worker does. */
const workerDeps = (): Deps => ({
  ...h.bot.rt.deps,
  slack: new SlackNotifier(h.env.SLACK_BOT_TOKEN!, h.env.SLACK_API_URL!),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ib-job-failed-'));
  writeFileSync(join(dir, 'not-a-dir'), '');
  h = await startHarness('job-failure', {
    POSTMORTEM_DIR: join(dir, 'not-a-dir', 'postmortems'),
    // Channel setups 50 ms apart instead of Slack's Tier 2 spacing (3 s), so the retries below queue briefly.
    CHANNEL_SETUP_WINDOW_SECONDS: '1',
    ALERT_WEBHOOK_TOKEN: TOKEN,
  });
  const general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice] }).id;
  await h.client.slashCommand({
    text: 'start sev2 Checkout latency',
    userId: h.users.alice,
    channelId: general,
  });
  const created = await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok);
  channel = h.sandbox.channelByName(String(created.args.name))!.id;
  await h.sandbox.waitFor((e) => e.method === 'pins.add' && e.ok);
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a job that fails for good', () => {
  it('records one job_failed entry and tells the channel what failed and what to do', async () => {
    const after = h.sandbox.seq;
    // As `/incident postmortem` enqueues it, with two tries 50 ms apart instead of 8 from 500 ms.
    await h.bot.rt.jobs.enqueue(
      'draft-postmortem',
      { incidentId: 'INC-1', requestedBy: h.users.alice },
      { jobId: 'postmortem-INC-1-failing', attempts: 2, backoff: { type: 'fixed', delay: 50 } },
    );
    const told = await posted(channel, /gave up on drafting the postmortem/, after);

    expect(String(told.args.text)).toMatch(
      /^:warning: incident-bot gave up on drafting the postmortem after 2 attempts: ENOTDIR: .*\. Run `\/incident postmortem` to try again\.$/,
    );
    const failures = await jobFailures('INC-1');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({
      kind: 'job_failed',
      job: 'draft-postmortem',
      attempts: 2,
      actor: { type: 'bot' },
      source: 'bot',
      error: expect.stringMatching(/^ENOTDIR/),
    });
    const failed = await h.bot.rt.jobs.queues.postmortem.getFailed();
    expect(failed.map((j) => [j.id, j.attemptsMade])).toEqual([['postmortem-INC-1-failing', 2]]);
  });

  it('records it once per job, however often the failure is handled', async () => {
    const failure = { jobId: 'postmortem-INC-1-failing', message: 'again', attemptsMade: 2, retryable: true };
    await handleFinalFailure(workerDeps(), 'draft-postmortem', { incidentId: 'INC-1' }, failure);
    await handleFinalFailure(workerDeps(), 'draft-postmortem', { incidentId: 'INC-1' }, failure);
    const failures = await jobFailures('INC-1');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.error).not.toBe('again');
    const warnings = h.sandbox.messages(channel).filter((m) => m.text?.includes('gave up on'));
    expect(warnings).toHaveLength(1);
  });

  it('shows the failure in /incident timeline and in the postmortem timeline', async () => {
    const res = await h.client.slashCommand({ text: 'timeline', userId: h.users.alice, channelId: channel });
    expect((res.body as { text: string }).text).toMatch(
      /`#\d+` \d\d:\d\d UTC · incident-bot · draft-postmortem job failed after 2 attempts: ENOTDIR/,
    );
    const entries = await h.bot.rt.store.entries('INC-1');
    const view = postmortemView(entries, { now: new Date().toISOString() });
    const row = view.timeline.items.find((r) => r.label === 'Bot error');
    expect(row?.text).toMatch(/^incident-bot gave up on drafting the postmortem after 2 attempts: ENOTDIR/);
    const seq = (await jobFailures('INC-1'))[0]!.seq;
    expect(row?.seqs).toEqual([seq]);
  });

  it('records a delivery that failed for good, which the next delivery posts, and records a repeat failure only once', async () => {
    const before = (await jobFailures('INC-1')).length;
    const after = h.sandbox.seq;
    const failure = (jobId: string) => ({
      jobId,
      message: 'An API error occurred: is_archived',
      attemptsMade: 8,
      retryable: true,
    });
    await handleFinalFailure(workerDeps(), 'deliver', { incidentId: 'INC-1' }, failure('deliver-INC-1-90'));
    // The delivery its entry queued failed as well, before anything else happened: no second entry.
    await handleFinalFailure(workerDeps(), 'deliver', { incidentId: 'INC-1' }, failure('deliver-INC-1-91'));
    const failures = (await jobFailures('INC-1')).slice(before);
    expect(failures.map((e) => [e.job, e.attempts])).toEqual([['deliver', 8]]);
    const told = await posted(channel, /gave up on posting the timeline to the channel/, after);
    expect(String(told.args.text)).toContain('after 8 attempts: An API error occurred: is_archived.');
    expect(String(told.args.text)).toContain('the next change posts them again');
  });

  it('notes an alert webhook that could not be recorded on its alert group’s incident, and only there', async () => {
    const after = h.sandbox.seq;
    const r = await postAlert(`http://127.0.0.1:${h.bot.port}`, 'generic', {
      title: 'Checkout 5xx',
      status: 'firing',
      dedupKey: 'checkout-5xx',
      severity: 'critical',
      startedAt: '2024-05-01T10:00:00Z',
    });
    expect(r.status).toBe(202);
    const created = await h.sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok, { after });
    const alertChannel = h.sandbox.channelByName(String(created.args.name))!.id;
    const id = await eventually(async () => {
      const bound = await h.bot.rt.store.boundIncident(r.body.groupId);
      expect(bound).toBeDefined();
      return bound!;
    });
    const failure = {
      jobId: `ingest-${r.body.deliveryId}`,
      message: 'boom',
      attemptsMade: 8,
      retryable: true,
    };

    // A delivery of a group no incident is bound to: logged and counted by the worker, recorded nowhere.
    const before = await Promise.all(['INC-1', id].map(async (i) => (await jobFailures(i)).length));
    await handleFinalFailure(
      workerDeps(),
      'ingest-alert',
      { deliveryId: 'unbound-0123456789abcdef' },
      failure,
    );
    expect(await Promise.all(['INC-1', id].map(async (i) => (await jobFailures(i)).length))).toEqual(before);

    await handleFinalFailure(workerDeps(), 'ingest-alert', { deliveryId: r.body.deliveryId }, failure);
    expect((await jobFailures(id)).map((e) => [e.job, e.detail])).toEqual([
      ['ingest-alert', `alert group ${r.body.groupId} from generic`],
    ]);
    const told = await posted(alertChannel, /gave up on recording an alert webhook/, after);
    expect(String(told.args.text)).toContain('after 8 attempts: boom. Alerts it carried may be missing');
  });

  it('tells the announce channel and the declarer when the channel itself could not be opened', async () => {
    // Slack failing conversations.create (fatal_error: not a refusal, so the job retries, then gives up;
    // a refusal such as restricted_action is test/lifecycle/channel-refused.test.ts).
    h.sandbox.failNext('conversations.create', { error: 'fatal_error', count: 50 });
    const general = h.sandbox.channelByName('general')!.id;
    const after = h.sandbox.seq;
    const started = await h.client.slashCommand({
      text: 'start sev3 Search <!channel> errors',
      userId: h.users.alice,
      channelId: general,
    });
    const id = /INC-\d+/.exec((started.body as { text: string }).text)![0]!;
    // One try, so the worker gives up at once (the declaration's own job keeps retrying meanwhile).
    await h.bot.rt.jobs.enqueue(
      'setup-channel',
      { incidentId: id },
      { jobId: `setup-${id}-once`, attempts: 1 },
    );
    const told = await posted(h.announceChannel, /gave up on opening the incident channel/, after);

    expect(String(told.args.text)).toBe(
      `<@${h.users.alice}> ${id} (SEV3) “Search &lt;!channel&gt; errors”: :warning: incident-bot gave up on opening the incident channel after 1 attempt: An API error occurred: fatal_error. The incident is recorded; check that incident-bot may create channels and invite people (\`channels:manage\`), and open a channel by hand meanwhile.`,
    );
    const failures = await jobFailures(id);
    expect(failures.map((e) => [e.job, e.attempts])).toEqual([['setup-channel', 1]]);
    expect((await h.bot.rt.store.load(id))!.incident.channelId).toBeUndefined();
  });
});
