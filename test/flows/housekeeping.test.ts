import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { RetryLater } from '../../src/core/errors.js';
import { archiveIncidentChannel, cancelArchive } from '../../src/flows/archive.js';
import { closeIncident } from '../../src/flows/change-status.js';
import { declareIncident } from '../../src/flows/declare.js';
import type { SlackPort } from '../../src/flows/deps.js';
import { fanOutHome, homeOpened, refreshHome, requestHomeRefresh } from '../../src/flows/home.js';
import { sweep } from '../../src/flows/sweep.js';
import { type FlowWorld, flowWorld } from './support.js';

const ALICE = 'U0ALICE01';
const who = { actor: { type: 'user' as const, id: ALICE }, source: 'slash' as const };
const DAY = 86_400_000;

function world(env: Record<string, string> = {}): FlowWorld & { lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const w = flowWorld({
    log: pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) }),
  });
  w.deps.config = loadConfig({
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    ...env,
  });
  return Object.assign(w, { lines });
}

/** A Slack port that records the calls these flows make (the rest is not used here). */
function recordingSlack() {
  const calls: { method: string; args: unknown[] }[] = [];
  const slack = {
    archiveChannel: async (...args: unknown[]) => {
      calls.push({ method: 'archive', args });
      return 'archived' as const;
    },
    publishHome: async (...args: unknown[]) => {
      calls.push({ method: 'publish', args });
    },
  } as Partial<SlackPort> as SlackPort;
  return { slack, calls };
}

async function closedIncident(w: FlowWorld, title: string) {
  const { id } = await declareIncident(w.deps, { title, severity: 'SEV3', ...who });
  await w.store.append(id, [
    {
      kind: 'channel_created',
      incidentId: id,
      at: w.deps.now().toISOString(),
      actor: { type: 'bot' },
      source: 'bot',
      channelId: `C${id.replace('-', '')}`,
      channelName: `inc-${id}`,
    },
  ]);
  await closeIncident(w.deps, id, 'done', who);
  return id;
}

describe('channel archive after close', () => {
  it('is scheduled ARCHIVE_AFTER_DAYS after the close as one delayed job, and not at all with 0', async () => {
    const w = world({ ARCHIVE_AFTER_DAYS: '3' });
    const id = await closedIncident(w, 'Checkout 5xx');
    expect(w.jobs.jobs('archive-channel')).toEqual([
      expect.objectContaining({
        jobId: `archive-${id}`,
        payload: { incidentId: id },
        opts: expect.objectContaining({ delay: 3 * DAY }),
      }),
    ]);
    const off = world({ ARCHIVE_AFTER_DAYS: '0' });
    await closedIncident(off, 'Checkout 5xx');
    expect(off.jobs.jobs('archive-channel')).toEqual([]);
  });

  it('archives the closed incident’s channel once, skips an incident open again, and a cancel removes the job', async () => {
    const w = world();
    const { slack, calls } = recordingSlack();
    w.deps.slack = slack;
    const id = await closedIncident(w, 'Checkout 5xx');
    expect(await archiveIncidentChannel(w.deps, id)).toBe('archived');
    expect(await archiveIncidentChannel(w.deps, id)).toBe('already-archived');
    expect(calls).toEqual([{ method: 'archive', args: [`C${id.replace('-', '')}`] }]);

    const { id: open } = await declareIncident(w.deps, { title: 'Still open', severity: 'SEV3', ...who });
    expect(await archiveIncidentChannel(w.deps, open)).toBe('not-closed');
    await cancelArchive(w.deps, id);
    expect(w.jobs.jobs('archive-channel').map((j) => j.jobId)).not.toContain(`archive-${id}`);
  });
});

describe('RETENTION_DAYS', () => {
  it('the sweep removes closed incidents older than the setting, with a log line each, and keeps the rest', async () => {
    const w = world({ RETENTION_DAYS: '30', LOG_LEVEL: 'info' });
    const old = await closedIncident(w, 'Old');
    w.advance(20 * DAY);
    const recent = await closedIncident(w, 'Recent');
    const { id: open } = await declareIncident(w.deps, { title: 'Open', severity: 'SEV3', ...who });
    w.advance(11 * DAY);
    const out = await sweep(w.deps);
    expect(out.removed).toEqual([old]);
    expect(await w.store.entries(old)).toEqual([]);
    expect(await w.store.allIncidents()).toEqual([recent, open]);
    expect(await w.store.closedIncidents()).toEqual([recent]);
    expect(
      w.lines.filter((l) => l.msg === `retention: removed ${old}, closed more than 30 days ago`),
    ).toHaveLength(1);
    expect(await w.store.timelineLength(recent)).toBeGreaterThan(0);
  });

  it('keeps everything when unset', async () => {
    const w = world();
    const id = await closedIncident(w, 'Old');
    w.advance(3650 * DAY);
    expect((await sweep(w.deps)).removed).toEqual([]);
    expect(await w.store.timelineLength(id)).toBeGreaterThan(0);
  });
});

describe('App Home refresh', () => {
  it('two workers refreshing the same viewer at once publish once; nothing changed publishes nothing', async () => {
    const w = world();
    const { slack, calls } = recordingSlack();
    w.deps.slack = slack;
    await declareIncident(w.deps, { title: 'Checkout 5xx', severity: 'SEV2', ...who });
    const both = await Promise.allSettled([refreshHome(w.deps, ALICE), refreshHome(w.deps, ALICE)]);
    expect(
      both.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<string>).value),
    ).toEqual(['published']);
    // The other found the lock taken and is put back; run again, it finds the view already published.
    const retried = both.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(retried.reason).toBeInstanceOf(RetryLater);
    expect(await refreshHome(w.deps, ALICE)).toBe('unchanged');
    expect(calls.filter((c) => c.method === 'publish')).toHaveLength(1);
    await declareIncident(w.deps, { title: 'Search down', severity: 'SEV1', ...who });
    expect(await refreshHome(w.deps, ALICE)).toBe('published');
  });

  it('debounces: one fan-out per window for any number of changes, one refresh per viewer and window', async () => {
    const w = world();
    await homeOpened(w.deps, ALICE);
    await homeOpened(w.deps, 'U0BOB0001');
    for (let i = 0; i < 5; i++) await requestHomeRefresh(w.deps);
    expect(w.jobs.jobs('home-fanout')).toHaveLength(1);
    expect(w.jobs.jobs('refresh-home')).toHaveLength(2);
    expect(await fanOutHome(w.deps)).toBe(2);
    // Same window: the opens' jobs stand for these refreshes too.
    expect(w.jobs.jobs('refresh-home')).toHaveLength(2);
    w.advance(10_000);
    await requestHomeRefresh(w.deps);
    expect(w.jobs.jobs('home-fanout')).toHaveLength(2);
  });
});
