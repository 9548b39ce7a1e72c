import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Deps } from '../../src/flows/deps.js';
import { nextRun } from '../../src/flows/run-diagnostics.js';
import { handleFinalFailure, isFinalFailure } from '../../src/jobs/processors.js';
import { RedisStore } from '../../src/redis/store.js';
import { SlackNotifier } from '../../src/slack/notifier.js';
import { eventually } from '../support/eventually.js';
import { type Harness, startHarness } from '../support/harness.js';
import { checklistMessage, checkResults, openIncident, settledChecklist, shown } from './helpers.js';

/** The routing lines run 1 stored, kept while a test corrupts them. */
let savedLines: string | undefined;

// A recorded HAProxy (stats and config files) so run 1 settles without a live load balancer. Then the bot's
// stored routing lines are corrupted in Redis: every later run-check job throws while reading them, before
// the check's own isolation (which turns source errors into results) is reached, so the job fails for good.
const recording = join(import.meta.dirname, '../fixtures/diagnostics/recordings/haproxy-healthy-even');
let dir: string;
let h: Harness;
let channel: string;
let ts: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ib-job-failure-'));
  const targets = join(dir, 'targets.yml');
  writeFileSync(
    targets,
    [
      'loadBalancers:',
      '  - name: edge',
      '    kind: haproxy',
      `    stats: ${join(recording, 'stats-2.csv')}`,
      `    config: ${join(recording, 'haproxy.cfg')}`,
      'thresholds: { statsSampleMs: 0 }',
      '',
    ].join('\n'),
  );
  // Two tries 50 ms apart instead of 8 from 500 ms: the same final failure, in well under a second.
  h = await startHarness('diag-job-failure', {
    DIAGNOSTICS_CONFIG: targets,
    CHECK_JOB_ATTEMPTS: '2',
    CHECK_JOB_BACKOFF_MS: '50',
  });
  const general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice] }).id;
  channel = await openIncident(h, general, 'Checkout is slow');
  ts = (await checklistMessage(h, channel)).ts;
  await settledChecklist(h, channel, ts);
});
afterAll(async () => {
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const current = () => shown(h.sandbox.message(channel, ts)!);
const distributionResults = async () =>
  (await checkResults(h, 'INC-1')).filter(
    (e) => e.result.checkId === 'traffic-distribution' && e.result.target === 'edge',
  );

/** The rendered checklist's automated items: check id → the item's lines (header, rows, evidence). */
function items(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let check: string | undefined;
  for (const line of text.split('\n')) {
    const head = /^:[a-z_]+: \*.*\* {2}`([a-z-]+)`$/.exec(line);
    if (head) check = head[1];
    else if (!/^(>|:[a-z_]+: (\*edge\*|skipped))/.test(line)) check = undefined;
    if (check) out.set(check, [out.get(check), line].filter(Boolean).join('\n'));
  }
  return out;
}

/** The payload of the one run-check job BullMQ holds as failed. */
async function failedJobData(): Promise<unknown> {
  const failed = await h.bot.rt.jobs.queues.diagnostics.getFailed();
  expect(failed).toHaveLength(1);
  return failed[0]!.data;
}

describe('a run-check job that fails for good', () => {
  it('shows its item as error with the job’s reason instead of pending, from one timeline entry', async () => {
    const before = await distributionResults();
    expect(before).toHaveLength(1);
    const beforeItems = items(current());
    expect(beforeItems.size).toBe(8);
    expect(beforeItems.get('traffic-distribution')).toMatch(/\*edge\* \*(pass|warn|fail|skipped)\*/);
    savedLines = (await h.bot.rt.store.lbConfigState())['lines:edge'];
    expect(savedLines).toBeDefined();
    await h.bot.rt.store.saveLbConfigState({ 'lines:edge': '{not json' });

    const after = h.sandbox.seq;
    const res = await h.client.slashCommand({
      text: 'diagnose traffic-distribution:edge',
      userId: h.users.alice,
      channelId: channel,
    });
    expect((res.body as { text?: string }).text).toMatch(/\(run 2\)/);
    const pending = await h.sandbox.waitFor(
      (e) => e.method === 'chat.update' && e.args.ts === ts && /1 pending/.test(String(e.args.text)),
      { after },
    );
    const text = await settledChecklist(h, channel, ts, pending.seq);

    expect(text).not.toContain('running…');
    expect(text).toMatch(/:exclamation: \*edge\* \*error\* — check job failed after 2 attempts: .*JSON/);
    const results = await distributionResults();
    expect(results).toHaveLength(2);
    const last = results.at(-1)!.result;
    expect(last.verdict).toBe('error');
    expect(last.summary).toMatch(/^check job failed after 2 attempts: .*JSON/);
    // Only the failed job's item changed; the others still show their run-1 results.
    const afterItems = items(text);
    expect(afterItems.size).toBe(beforeItems.size);
    for (const [check, shownBefore] of beforeItems)
      if (check !== 'traffic-distribution') expect(afterItems.get(check)).toBe(shownBefore);

    const failed = await h.bot.rt.jobs.queues.diagnostics.getFailed();
    expect(failed.map((j) => [j.name, j.attemptsMade])).toEqual([['run-check', 2]]);
  });

  it('records the failure once even when the recording is repeated', async () => {
    const deps: Deps = {
      ...h.bot.rt.deps,
      slack: new SlackNotifier(h.env.SLACK_BOT_TOKEN!, h.env.SLACK_API_URL!),
    };
    const data = await failedJobData();
    const failure = { jobId: 'check-again', message: 'again', attemptsMade: 2, retryable: true };
    const after = h.sandbox.seq;
    await handleFinalFailure(deps, 'run-check', data, failure);
    await handleFinalFailure(deps, 'run-check', data, failure);
    const results = await distributionResults();
    expect(results).toHaveLength(2);
    expect(results.at(-1)!.result.summary).not.toContain('again');
    // Both calls got as far as re-rendering the checklist, which still shows the first recording.
    const updates = h.sandbox.transcript.filter((e) => e.seq > after && e.method === 'chat.update' && e.ok);
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(current()).toMatch(/\*edge\* \*error\* — check job failed after 2 attempts: /);
  });

  it('logs, and does not throw, when the failure cannot be recorded because Redis is down', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const down = new Redis({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    down.on('error', () => {});
    const deps: Deps = {
      ...h.bot.rt.deps,
      log,
      store: new RedisStore(down, h.prefix),
    };
    await expect(
      handleFinalFailure(deps, 'run-check', await failedJobData(), {
        jobId: 'check-boom',
        message: 'boom',
        attemptsMade: 8,
        retryable: true,
      }),
    ).resolves.toBeUndefined();
    down.disconnect();
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; failure?: string; job?: string });
    expect(logged).toContainEqual(
      expect.objectContaining({
        msg: 'could not record the final failure of a job',
        job: 'run-check',
        failure: 'boom',
      }),
    );
  });

  it('treats an error that is not retried as final at once and says so in the item', async () => {
    const job = { attemptsMade: 1, opts: { attempts: 8 } };
    expect(isFinalFailure(job, new Error('flaky'))).toBe(false);
    expect(isFinalFailure(job, new UnrecoverableError('INCIDENT_NOT_FOUND: gone'))).toBe(true);
    expect(isFinalFailure({ attemptsMade: 8, opts: { attempts: 8 } }, new Error('flaky'))).toBe(true);

    const deps: Deps = {
      ...h.bot.rt.deps,
      slack: new SlackNotifier(h.env.SLACK_BOT_TOKEN!, h.env.SLACK_API_URL!),
    };
    // A run no `diagnose` allocates, so the run-diagnostics tests below get run 3 to themselves.
    const payload = { incidentId: 'INC-1', checkId: 'routing', target: 'edge', run: 99 };
    await handleFinalFailure(deps, 'run-check', payload, {
      jobId: 'check-gone',
      message: 'INCIDENT_NOT_FOUND: gone',
      attemptsMade: 1,
      retryable: false,
    });
    expect(items(current()).get('routing')).toMatch(
      /:exclamation: \*edge\* \*error\* — check job failed after 1 attempt \(not retryable\): INCIDENT_NOT_FOUND: gone/,
    );
  });
});

// The run-diagnostics job marks its run's checks pending, then queues one run-check job each. Here Redis
// takes the first of those jobs and refuses the rest, on every try, so the run fails for good with four
// items marked pending whose check will never run.
describe('a run-diagnostics job that fails for good', () => {
  const EDGE_CHECKS = ['pool-health', 'traffic-distribution', 'routing', 'recent-change', 'backend-connect'];

  it('shows each item it marked pending and never queued as error with the run’s reason; the queued check reports its own', async () => {
    // The stored routing lines the tests above corrupted would fail the one check that does get queued.
    await h.bot.rt.store.saveLbConfigState({ 'lines:edge': savedLines! });
    const jobs = h.bot.rt.jobs;
    const enqueue = jobs.enqueue.bind(jobs);
    const refuse = vi.spyOn(jobs, 'enqueue').mockImplementation((async (name, payload, opts) => {
      if (name === 'run-check' && (payload as { checkId: string }).checkId !== 'pool-health')
        throw new Error('Connection is closed.');
      return enqueue(name, payload, opts);
    }) as typeof jobs.enqueue);
    const before = (await checkResults(h, 'INC-1')).length;
    const after = h.sandbox.seq;
    let text: string;
    try {
      const run = await nextRun(h.bot.rt.deps, 'INC-1');
      expect(run).toBe(3);
      // As `/incident diagnose edge` enqueues it, with two tries 50 ms apart instead of 8 from 500 ms.
      await enqueue(
        'run-diagnostics',
        { incidentId: 'INC-1', only: ['edge'], requestedBy: h.users.alice, run },
        { jobId: `diagnostics-INC-1-${run}`, attempts: 2, backoff: { type: 'fixed', delay: 50 } },
      );
      text = await settledChecklist(h, channel, ts, after);
    } finally {
      refuse.mockRestore();
    }

    const shownItems = items(text);
    for (const check of EDGE_CHECKS.slice(1))
      expect(shownItems.get(check)).toMatch(
        /:exclamation: \*edge\* \*error\* — diagnostics run failed after 2 attempts: Connection is closed\./,
      );
    expect(shownItems.get('pool-health')).toMatch(/\*edge\* \*(pass|warn|fail)\*/);
    expect(text).not.toContain('running…');
    // One result per check of the run: four from the failure, one from the check that ran.
    const results = (await checkResults(h, 'INC-1')).slice(before).map((e) => e.result);
    expect(results.map((r) => r.checkId).sort()).toEqual([...EDGE_CHECKS].sort());
    expect(results.filter((r) => r.summary.startsWith('diagnostics run failed'))).toHaveLength(4);
    const failed = await h.bot.rt.jobs.queues.diagnostics.getFailed();
    expect(failed.map((j) => [j.name, j.attemptsMade]).sort()).toEqual([
      ['run-check', 2],
      ['run-diagnostics', 2],
    ]);
  });

  it('records nothing twice when the handler runs again, and nothing at all for a run that marked nothing', async () => {
    const deps: Deps = {
      ...h.bot.rt.deps,
      slack: new SlackNotifier(h.env.SLACK_BOT_TOKEN!, h.env.SLACK_API_URL!),
    };
    const warn = vi.spyOn(h.bot.rt.log, 'warn');
    try {
      const before = (await checkResults(h, 'INC-1')).length;
      const failure = { jobId: 'diagnostics-again', message: 'again', attemptsMade: 2, retryable: true };
      await handleFinalFailure(deps, 'run-diagnostics', { incidentId: 'INC-1', run: 3 }, failure);
      // A run that never got to mark anything (run 98 was never allocated).
      await handleFinalFailure(deps, 'run-diagnostics', { incidentId: 'INC-1', run: 98 }, failure);
      expect(await checkResults(h, 'INC-1')).toHaveLength(before);
      expect(current()).not.toContain('again');

      // Through the worker: an incident that does not exist fails at once (not retryable), before marking.
      await h.bot.rt.jobs.enqueue(
        'run-diagnostics',
        { incidentId: 'INC-404', run: 2 },
        { jobId: 'diagnostics-INC-404-2', attempts: 2, backoff: { type: 'fixed', delay: 50 } },
      );
      await eventually(() =>
        expect(warn).toHaveBeenCalledWith(
          expect.objectContaining({ id: 'INC-404', run: 2, failure: expect.stringContaining('INC-404') }),
          'diagnostics run failed for good before marking any check pending; nothing to record',
        ),
      );
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ id: 'INC-1', run: 98, failure: 'again' }),
        'diagnostics run failed for good before marking any check pending; nothing to record',
      );
      expect(await h.bot.rt.store.load('INC-404')).toBeFalsy();
    } finally {
      warn.mockRestore();
    }
  });
});
