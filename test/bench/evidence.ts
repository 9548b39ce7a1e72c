import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type SandboxMessage, startSandbox } from '../../src/sandbox/index.js';
import { shown } from '../diagnostics-e2e/helpers.js';
import { startHaproxyLab } from '../support/lab.js';
import { cleanPrefix } from '../support/redis.js';
import {
  type Bench,
  benchPrefix,
  type Child,
  freePort,
  median,
  printTable,
  quantile,
  REDIS_URL,
  SIGNING_SECRET,
  spawnNode,
  waitHttp,
} from './common.js';

const INCIDENTS = Number(process.env.BENCH_EVIDENCE_INCIDENTS ?? 20);
const TOKEN = 'bench-alert-token-0123456789abcdef';
/** The target the issue sets: the load-balancer verdict on the checklist within 10 s of the webhook, at p99. */
const TARGET_P99_MS = 10_000;
/** The traffic-distribution item's label in the default and web-latency checklist templates. */
const TRAFFIC_ITEM = /Traffic split matches the weights|Is one server taking most of the traffic/;

/** An Alertmanager webhook (payload version 4, as Alertmanager 0.25 sends it) for a new alert group `i`. */
function webhook(i: number): string {
  const labels = { alertname: 'CheckoutLatency', service: `checkout-${i}`, severity: 'critical' };
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="CheckoutLatency", service="checkout-${i}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'incident-bot',
    groupLabels: { alertname: 'CheckoutLatency', service: `checkout-${i}` },
    commonLabels: labels,
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts: [
      {
        status: 'firing',
        labels,
        annotations: { summary: `Checkout p99 latency above 2 s (bench ${i})` },
        startsAt: new Date().toISOString(),
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://127.0.0.1:9090/graph',
        fingerprint: `bench${String(i).padStart(11, '0')}`,
      },
    ],
  });
}

/**
 * Webhook to load-balancer verdict: for each of INCIDENTS alert groups, posts an Alertmanager webhook to the
 * web process and times until the incident channel's checklist message shows the traffic-distribution verdict
 * on the real HAProxy lab (skewed weights), with default thresholds: no access log, so the check takes two
 * `show stat` samples `statsSampleMs` (5 s) apart. One incident at a time, traffic flowing through HAProxy.
 */
export const evidenceBench: Bench = {
  name: 'evidence',
  description: `Alertmanager webhook to the checklist showing the load-balancer verdict, ${INCIDENTS} incidents, real HAProxy lab, default settings`,
  async run() {
    const lab = await startHaproxyLab('skewed-weights');
    const dir = mkdtempSync(join(tmpdir(), 'ib-bench-evidence-'));
    const targets = join(dir, 'targets.yml');
    // Default thresholds (statsSampleMs 5000): the stats path, the slowest a load-balancer verdict gets.
    writeFileSync(
      targets,
      [
        'loadBalancers:',
        '  - name: edge',
        '    kind: haproxy',
        `    stats: ${lab.statsUrl}`,
        `    config: ${lab.configPath}`,
        'probes:',
        '  allow: [127.0.0.0/8]',
        '',
      ].join('\n'),
    );
    const sandbox = await startSandbox({ port: 0 });
    const prefix = benchPrefix('evidence');
    const port = await freePort();
    const env = {
      SLACK_BOT_TOKEN: sandbox.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: sandbox.apiUrl,
      REDIS_URL,
      REDIS_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      ALERT_WEBHOOK_TOKEN: TOKEN,
      DIAGNOSTICS_CONFIG: targets,
      POSTMORTEM_DIR: mkdtempSync(join(tmpdir(), 'ib-bench-pm-')),
    };
    const children: Child[] = [];
    let traffic = true;
    // About 150 requests/s through HAProxy all along, so each stats sample pair sees the weights at work.
    const load = (async () => {
      while (traffic) {
        await lab.send(30);
        await sleep(150);
      }
    })();
    try {
      const web = spawnNode('src/web.ts', { ...env, PORT: String(port) });
      const worker = spawnNode('src/worker.ts', { ...env, PORT: '0' });
      children.push(web, worker);
      await waitHttp(`http://127.0.0.1:${port}/healthz`, web);

      const rows: { incident: number; checklistMs: number; verdictMs: number; verdict: string }[] = [];
      for (let i = 1; i <= INCIDENTS; i++) {
        const after = sandbox.seq;
        const t0 = performance.now();
        const res = await fetch(`http://127.0.0.1:${port}/alerts/alertmanager`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: webhook(i),
        });
        if (res.status !== 202) throw new Error(`webhook ${i} answered ${res.status}: ${await res.text()}`);
        const created = await sandbox.waitFor((e) => e.method === 'conversations.create' && e.ok, {
          after,
          timeoutMs: 60_000,
        });
        const channel = sandbox.channelByName(String(created.args.name))!.id;
        const isChecklist = (m: SandboxMessage) => !!m.bot_id && / checklist: /.test(shown(m));
        const checklist = await sandbox.waitForMessage(isChecklist, { channel, timeoutMs: 60_000 });
        const checklistMs = performance.now() - t0;
        // Every load-balancer row done (none `running…`), and the traffic-distribution row's verdict.
        const verdictOf = () => {
          const m = sandbox.message(channel, checklist.ts);
          const text = m ? shown(m) : '';
          if (text.includes('running…')) return undefined;
          const lines = text.split('\n');
          const item = lines.findIndex((l) => TRAFFIC_ITEM.test(l));
          return lines
            .slice(item + 1, item + 3)
            .map((l) => /\*edge\* \*(pass|warn|fail|error|skipped)\*/.exec(l)?.[1])
            .find(Boolean);
        };
        await sandbox.waitForMessage((m) => m.ts === checklist.ts && !!verdictOf(), {
          channel,
          timeoutMs: 60_000,
        });
        rows.push({ incident: i, checklistMs, verdictMs: performance.now() - t0, verdict: verdictOf()! });
      }
      const sorted = rows.map((r) => r.verdictMs).sort((a, b) => a - b);
      const shownSorted = rows.map((r) => r.checklistMs).sort((a, b) => a - b);
      const summary = {
        incidents: rows.length,
        statsSampleMs: 5000,
        checklistPostedP50Ms: Math.round(quantile(shownSorted, 0.5)),
        verdictP50Ms: Math.round(quantile(sorted, 0.5)),
        verdictP99Ms: Math.round(quantile(sorted, 0.99)),
        verdictMaxMs: Math.round(sorted.at(-1)!),
        verdictMedianMs: Math.round(median(sorted)),
        targetP99Ms: TARGET_P99_MS,
        met: quantile(sorted, 0.99) < TARGET_P99_MS,
        verdicts: [...new Set(rows.map((r) => r.verdict))],
      };
      printTable(
        'webhook to checklist (ms)',
        rows.map((r) => ({
          incident: r.incident,
          'checklist posted': Math.round(r.checklistMs),
          'LB verdict shown': Math.round(r.verdictMs),
          verdict: r.verdict,
        })),
      );
      printTable('summary', [summary]);
      return { ...summary, rows };
    } finally {
      traffic = false;
      await load.catch(() => {});
      for (const c of children) await c.stop();
      await sandbox.close();
      await lab.stop();
      await cleanPrefix(prefix, REDIS_URL);
    }
  },
};
