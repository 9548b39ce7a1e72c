import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/core/check.js';
import { chooseChecklist } from '../../src/core/checklist.js';
import type { Incident } from '../../src/core/incident.js';
import { incidentWindow } from '../../src/core/incident-window.js';
import { nudgesFor } from '../../src/core/suspicion.js';
import { loadChecklists } from '../../src/diagnostics/checklists.js';
import type { DiagnosticsSetup } from '../../src/diagnostics/setup.js';
import { defaultTemplatesDir } from '../../src/postmortem/render.js';
import { validateBlocks } from '../../src/sandbox/index.js';
import {
  type AutomatedItemView,
  bar,
  type ChecklistView,
  checklistMessage,
  distributionBars,
} from '../../src/slack/checklist-render.js';

const skewed: CheckResult = {
  checkId: 'traffic-distribution',
  target: 'edge',
  verdict: 'fail',
  summary: 'app: weights (web1=100, web2=1, web3=1) send 98% of requests to web1, and it took 99%',
  evidence: ['requests counted from the access log'],
  servers: [
    { backend: 'app', server: 'web1', observedShare: 0.985, expectedShare: 0.98, evenShare: 1 / 3 },
    { backend: 'app', server: 'web2', observedShare: 0.01, expectedShare: 0.0098, evenShare: 1 / 3 },
    { backend: 'app', server: 'web3', observedShare: 0.005, expectedShare: 0.0098, evenShare: 1 / 3 },
  ],
  bears: [{ hypothesis: 'load-balancer', effect: 'supports' }],
  notes: [],
};

describe('traffic bars', () => {
  it('draw ten cells per server, one at least for any traffic', () => {
    expect(bar(1)).toBe('██████████');
    expect(bar(0.33)).toBe('███░░░░░░░');
    expect(bar(0.004)).toBe('█░░░░░░░░░');
    expect(bar(0)).toBe('░░░░░░░░░░');
  });

  it('show observed against expected by weight and even split, busiest first', () => {
    expect(distributionBars(skewed)).toBe(
      [
        '```',
        'web1 ██████████  99%  expected 98% by weight, 33% if even',
        'web2 █░░░░░░░░░ 1.0%  expected 1.0% by weight, 33% if even',
        'web3 █░░░░░░░░░ 0.5%  expected 1.0% by weight, 33% if even',
        '```',
      ].join('\n'),
    );
  });

  it('escape server names so a config file cannot ping the channel', () => {
    const r = { ...skewed, servers: [{ ...skewed.servers[0]!, server: '<!channel>' }] };
    expect(distributionBars(r)).toContain('&lt;!channel&gt;');
  });
});

describe('the checklist message', () => {
  const item = (i: number, result?: CheckResult): AutomatedItemView => ({
    kind: 'automated',
    id: `item-${i}`,
    label: `Item ${i} <!here>`,
    checkId: 'traffic-distribution',
    rows: [{ target: 'edge', state: result ? result.verdict : 'pending', result }],
  });
  const view = (n: number, result?: CheckResult): ChecklistView => ({
    incidentId: 'INC-7',
    name: 'default',
    items: Array.from({ length: n }, (_, i) => item(i, result)),
    extra: [],
    problems: ['targets.yml line 3, loadBalancers[0].kind: expected haproxy or nginx'],
    run: 1,
  });

  it('stays within Slack’s limits with 100 items and huge evidence (50 blocks, 3000 characters a section)', () => {
    const huge = { ...skewed, summary: 'x'.repeat(5000), evidence: Array(50).fill('y'.repeat(400)) };
    const msg = checklistMessage(view(100, huge));
    expect(msg.blocks!.length).toBeLessThanOrEqual(50);
    expect(validateBlocks(msg.blocks)).toEqual([]);
    expect(JSON.stringify(msg.blocks)).toContain('more items');
  });

  it('escapes labels, counts states in the fallback text, and lists the configuration problems', () => {
    const msg = checklistMessage(view(2));
    const json = JSON.stringify(msg.blocks);
    expect(json).not.toContain('<!here>');
    expect(json).toContain('&lt;!here&gt;');
    expect(msg.text).toBe('INC-7 checklist (default): 2 pending');
    expect(json).toContain('loadBalancers[0].kind: expected haproxy or nginx');
  });

  it('renders manual items as checkboxes that show their ticked state', () => {
    const msg = checklistMessage({
      ...view(0),
      items: [{ kind: 'manual', id: 'deploys', label: 'Deploys?', checked: true, by: 'U1' }],
    });
    const block = msg.blocks!.find((b) => (b as { block_id?: string }).block_id === 'manual-deploys') as {
      accessory: { type: string; action_id: string; initial_options?: unknown[] };
    };
    expect(block.accessory.type).toBe('checkboxes');
    expect(block.accessory.action_id).toBe('checklist-item-deploys');
    expect(block.accessory.initial_options).toHaveLength(1);
  });
});

