import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/core/check.js';
import { loadDiagnosticsConfig } from '../../src/diagnostics/config.js';
import { runDiagnostics } from '../../src/diagnostics/run.js';
import { type Lab, type LabScenario, startHaproxyLab, startNginxLab } from '../support/lab.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

async function diagnose(start: (s: LabScenario) => Promise<Lab>, scenario: LabScenario) {
  lab = await start(scenario);
  const from = new Date(Date.now() - 60_000);
  await lab.send(300, ['/', '/', '/api/orders']);
  await lab.waitForLog(300);
  const { config, problems } = await loadDiagnosticsConfig(lab.targetsPath);
  expect(problems).toEqual([]);
  const { results } = await runDiagnostics(config, { from, to: new Date(Date.now() + 1000) });
  const by = (id: string) => results.find((r) => r.checkId === id) as CheckResult;
  return { results, by };
}

describe('a real HAProxy in front of three node backends', () => {
  it('finds nothing wrong with a healthy, evenly weighted pool', async () => {
    const { by } = await diagnose(startHaproxyLab, 'healthy-even');
    expect(by('pool-health').verdict).toBe('pass');
    expect(by('traffic-distribution').verdict).toBe('pass');
    expect(by('routing').verdict).toBe('pass');
    expect(by('recent-change').verdict).toBe('pass');
    expect(by('backend-connect').verdict).toBe('pass');
    expect(by('database').bears).toContainEqual({ hypothesis: 'database', effect: 'rules-out' });
    const app = by('traffic-distribution').servers.filter((s) => s.backend === 'app');
    expect(app).toHaveLength(3);
    for (const s of app) expect(s.expectedShare).toBeCloseTo(1 / 3);
  });

  it('fails traffic-distribution naming the weights when one server is weighted to take nearly everything', async () => {
    const { by } = await diagnose(startHaproxyLab, 'skewed-weights');
    const td = by('traffic-distribution');
    expect(td.verdict).toBe('fail');
    expect(td.summary).toContain('web1=100');
    expect(td.bears).toContainEqual({ hypothesis: 'load-balancer', effect: 'supports' });
    const web1 = td.servers.find((s) => s.server === 'web1')!;
    expect(web1.observedShare).toBeGreaterThan(0.9);
    expect(web1.evenShare).toBeCloseTo(1 / 3);
    expect(by('pool-health').verdict).toBe('pass');
    expect(by('routing').verdict).toBe('pass');
  });

  it('warns in pool-health about a DOWN server and keeps the distribution among the others', async () => {
    const { by } = await diagnose(startHaproxyLab, 'one-down');
    const ph = by('pool-health');
    expect(ph.verdict).toBe('warn');
    expect(ph.summary).toContain('web3 is DOWN');
    expect(ph.evidence.join('\n')).toContain('L4CON');
    expect(by('traffic-distribution').verdict).toBe('pass');
    expect(by('routing').verdict).toBe('pass');
    expect(by('backend-connect').verdict).toBe('pass');
  });

  it('fails routing when a path rule points at a backend whose servers are all down', async () => {
    const { by } = await diagnose(startHaproxyLab, 'empty-pool-route');
    const r = by('routing');
    expect(r.verdict).toBe('fail');
    expect(r.summary).toContain('path_beg /api');
    // 100 of the 300 requests went to /api; HAProxy may drop a log line or two when starved of CPU.
    const nosrv = /(\d+) requests with no server \((\d+)x 503\)/.exec(r.evidence.join('\n'));
    expect(nosrv).not.toBeNull();
    expect(Number(nosrv![1])).toBeGreaterThanOrEqual(97);
    expect(nosrv![2]).toBe(nosrv![1]);
    expect(by('pool-health').verdict).toBe('fail');
    expect(by('traffic-distribution').verdict).toBe('pass');
  });

  it('fails traffic-distribution when balance source pins one client to one server', async () => {
    const { by } = await diagnose(startHaproxyLab, 'pinned');
    const td = by('traffic-distribution');
    expect(td.verdict).toBe('fail');
    expect(td.evidence.join('\n')).toContain('balance source');
    expect(by('pool-health').verdict).toBe('pass');
    expect(by('routing').verdict).toBe('pass');
  });
});

/**
 * Runs the checks with the lab's stats and config but no log, so traffic-distribution counts `stot` deltas
 * between two stats samples 1.5 s apart; traffic flows the whole time the run takes (bounded), so it
 * lands between the samples whenever they are taken.
 */
