import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { followupMarker } from '../../src/core/outbound.js';
import { type Proc, spawnBot } from '../alerts-e2e/support.js';
import { declare, entriesOf, entry, outboundDrained, slash } from '../outbound/support.js';
import { GitHubStandIn } from '../support/github-standin.js';
import { type Harness, startHarness } from '../support/harness.js';

// A worker process SIGKILLed while GitHub is creating the issue (the request reached GitHub, the
// answer never reached the worker): the job comes back on another worker process, which finds the
// issue by its marker instead of creating a second one.

const REPO = 'acme/shop';
const TOKEN = 'ghp_incidentbot';
let gh: GitHubStandIn;
let h: Harness;
const workers: Proc[] = [];

beforeAll(async () => {
  gh = await new GitHubStandIn().start();
  gh.addRepo(REPO, { token: TOKEN });
  // In-process web part only; the workers are real `src/worker.ts` processes.
  h = await startHarness(
    'outbound-kill',
    {
      FOLLOWUP_GITHUB_REPO: REPO,
      GITHUB_TOKEN: TOKEN,
      GITHUB_API_URL: gh.url,
      // Long enough that only the kill ends the first request.
      OUTBOUND_TIMEOUT_MS: '60000',
      JOB_LOCK_SECONDS: '1',
      REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
      ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    },
    { worker: false },
  );
  workers.push(await spawnBot('worker', h.env, 'workers started'));
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await h?.close();
  await gh?.close();
});

describe('a worker killed in the middle of creating a follow-up issue', () => {
  it('leaves exactly one issue: the next worker finds the one GitHub created', async () => {
    const { id, channel } = await declare(h, 'Kill mid-create');
    gh.failNext({ swallow: true, match: /^POST / });
    await slash(h, channel, 'followup Rebalance the edge pool');
    // The create reached GitHub (and GitHub made the issue); its answer is held back.
    await gh.waitFor((r) => r.method === 'POST' && r.status === 0);
    expect(gh.issues(REPO)).toHaveLength(1);
    await workers[0]!.stop('SIGKILL');
    workers.push(await spawnBot('worker', h.env, 'workers started'));
    const created = await entry(h, id, 'followup_issue_created', () => true, 60_000);
    await outboundDrained(h);
    expect(created.found).toBe(true);
    expect(gh.issues(REPO).filter((i) => i.body.includes(followupMarker(id, 'F1')))).toHaveLength(1);
    expect(gh.seen.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(await entriesOf(h, id, 'followup_issue_created')).toHaveLength(1);
  });
});