const incident = (over: Partial<Incident> = {}): Incident => ({
  id: 'INC-1',
  title: 't',
  severity: 'SEV2',
  status: 'investigating',
  private: false,
  declaredAt: '2026-01-01T00:00:00.000Z',
  lastStatusUpdateAt: '2026-01-01T00:00:00.000Z',
  hypotheses: [],
  alertGroupIds: [],
  merged: [],
  alerts: [],
  checks: [],
  checklist: {},
  followups: [],
  links: [],
  entryCount: 1,
  ...over,
});

describe('choosing the checklist', () => {
  it('takes the template matching an alert’s labels, else the default', async () => {
    const { checklists } = await loadChecklists(`${defaultTemplatesDir()}/checklists`);
    const setup: DiagnosticsSetup = { refs: [], checklists, problems: [] };
    const alert = {
      alertGroupId: 'g',
      fingerprint: 'f',
      name: 'HighLatency',
      status: 'firing' as const,
      startsAt: '2026-01-01T00:00:00.000Z',
      labels: { alertname: 'HighLatency', service: 'web' },
    };
    expect(chooseChecklist(setup.checklists, incident({ alerts: [alert] })).name).toBe('web-latency');
    expect(chooseChecklist(setup.checklists, incident()).name).toBe('default');
    expect(chooseChecklist([], incident()).name).toBe('built-in');
  });
});

describe('nudges on new results', () => {
  const h1 = {
    id: 'H1',
    text: 'the database is overloaded',
    category: 'database' as const,
    state: 'suspected' as const,
    suspectedAt: '2026-01-01T00:00:00.000Z',
  };
  it('say so for an open database hypothesis when an LB check fails', () => {
    const [n] = nudgesFor(incident({ hypotheses: [h1] }), skewed, '2026-01-01T00:01:00.000Z');
    expect(n).toMatchObject({ kind: 'note', actor: { type: 'bot' } });
    expect((n as { text: string }).text).toMatch(
      /^Before digging into the database: web1 takes 99% of requests on edge\b.*33%.*\(re H1: the database is overloaded\)$/,
    );
  });

  it('stay quiet for settled hypotheses and for results that say nothing about them', () => {
    const at = '2026-01-01T00:01:00.000Z';
    expect(nudgesFor(incident({ hypotheses: [{ ...h1, state: 'ruled-out' }] }), skewed, at)).toEqual([]);
    const passing = { ...skewed, verdict: 'pass' as const, bears: [] };
    expect(nudgesFor(incident({ hypotheses: [h1] }), passing, at)).toEqual([]);
    const dbOk: CheckResult = {
      ...passing,
      checkId: 'database',
      target: 'database',
      summary: 'database reachable and fast (3 ms)',
      servers: [],
      bears: [{ hypothesis: 'database', effect: 'rules-out' }],
    };
    expect(nudgesFor(incident({ hypotheses: [h1] }), dbOk, at)[0]).toMatchObject({
      text: expect.stringContaining('Evidence against the database: database on database passed'),
    });
    const net = { ...h1, category: 'network' as const };
    expect(nudgesFor(incident({ hypotheses: [net] }), dbOk, at)).toEqual([]);
  });
});

describe('the window the checks read', () => {
  const now = new Date('2026-01-01T12:00:00.000Z');
  const alert = (startsAt: string) => ({
    alertGroupId: 'g',
    fingerprint: 'f',
    name: 'a',
    status: 'firing' as const,
    startsAt,
    labels: {},
  });
  it('reaches back 15 minutes before the first alert on open, and only the last 15 minutes on a re-run', () => {
    const inc = incident({
      declaredAt: '2026-01-01T11:50:00.000Z',
      alerts: [alert('2026-01-01T11:30:00.000Z')],
    });
    expect(incidentWindow(inc, now, 1).from.toISOString()).toBe('2026-01-01T11:15:00.000Z');
    expect(incidentWindow(inc, now, 2).from.toISOString()).toBe('2026-01-01T11:45:00.000Z');
    expect(incidentWindow(inc, now, 2).to).toBe(now);
  });
  it('never reads more than 6 hours, however old the alert', () => {
    const inc = incident({ alerts: [alert('2024-05-01T10:00:07.123Z')] });
    expect(incidentWindow(inc, now, 1).from.toISOString()).toBe('2026-01-01T06:00:00.000Z');
  });
});