async function diagnoseFromStats(scenario: LabScenario) {
  lab = await startHaproxyLab(scenario);
  const path = join(lab.dir, 'stats-only.yml');
  writeFileSync(
    path,
    [
      'loadBalancers:',
      '  - name: edge',
      '    kind: haproxy',
      `    stats: ${lab.statsUrl}`,
      `    config: ${lab.configPath}`,
      'thresholds: { statsSampleMs: 1500 }',
      '',
    ].join('\n'),
  );
  const { config, problems } = await loadDiagnosticsConfig(path);
  expect(problems).toEqual([]);
  const from = new Date(Date.now() - 60_000);
  let running = true;
  let sent = 0;
  const traffic = (async () => {
    while (running && sent < 6000) {
      await lab!.send(24, ['/', '/', '/api/orders']);
      sent += 24;
    }
  })();
  const { results } = await runDiagnostics(config, { from, to: new Date(Date.now() + 5000) }).finally(() => {
    running = false;
  });
  await traffic;
  const by = (id: string) => results.find((r) => r.checkId === id) as CheckResult;
  return { results, by };
}

describe('a real HAProxy with a stats source and no log', () => {
  it('passes a healthy, evenly weighted pool on stot deltas and raises no other alarm', async () => {
    const { results, by } = await diagnoseFromStats('healthy-even');
    const td = by('traffic-distribution');
    expect(td.verdict).toBe('pass');
    // The measured gap between the two samples: the configured 1.5 s plus the fetches, never less.
    const gap = /^requests counted from stot deltas between two stats samples (\d+\.\d\d) s apart$/.exec(
      td.evidence[0]!,
    );
    expect(gap, td.evidence[0]).not.toBeNull();
    expect(Number(gap![1])).toBeGreaterThanOrEqual(1.5);
    expect(Number(gap![1])).toBeLessThan(4.5);
    const app = td.servers.filter((s) => s.backend === 'app');
    expect(app.map((s) => s.server)).toEqual(['web1', 'web2', 'web3']);
    const total = app.reduce((n, s) => n + s.requests!, 0);
    expect(total).toBeGreaterThanOrEqual(50);
    for (const s of app) {
      expect(s.expectedShare).toBeCloseTo(1 / 3);
      expect(s.observedShare!).toBeGreaterThan(0.25);
      expect(s.observedShare!).toBeLessThan(0.42);
    }
    // traffic-volume needs a log, so it is not run at all; everything else finds nothing wrong.
    expect(results.map((r) => [r.checkId, r.verdict])).toEqual([
      ['pool-health', 'pass'],
      ['traffic-distribution', 'pass'],
      ['routing', 'pass'],
      ['recent-change', 'pass'],
      ['backend-connect', 'pass'],
    ]);
  });

  it('fails traffic-distribution on stot deltas naming the server weighted to take nearly everything', async () => {
    const { by } = await diagnoseFromStats('skewed-weights');
    const td = by('traffic-distribution');
    expect(td.verdict).toBe('fail');
    expect(td.summary).toMatch(
      /^app: weights \(web1=100, web2=1, web3=1\) send 98% of requests to web1, and it took (9\d|100)%/,
    );
    expect(td.evidence).toContainEqual(
      expect.stringMatching(
        /^requests counted from stot deltas between two stats samples \d+\.\d\d s apart$/,
      ),
    );
    expect(td.evidence).toContain('app: web1 weight 100 is 100.0x the median of its peers (1)');
    expect(td.bears).toContainEqual({ hypothesis: 'load-balancer', effect: 'supports' });
    const web1 = td.servers.find((s) => s.server === 'web1')!;
    expect(web1.weight).toBe(100);
    expect(web1.requests!).toBeGreaterThanOrEqual(50);
    expect(web1.observedShare).toBeGreaterThan(0.9);
    expect(by('pool-health').verdict).toBe('pass');
    expect(by('routing').verdict).toBe('pass');
  });
});

describe('a real nginx in front of three node backends', () => {
  it('finds nothing wrong with a healthy, evenly weighted upstream', async () => {
    const { by } = await diagnose(startNginxLab, 'healthy-even');
    expect(by('pool-health').verdict).toBe('pass');
    expect(by('traffic-distribution').verdict).toBe('pass');
    expect(by('routing').verdict).toBe('pass');
  });

  it('fails traffic-distribution on skewed upstream weights', async () => {
    const { by } = await diagnose(startNginxLab, 'skewed-weights');
    expect(by('traffic-distribution').verdict).toBe('fail');
    expect(by('traffic-distribution').summary).toMatch(/=100/);
    expect(by('routing').verdict).toBe('pass');
  });

  it('fails routing when a location proxies to an upstream with every server down', async () => {
    const { by } = await diagnose(startNginxLab, 'empty-pool-route');
    const r = by('routing');
    expect(r.verdict).toBe('fail');
    expect(r.summary).toContain('location /api/');
    expect(r.summary).toContain('100 requests to api found no server');
  });

  it('fails traffic-distribution when ip_hash pins the only client to one server', async () => {
    const { by } = await diagnose(startNginxLab, 'pinned');
    expect(by('traffic-distribution').verdict).toBe('fail');
    expect(by('pool-health').verdict).toBe('pass');
  });
});
