import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/core/check.js';
import { loadDiagnosticsConfig } from '../../src/diagnostics/config.js';
import { runDiagnostics } from '../../src/diagnostics/run.js';
import { type Lab, type NoisyScenario, startHaproxyLab, startNginxLab } from '../support/lab.js';

let lab: Lab | undefined;
afterEach(async () => {
  await lab?.stop();
  lab = undefined;
});

/** Starts a real load balancer with the scenario, sends realistic traffic with client noise, runs every check. */
async function diagnose(start: typeof startHaproxyLab, scenario: NoisyScenario) {
  lab = await start(scenario);
  const from = new Date(Date.now() - 60_000);
  await lab.waitForLog(await lab.sendRealistic(200));
  const { config, problems } = await loadDiagnosticsConfig(lab.targetsPath);
  expect(problems).toEqual([]);
  const { results } = await runDiagnostics(config, { from, to: new Date(Date.now() + 1000) });
  const by = (id: string) => results.find((r) => r.checkId === id) as CheckResult;
  return { results, by };
}

describe('a real load balancer with client noise', () => {
  it('HAProxy: malformed requests, silent and slow clients and health probes raise no alarm, and are reported', async () => {
    const { results, by } = await diagnose(startHaproxyLab, 'noisy-even');
    const alarms = results.filter((r) => r.verdict !== 'pass' && r.verdict !== 'skipped');
    expect(alarms.map((r) => `${r.checkId}: ${r.summary}`)).toEqual([]);
    const routing = by('routing').evidence.join('\n');
    expect(routing).toContain('malformed requests rejected before routing: client noise, ignored');
    expect(routing).toContain('clients too slow to send a request (408): client noise, ignored');
    expect(routing).toContain('requests answered by the proxy itself (200): client noise, ignored');
    expect(by('backend-connect').bears).toEqual([{ hypothesis: 'network', effect: 'rules-out' }]);
  });

  it('HAProxy: one session cookie stuck to one server is named as the cause; 40 sessions are not', async () => {
    const one = await diagnose(startHaproxyLab, 'one-session');
    const td = one.by('traffic-distribution');
    expect(td.verdict).toBe('fail');
    expect(td.summary).toMatch(
      /^app\/web\d takes \d+% of requests: "stick on req.cook\(session\)" keeps each session on one server, and one cookie \(session=loadtest-7f3a\) sent \d+% of them/,
    );
    expect(one.results.filter((r) => r.verdict === 'fail').map((r) => r.checkId)).toEqual([
      'traffic-distribution',
    ]);
    await lab!.stop();
    lab = undefined;
    const many = await diagnose(startHaproxyLab, 'many-sessions');
    expect(many.by('traffic-distribution').verdict).toBe('pass');
  });

  it('nginx: a dead server behind max_fails is found by the load balancer log, and the bot agrees it is unreachable', async () => {
    const { by } = await diagnose(startNginxLab, 'max-fails');
    const dead = lab!.refused[0]!;
    expect(by('pool-health').verdict).toBe('warn');
    expect(by('pool-health').summary).toContain(`app/${dead}: the load balancer failed to connect`);
    expect(by('traffic-distribution').verdict).toBe('fail');
    expect(by('backend-connect').verdict).toBe('fail');
    expect(by('backend-connect').summary).toContain(`${dead} unreachable`);
    expect(by('routing').verdict).toBe('pass');
  });
});
