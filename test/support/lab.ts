import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, get, type Server } from 'node:http';
import { connect as connectTcp, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';

/** The lab scenarios: each a real load balancer in front of real node HTTP backends. */
export type LabScenario =
  | 'healthy-even'
  | 'skewed-weights'
  | 'one-down'
  | 'empty-pool-route'
  | 'pinned'
  | NoisyScenario;

/**
 * Scenarios with what production has: every one sends client noise too (malformed requests, clients that
 * connect and send nothing or too little, health probes answered by the proxy) from several loopback client
 * addresses, and none of them is a fault except `max-fails` (a dead server nginx keeps retrying around).
 */
export type NoisyScenario =
  | 'noisy-even'
  | 'leastconn-slow'
  | 'balance-uri'
  | 'cookie'
  | 'backup'
  | 'slowstart'
  | 'drain'
  | 'max-fails'
  | 'hash-consistent'
  | 'one-session'
  | 'many-sessions';

/** The noisy scenarios each load balancer has. */
export const NOISY_SCENARIOS: Record<'haproxy' | 'nginx', NoisyScenario[]> = {
  haproxy: [
    'noisy-even',
    'leastconn-slow',
    'balance-uri',
    'cookie',
    'backup',
    'slowstart',
    'drain',
    'one-session',
    'many-sessions',
  ],
  nginx: ['noisy-even', 'leastconn-slow', 'max-fails', 'hash-consistent', 'one-session', 'many-sessions'],
};

const isNoisy = (s: LabScenario): s is NoisyScenario =>
  !['healthy-even', 'skewed-weights', 'one-down', 'empty-pool-route', 'pinned'].includes(s);

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
  /**
   * Sends the scenario's traffic as production would see it: `count` requests from 8 loopback client addresses
   * (127.0.0.1-8; some with a persistence cookie in `cookie`), the paths the scenario needs, and client noise.
   * Resolves with the number of lines the log should then hold (those already there included).
   */
  sendRealistic(count: number): Promise<number>;
  /** Backend addresses that refuse connections in this scenario (`127.0.0.1:port`). */
  refused: string[];
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

async function backend(name: string, delayMs = 0): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((req, res) => {
    req.resume();
    // A slower server (leastconn scenarios): the delay is the server's work, not a test wait.
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' });
      res.end(`${name}\n`);
    };
    // `/slow` is a page that takes a while, so a client can give up before the answer (a client abort).
    const delay = req.url?.startsWith('/slow') ? 300 : delayMs;
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

function request(url: string, opts: { localAddress?: string; cookie?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = opts.cookie ? { cookie: opts.cookie } : undefined;
    get(url, { agent: false, localAddress: opts.localAddress, headers }, (res) => {
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

/**
 * Sends `count` requests from 8 client addresses (127.0.0.1-8, round robin), the `i`-th with the Cookie header
 * `cookie(i)` when it gives one, 8 at a time; resolves when all were answered.
 */
async function sendFromClients(
  base: string,
  count: number,
  paths: string[],
  cookie: (i: number) => string | undefined = () => undefined,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await request(`${base}${paths[i % paths.length]}`, {
        localAddress: `127.0.0.${(i % 8) + 1}`,
        cookie: cookie(i),
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
}

/**
 * Opens a raw TCP connection, writes `data` (maybe nothing), and resolves when the proxy closes it; with `abort`
 * the client closes its side right after writing, before any answer (a client abort).
 */
function rawClient(port: number, data: string, localAddress = '127.0.0.9', abort = false): Promise<void> {
  return new Promise((resolve) => {
    const sock = connectTcp({ host: '127.0.0.1', port, localAddress }, () => {
      if (abort) sock.end(data);
      else if (data) sock.write(data);
    });
    sock.on('data', () => {});
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
  });
}

/**
 * Client noise as port scanners, TCP probes and broken clients make it: 2 malformed requests (400), 1 client
 * that sends half a request and waits (408 after the proxy's request timeout), 1 that connects and sends
 * nothing (HAProxy: 408 `<BADREQ>`; nginx logs nothing), 1 that asks for a slow page and hangs up before the
 * answer (nginx 499; HAProxy `C` termination state). Resolves with the lines they log.
 */
async function sendNoise(port: number, kind: 'haproxy' | 'nginx'): Promise<number> {
  await Promise.all([
    rawClient(port, 'HELLO\r\n\r\n'),
    rawClient(port, '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'),
    rawClient(port, 'GET /slow-client HTTP/1.1\r\nHost: x\r\n'),
    rawClient(port, ''),
    rawClient(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\n', '127.0.0.9', true),
  ]);
  return kind === 'haproxy' ? 5 : 4;
}

async function startBackends(names: string[], delays: Record<string, number> = {}) {
  const started = await Promise.all(names.map((n) => backend(n, delays[n])));
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
  const backs = await startBackends(
    ['web1', 'web2', 'web3'],
    scenario === 'leastconn-slow' ? { web3: 40 } : {},
  );
  const closedPort = await freePort();
  const closedPort2 = await freePort();
  const [fePort, statsPort] = [await freePort(), await freePort()];
  const weights =
    scenario === 'skewed-weights' ? [100, 1, 1] : scenario === 'slowstart' ? [10, 10, 10] : [1, 1, 1];
  const chk = 'check inter 100ms fall 1 rise 1';
  const extra = (i: number) =>
    scenario === 'backup' && i === 2
      ? ' backup'
      : scenario === 'slowstart' && i === 2
        ? ' slowstart 60s'
        : scenario === 'cookie'
          ? ` cookie web${i + 1}`
          : '';
  const servers = backs.map((b, i) => {
    const port = scenario === 'one-down' && i === 2 ? closedPort : b.port;
    return `  server ${b.name} 127.0.0.1:${port} weight ${weights[i]} ${chk}${extra(i)}`;
  });
  const noisy = isNoisy(scenario);
  const balance =
    scenario === 'pinned'
      ? 'source'
      : scenario === 'leastconn-slow'
        ? 'leastconn'
        : scenario === 'balance-uri'
          ? 'uri'
          : 'roundrobin';
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
    // Slow clients get a 408 after this (noisy scenarios only, so the older recordings' configs stay as they were).
    ...(noisy ? ['  timeout http-request 300ms'] : []),
    // Health check results in the log too, as many production configs have them (not request lines).
    ...(noisy ? ['  option log-health-checks'] : []),
    'frontend fe',
    `  bind 127.0.0.1:${fePort}`,
    // An external monitor's probe, answered by HAProxy itself (logged with termination state LR--).
    ...(noisy
      ? ['  http-request return status 200 content-type text/plain string ok if { path /healthz }']
      : []),
    // The session cookie in the log (%CC), as a site that keys on it would log it.
    ...(SESSION_SCENARIOS.includes(scenario) ? ['  capture cookie session= len 32'] : []),
    '  acl is_api path_beg /api',
    '  use_backend api if is_api',
    '  default_backend app',
    'backend app',
    `  balance ${balance}`,
    ...(scenario === 'cookie' ? ['  cookie SRV insert indirect nocache'] : []),
    ...(SESSION_SCENARIOS.includes(scenario)
      ? ['  stick-table type string len 32 size 10k expire 30m', '  stick on req.cook(session)']
      : []),
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
  if (scenario === 'slowstart') {
    // Out of maintenance and back: HAProxy ramps web3's weight up over its 60 s slowstart.
    await adminCommand(socket, 'disable server app/web3');
    await adminCommand(socket, 'enable server app/web3');
    await eventually(async () => {
      const row = (await (await fetch(statsUrl)).text()).split('\n').find((l) => l.startsWith('app,web3,'));
      if (!row?.includes(',UP,')) throw new Error('web3 not back UP yet');
    }, 10_000);
  }
  if (scenario === 'drain') {
    await adminCommand(socket, 'set server app/web3 state drain');
    await eventually(async () => {
      const row = (await (await fetch(statsUrl)).text()).split('\n').find((l) => l.startsWith('app,web3,'));
      if (!row?.includes(',DRAIN,')) throw new Error('web3 not DRAIN yet');
    }, 10_000);
  }
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
    sendRealistic: async (count) => {
      // Lines already there (stats fetches, health check results) count towards what waitForLog waits for.
      const before = countLines(logPath);
      await sendFromClients(frontendUrl, count, realisticPaths(scenario), realisticCookie(scenario));
      return before + count + (await sendNoise(fePort, 'haproxy'));
    },
    refused: [
      ...(scenario === 'one-down' ? [`127.0.0.1:${closedPort}`] : []),
      ...(scenario === 'empty-pool-route' ? [`127.0.0.1:${closedPort}`, `127.0.0.1:${closedPort2}`] : []),
    ],
    waitForLog: (lines) => waitForHaproxyLog(logPath, lines),
    stop: async () => {
      await stopChild(child);
      await Promise.all(backs.map((b) => new Promise((r) => b.server.close(r))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The Cookie header of a scenario's `i`-th request: `cookie` sends SRV=web2 (a returning client) one time in five;
 * `one-session` sends one session from every address four times in five (a load test or a scraper reusing one
 * login) and a session of its own otherwise; `many-sessions` 40 users' sessions spread over the addresses.
 */
function realisticCookie(scenario: LabScenario): (i: number) => string | undefined {
  if (scenario === 'cookie') return (i) => (i % 5 === 0 ? 'SRV=web2' : undefined);
  if (scenario === 'one-session') return (i) => `session=${i % 5 === 4 ? `u-${i}` : 'loadtest-7f3a'}`;
  if (scenario === 'many-sessions') return (i) => `session=u-${(i * 7) % 40}`;
  return () => undefined;
}

const SESSION_SCENARIOS: LabScenario[] = ['one-session', 'many-sessions'];

/** The paths a scenario's realistic traffic asks for: pages, the API, and one health probe in ten. */
function realisticPaths(scenario: LabScenario): string[] {
  if (scenario === 'balance-uri' || scenario === 'hash-consistent')
    return [...Array.from({ length: 39 }, (_, i) => `/item/${i * 7}`), '/healthz'];
  return ['/', '/', '/api/orders', '/', '/', '/api/orders', '/', '/', '/api/orders', '/healthz'];
}

/** Sends one command to HAProxy's admin socket (https://docs.haproxy.org/2.6/management.html#9.3) and resolves with its answer. */
function adminCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const sock = connectTcp(socket, () => sock.write(`${command}\n`));
    sock.on('data', (c: Buffer) => {
      out += c.toString();
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(out));
  });
}

/** The access log format the nginx lab writes (combined plus `$upstream_addr` and `$upstream_status`). */
export const LAB_NGINX_FORMAT =
  '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $upstream_addr $upstream_status';

/** Starts nginx (foreground, own prefix and pid in a temp dir) with backends for `scenario` (`pinned` uses `ip_hash`). */
export async function startNginxLab(scenario: LabScenario): Promise<Lab> {
  const dir = mkdtempSync(join(tmpdir(), `lab-nginx-${scenario}-`));
  // nginx logs only addresses, so the api pool gets its own server (an address in two upstreams is ambiguous).
  const backs = await startBackends(
    ['web1', 'web2', 'web3', 'api1'],
    scenario === 'leastconn-slow' ? { web3: 40 } : {},
  );
  const closedPort = await freePort();
  const port = await freePort();
  const weights = scenario === 'skewed-weights' ? [100, 1, 1] : [1, 1, 1];
  const noisy = isNoisy(scenario);
  // max-fails: web3 is dead but not marked down; nginx tries it, fails, retries the request on another server
  // ($upstream_addr lists both) and leaves it alone for fail_timeout.
  const failOpts = scenario === 'max-fails' ? ' max_fails=1 fail_timeout=30s' : '';
  const app = backs.slice(0, 3).map((b, i) => {
    if (scenario === 'one-down' && i === 2) return `    server 127.0.0.1:${closedPort} down;`;
    if (scenario === 'max-fails' && i === 2) return `    server 127.0.0.1:${closedPort} weight=1${failOpts};`;
    return `    server 127.0.0.1:${b.port} weight=${weights[i]}${failOpts};`;
  });
  const method =
    scenario === 'pinned'
      ? ['    ip_hash;']
      : scenario === 'leastconn-slow'
        ? ['    least_conn;']
        : scenario === 'hash-consistent'
          ? ['    hash $request_uri consistent;']
          : SESSION_SCENARIOS.includes(scenario)
            ? ['    hash $cookie_session consistent;']
            : [];
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
  // A site that hashes on its session cookie logs it too.
  const format = SESSION_SCENARIOS.includes(scenario)
    ? `${LAB_NGINX_FORMAT} $cookie_session`
    : LAB_NGINX_FORMAT;
  const conf = [
    'worker_processes 1;',
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/error.log warn;`,
    'events { worker_connections 256; }',
    'http {',
    `  log_format lab '${format}';`,
    `  access_log ${logPath} lab;`,
    `  client_body_temp_path ${dir}/body;`,
    `  proxy_temp_path ${dir}/proxy;`,
    '  upstream app {',
    ...method,
    ...app,
    '  }',
    '  upstream api {',
    ...[...new Set(apiServers)],
    '  }',
    '  server {',
    `    listen 127.0.0.1:${port};`,
    // Slow clients get a 408; an external monitor's probe is answered by nginx itself.
    ...(noisy ? ['    client_header_timeout 300ms;', "    location = /healthz { return 200 'ok'; }"] : []),
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
      `    logFormat: '${format}'`,
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
    sendRealistic: async (count) => {
      const before = countLines(logPath);
      await sendFromClients(frontendUrl, count, realisticPaths(scenario), realisticCookie(scenario));
      return before + count + (await sendNoise(port, 'nginx'));
    },
    refused: ['one-down', 'empty-pool-route', 'max-fails'].includes(scenario)
      ? [`127.0.0.1:${closedPort}`]
      : [],
    waitForLog: (lines) => waitForHaproxyLog(logPath, lines),
    stop: async () => {
      await stopChild(child);
      await Promise.all(backs.map((b) => new Promise((r) => b.server.close(r))));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
