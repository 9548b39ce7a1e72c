import { writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, postAlert, TOKEN } from '../alerts-e2e/support.js';
import { type Harness, startHarness } from '../support/harness.js';
import { freePort, type Lab, startHaproxyLab } from '../support/lab.js';
import { checklistMessage, checkResults, openIncident, settledChecklist, shown } from './helpers.js';

// One targets file with three faults next to a working load balancer: an entry the schema rejects, a
// stats URL nobody listens on, and a stats server that accepts connections and never answers.
let lab: Lab;
let hung: Server;
const sockets: Socket[] = [];
let h: Harness;
let text: string;
let badKindLine: number;

beforeAll(async () => {
  lab = await startHaproxyLab('skewed-weights');
  await lab.send(200, ['/']);
  await lab.waitForLog(200);
  hung = createServer((s) => sockets.push(s)).listen(0, '127.0.0.1');
  await new Promise((r) => hung.once('listening', r));
  const hungPort = (hung.address() as { port: number }).port;
  const closedPort = await freePort();
  const lines = [
    'loadBalancers:',
    '  - name: edge',
    '    kind: haproxy',
    `    stats: ${lab.statsUrl}`,
    `    log: ${lab.logPath}`,
    `    config: ${lab.configPath}`,
    '  - name: gone',
    '    kind: haproxy',
    `    stats: http://127.0.0.1:${closedPort}/stats;csv`,
    '  - name: hung',
    '    kind: haproxy',
    `    stats: http://127.0.0.1:${hungPort}/stats;csv`,
    '  - name: sidecar',
    '    kind: traefik',
    'probes:',
    '  database: { kind: postgres, url: "postgres://postgres@127.0.0.1:5432/test" }',
    'thresholds: { statsSampleMs: 0, probeTimeoutMs: 300 }',
    '',
  ];
  badKindLine = lines.indexOf('    kind: traefik') + 1;
  const path = join(lab.dir, 'broken-targets.yml');
  writeFileSync(path, lines.join('\n'));
  h = await startHarness('diag-faults', { DIAGNOSTICS_CONFIG: path });
  const general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice] }).id;
  const channel = await openIncident(h, general, 'Errors on the web tier');
  const m = await checklistMessage(h, channel);
  text = await settledChecklist(h, channel, m.ts);
});
afterAll(async () => {
  await h?.close();
  for (const s of sockets) s.destroy();
  hung?.close();
  await lab?.stop();
});

describe('a broken targets file and unreachable sources', () => {
  it('says in the checklist exactly what is wrong with the file, by line and field', () => {
    expect(text).toContain(':warning: *Diagnostics configuration problems*');
    expect(text).toContain(
      `broken-targets.yml line ${badKindLine}, loadBalancers[3].kind: expected haproxy, nginx, envoy or aws-elbv2`,
    );
  });

  it('turns an unreachable and a hung stats URL into error results naming the reason', async () => {
    expect(text).toMatch(
      /:exclamation: \*gone\* \*error\* — could not run: .*(ECONNREFUSED|fetch failed|refused)/i,
    );
    expect(text).toMatch(/:exclamation: \*hung\* \*error\* — could not run: .*(timed out|timeout|abort)/i);
    const results = await checkResults(h, 'INC-1');
    const by = (check: string, target: string) =>
      results.find((e) => e.result.checkId === check && e.result.target === target)?.result;
    expect(by('pool-health', 'gone')?.verdict).toBe('error');
    expect(by('pool-health', 'hung')?.verdict).toBe('error');
  });

  it('still runs every check of the working load balancer and the database probe', async () => {
    const results = await checkResults(h, 'INC-1');
    const by = (check: string, target: string) =>
      results.find((e) => e.result.checkId === check && e.result.target === target)?.result;
    expect(by('traffic-distribution', 'edge')?.verdict).toBe('fail');
    expect(by('pool-health', 'edge')?.verdict).toBe('pass');
    expect(by('routing', 'edge')?.verdict).toBe('pass');
    expect(by('database', 'database')?.verdict).toBe('pass');
    expect(text).toMatch(/web1 +█{10}/);
    const incident = (await h.bot.rt.store.load('INC-1'))!.incident;
    expect(incident.status).toBe('investigating');
  });
});

describe('no DIAGNOSTICS_CONFIG', () => {
  let bare: Harness;
  afterAll(async () => {
    await bare?.close();
  });

  it('posts the checklist with every automated item skipped, saying how to configure it, and runs nothing', async () => {
    bare = await startHarness('diag-none', { ALERT_WEBHOOK_TOKEN: TOKEN });
    const general = bare.sandbox.addChannel({ name: 'general', members: [bare.users.alice] }).id;
    const channel = await openIncident(bare, general, 'Site down');
    const m = await checklistMessage(bare, channel);
    const posted = shown(m);
    const skipped =
      posted.match(/skipped — DIAGNOSTICS_CONFIG is not set: point it at a targets YAML file/g) ?? [];
    expect(skipped).toHaveLength(8);
    expect(posted).toContain('Any deploy or config push in the last hours?');
    expect(posted).not.toContain('running…');
    expect(await checkResults(bare, 'INC-1')).toEqual([]);
  });

  it('picks the checklist template that matches the alert’s labels', async () => {
    // Alertmanager's HighErrorRate alert matches templates/checklists/web-latency.yml.
    const r = await postAlert(
      `http://127.0.0.1:${bare.bot.port}`,
      'alertmanager',
      fixture('alertmanager-v4-firing.json'),
    );
    expect(r.status).toBe(202);
    const m = await bare.sandbox.waitForMessage((x) => / checklist: web-latency/.test(shown(x)));
    expect(shown(m)).toContain('Is one server taking most of the traffic?');
  });
});
