import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, get, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';

/** The lab scenarios: each a real load balancer in front of real node HTTP backends. */
export type LabScenario = 'healthy-even' | 'skewed-weights' | 'one-down' | 'empty-pool-route' | 'pinned';

/** A running lab: files it wrote, the URLs it serves, and how to drive and stop it. */
export interface Lab {
  kind: 'haproxy' | 'nginx';
  scenario: LabScenario;
  dir: string;
  /** targets.yml pointing at this lab. */
  targetsPath: string;
  frontendUrl: string;
  statsUrl?: string;
  statsSocket?: string;
  logPath: string;
  configPath: string;
  /** When the lab started sending traffic and when the last logged request was answered. */
  startedAt: Date;
  /** Sends `count` GETs (paths cycling through `paths`) with bounded concurrency; resolves when all answered. */
  send(count: number, paths?: string[]): Promise<void>;
  /** Resolves once the access log holds at least `lines` lines. */
  waitForLog(lines: number): Promise<void>;
  stop(): Promise<void>;
}

/** A free loopback TCP port (bound then released; fine for a test lab). */
export async function freePort(): Promise<number> {
  const srv = createNetServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const port = (srv.address() as { port: number }).port;
  srv.close();
  await once(srv, 'close');
  return port;
}

async function backend(name: string): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
    res.end(`${name}\n`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

function request(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

async function sendAll(base: string, count: number, paths: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await request(`${base}${paths[i % paths.length]}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
}

function countLines(path: string): number {
  try {
    const text = readFileSync(path, 'latin1');
    let n = 0;
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
    return n;
  } catch {
    return 0;
  }
}

const DAY = 86_400_000;

/** Makes the config look two days old, so recent-change does not flag the lab's freshly written file. */
function ageFile(path: string): void {
  const t = new Date(Date.now() - 2 * DAY);
  utimesSync(path, t, t);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

async function startBackends(names: string[]) {
  const started = await Promise.all(names.map((n) => backend(n)));
  return started.map((b, i) => ({ name: names[i]!, ...b }));
}

/**
 * Waits for HAProxy to have logged `lines` requests. HAProxy writes its log without blocking and
 * drops a few lines when it is starved of CPU (seen on a loaded 2-core CI machine: 297 of 300), so
 * a count that has stopped growing for 2 s at 97% or more of `lines` is accepted too: the checks
 * that read this log are statistical and do not depend on every line.
 */
async function waitForHaproxyLog(logPath: string, lines: number): Promise<void> {
  let last = -1;
  let since = Date.now();
  await eventually(() => {
    const n = countLines(logPath);
    if (n >= lines) return;
    if (n !== last) {
      last = n;
      since = Date.now();
    }
    if (n >= Math.ceil(lines * 0.97) && Date.now() - since >= 2000) return;
    throw new Error(`${logPath}: ${n} of ${lines} log lines so far`);
  }, 20_000);
}

/** Starts HAProxy 2.6 (foreground, `log stdout format raw` into a file) with backends for `scenario`. */
export async function startHaproxyLab(scenario: LabScenario): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), `lab-haproxy-${scenario}-`));
  const backs = await startBackends(['web1', 'web2', 'web3']);
  const closedPort = await freePort();
  const closedPort2 = await freePort();
  const [fePort, statsPort] = [await freePort(), await freePort()];
  const weights = scenario === 'skewed-weights' ? [100, 1, 1] : [1, 1, 1];
  const chk = 'check inter 100ms fall 1 rise 1';
  const servers = backs.map((b, i) => {
    const port = scenario === 'one-down' && i === 2 ? closedPort : b.port;
    return `  server ${b.name} 127.0.0.1:${port} weight ${weights[i]} ${chk}`;
  });
  const socket = join(dir, 'admin.sock');
  const cfg = [
    'global',
    '  log stdout format raw local0',
    `  stats socket ${socket} mode 600 level admin`,
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  timeout connect 1s',
    '  timeout client 5s',
    '  timeout server 5s',
    'frontend fe',
    `  bind 127.0.0.1:${fePort}`,
    '  acl is_api path_beg /api',
    '  use_backend api if is_api',
    '  default_backend app',
    'backend app',
    `  balance ${scenario === 'pinned' ? 'source' : 'roundrobin'}`,
    ...servers,
    'backend api',
    `  server api1 127.0.0.1:${scenario === 'empty-pool-route' ? closedPort : backs[0]!.port} ${chk}`,
    `  server api2 127.0.0.1:${scenario === 'empty-pool-route' ? closedPort2 : backs[1]!.port} ${chk}`,
    'listen stats',
    `  bind 127.0.0.1:${statsPort}`,
    '  stats enable',
    '  stats uri /stats',
    '',
  ].join('\n');
  const configPath = join(dir, 'haproxy.cfg');
  writeFileSync(configPath, cfg);
  ageFile(configPath);
  const logPath = join(dir, 'haproxy.log');
  const out = openSync(logPath, 'a');
  const child = spawn('haproxy', ['-db', '-f', configPath], {
    stdio: ['ignore', out, 'pipe'],
    env: { ...process.env, TZ: 'UTC' },
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const statsUrl = `http://127.0.0.1:${statsPort}/stats;csv`;
  const expectDown =
    scenario === 'one-down' ? ['app,web3'] : scenario === 'empty-pool-route' ? ['api,api1', 'api,api2'] : [];
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${stderr}`);
    const csv = await (await fetch(statsUrl)).text();
    for (const key of expectDown) {
      const row = csv.split('\n').find((l) => l.startsWith(`${key},`));
      if (!row?.includes(',DOWN,')) throw new Error(`${key} not DOWN yet`);
    }
    if (!/,UP,/.test(csv)) throw new Error('no server UP yet');
  }, 10_000);
  const frontendUrl = `http://127.0.0.1:${fePort}`;
  const targetsPath = join(dir, 'targets.yml');
  writeFileSync(
    targetsPath,
    [
      'loadBalancers:',
      '  - name: edge',
      '    kind: haproxy',
      `    stats: ${statsUrl}`,
      `    log: ${logPath}`,
      `    config: ${configPath}`,
      'probes:',
      '  allow: [127.0.0.0/8]',
      '  database: { kind: postgres, url: "postgres://postgres@127.0.0.1:5432/test" }',
      'thresholds: { statsSampleMs: 0 }',
      '',
    ].join('\n'),
  );
  return {
    kind: 'haproxy',
    scenario,
    dir,
    targetsPath,
    frontendUrl,
    statsUrl,
    statsSocket: socket,
    logPath,
    configPath,
    startedAt: new Date(),
    send: (count, paths = ['/']) => sendAll(frontendUrl, count, paths),
    waitForLog: (lines) => waitForHaproxyLog(logPath, lines),
    stop: async () => {
      await stopChild(child);
      await Promise.all(backs.map((b) => new Promise((r) => b.server.close(r))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The access log format the nginx lab writes (combined plus `$upstream_addr` and `$upstream_status`). */
export const LAB_NGINX_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $upstream_addr $upstream_status';

/** Starts nginx (foreground, own prefix and pid in a temp dir) with backends for `scenario` (`pinned` uses `ip_hash`). */
export async function startNginxLab(scenario: LabScenario): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), `lab-nginx-${scenario}-`));
  // nginx logs only addresses, so the api pool gets its own server (an address in two upstreams is ambiguous).
  const backs = await startBackends(['web1', 'web2', 'web3', 'api1']);
  const closedPort = await freePort();
  const port = await freePort();
  const weights = scenario === 'skewed-weights' ? [100, 1, 1] : [1, 1, 1];
  const app = backs.slice(0, 3).map((b, i) => {
    if (scenario === 'one-down' && i === 2) return `    server 127.0.0.1:${closedPort} down;`;
    return `    server 127.0.0.1:${b.port} weight=${weights[i]};`;
  });
  const apiServers =
    scenario === 'empty-pool-route'
      ? [
          `    server 127.0.0.1:${closedPort} down;`,
          `    server 127.0.0.1:${closedPort + 0} down;`
            .replace(`${closedPort} down`, `${closedPort} backup`)
            .replace('backup', 'down'),
        ]
      : [`    server 127.0.0.1:${backs[3]!.port};`];
  const logPath = join(dir, 'access.log');
  const conf = [
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 256; }',
    'http {',
    `  log_format lab '${LAB_NGINX_FORMAT}';`,
    `  access_log ${logPath} lab;`,
    `  client_body_temp_path ${dir}/body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    '  upstream app {',
    ...(scenario === 'pinned' ? ['    ip_hash;'] : []),
    ...app,
    '  }',
    '  upstream api {',
    ...[...new Set(apiServers)],
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    '    location /api/ { proxy_pass http://api; }',
    '    location / { proxy_pass http://app; }',
    '  }',
    '}',
    '',
  ].join('\n');
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, conf);
  ageFile(configPath);
  const child = spawn('nginx', ['-p', dir, '-c', configPath, '-g', 'daemon off; user root;'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const frontendUrl = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    await fetch(`${frontendUrl}/__ready`);
  }, 10_000);
  const targetsPath = join(dir, 'targets.yml');
  writeFileSync(
    targetsPath,
    [
      'loadBalancers:',
      '  - name: web',
      '    kind: nginx',
      `    accessLog: ${logPath}`,
      `    logFormat: '${LAB_NGINX_FORMAT}'`,
      `    config: ${configPath}`,
      '',
    ].join('\n'),
  );
  return {
    kind: 'nginx',
    scenario,
    dir,
    targetsPath,
    frontendUrl,
    logPath,
    configPath,
    startedAt: new Date(),
    send: (count, paths = ['/']) => sendAll(frontendUrl, count, paths),
    waitForLog: (lines) => waitForHaproxyLog(logPath, lines),
    stop: async () => {
      await stopChild(child);
      await Promise.all(backs.map((b) => new Promise((r) => b.server.close(r))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
