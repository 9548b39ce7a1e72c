import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './lab.js';

/** A running Prometheus Alertmanager (Debian's prometheus-alertmanager) on loopback. */
export interface RunningAlertmanager {
  /** Its API base, e.g. `http://127.0.0.1:9093` (push alerts to `${url}/api/v2/alerts`). */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts Alertmanager with one route (grouped by alertname and service, `group_wait: 0s`,
 * `group_interval: 1s`) whose webhook receiver is `webhookUrl`, sending `send_resolved` and the
 * bearer `token`; resolves once it logs "Listening". Throws with the apt-get hint when the binary
 * is missing.
 */
export async function startAlertmanager(webhookUrl: string, token: string): Promise<RunningAlertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'incident-bot-am-'));
  writeFileSync(
    join(dir, 'alertmanager.yml'),
    `route:
  receiver: hook
  group_by: [alertname, service]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: ${webhookUrl}
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${token}
`,
  );
  const port = await freePort();
  const am: ChildProcess = spawn(
    'prometheus-alertmanager',
    [
      `--config.file=${join(dir, 'alertmanager.yml')}`,
      `--storage.path=${dir}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const failed = once(am, 'error').then(([err]) => {
    throw new Error(`cannot start prometheus-alertmanager (apt-get install prometheus-alertmanager): ${err}`);
  });
  // Alertmanager logs "Listening on" once its API accepts requests.
  const listening = new Promise<void>((resolve) => {
    let log = '';
    am.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
      if (log.includes('Listening')) resolve();
    });
  });
  await Promise.race([listening, failed]);
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (am.exitCode === null) {
        am.kill('SIGTERM');
        await once(am, 'exit');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
