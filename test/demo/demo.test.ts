import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../src/demo/run-demo.js';

describe('npm run demo', () => {
  it('replays the seeds’ incident and writes a draft that blames the load balancer and lists the database as a misleading path', async () => {
    process.env.POSTMORTEM_DIR = mkdtempSync(join(tmpdir(), 'ib-demo-'));
    const r = await runDemo();
    expect(existsSync(r.postmortemPath)).toBe(true);
    expect(r.postmortemPath.startsWith(process.env.POSTMORTEM_DIR)).toBe(true);

    const section = (title: string) => {
      const start = r.postmortem.indexOf(`## ${title}`);
      expect(start).toBeGreaterThanOrEqual(0);
      const end = r.postmortem.indexOf('\n## ', start + 3);
      return r.postmortem.slice(start, end < 0 ? undefined : end);
    };
    expect(section('Issue Summary')).toMatch(
      /Root cause:\*\*\n\s+- Confirmed hypothesis: HAProxy weights .*\(load-balancer\)/,
    );
    expect(section('Misleading Investigation Paths')).toContain('the database is overloaded');
    expect(section('Misleading Investigation Paths')).toContain('(database)');
    expect(section('Root Cause and Resolution')).toContain('traffic-distribution check on edge: fail');

    // The bot steered the team: the nudge is in the channel, with the evidence.
    expect(r.transcript).toMatch(/Before digging into the database: web1 takes 99% of requests on edge/);
    // The channel and the timeline tell the same story, in the same order.
    const inChannel = [
      'Alert firing: HighErrorRate',
      '@alice is now the incident commander',
      'Hypothesis *H1* (database) raised by @bob',
      'Before digging into the database',
      'Hypothesis *H1* ruled out by @bob',
      'Hypothesis *H2* confirmed by @carol',
      'Status: *investigating* → *identified*',
      'Status: *identified* → *monitoring*',
      'Status: *monitoring* → *resolved*',
      'Incident closed by @alice',
      '[file] Postmortem draft: INC-1',
    ];
    const at = inChannel.map((t) => r.transcript.indexOf(t));
    expect(at.filter((i) => i < 0)).toEqual([]);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    const inTimeline = [
      'alert fired: HighErrorRate',
      'incident commander',
      'suspects H1 (database)',
      'ruled out H1',
      'confirmed H2',
      'closed: Load-balancer weights corrected',
    ];
    const tl = inTimeline.map((t) => r.timeline.findIndex((l) => l.includes(t)));
    expect(tl.filter((i) => i < 0)).toEqual([]);
    expect([...tl].sort((a, b) => a - b)).toEqual(tl);
    expect(r.seconds).toBeLessThan(60);
  });
});
