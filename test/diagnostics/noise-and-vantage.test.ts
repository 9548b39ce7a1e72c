import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConnectProbe, checkBackendConnect } from '../../src/diagnostics/checks/red-herrings.js';
import { checkRouting } from '../../src/diagnostics/checks/routing.js';
import type { Pool } from '../../src/diagnostics/model.js';
import { parseHaproxyHttpLogLine } from '../../src/diagnostics/sources/haproxy-log.js';
import { summarizeHaproxyHttpLog } from '../../src/diagnostics/sources/haproxy-log-scan.js';
import { summarizeAccessLog, toLineParser } from '../../src/diagnostics/sources/log-window.js';
import { compileNginxLogFormat } from '../../src/diagnostics/sources/nginx-log.js';
import { DEFAULT_THRESHOLDS } from '../../src/diagnostics/thresholds.js';

const dir = mkdtempSync(join(tmpdir(), 'noise-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(lines: string[]): string {
  const path = join(dir, `${n++}.log`);
  writeFileSync(path, `${lines.join('\n')}\n`, 'latin1');
  return path;
}
const ALL = { from: new Date(0), to: new Date('2100-01-01T00:00:00Z') };

const served = (i: number, server = `web${(i % 3) + 1}`, term = '----', status = 200) =>
  `10.0.${i % 7}.9:${40000 + i} [12/Mar/2024:10:00:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}] fe app/${server} 0/0/1/2/3 ${status} 512 - - ${term} 1/1/0/0/0 0/0 "GET /x HTTP/1.1"`;
// Port scanners, TCP health probes and broken clients, as HAProxy 2.6 logs them
// (https://docs.haproxy.org/2.6/configuration.html#8.5).
const BADREQ =
  '10.9.9.9:5555 [12/Mar/2024:10:00:10.000] fe fe/<NOSRV> -1/-1/-1/-1/0 400 0 - - CR-- 1/1/0/0/0 0/0 "<BADREQ>"';
const SLOW =
  '10.9.9.8:5556 [12/Mar/2024:10:00:11.000] fe fe/<NOSRV> -1/-1/-1/-1/5001 408 212 - - cR-- 1/1/0/0/0 0/0 "<BADREQ>"';
const NOSRV = (i: number) =>
  `10.0.0.${i % 200}:${50000 + i} [12/Mar/2024:10:00:20.${String(i).padStart(3, '0')}] fe api/<NOSRV> 0/-1/-1/-1/0 503 217 - - SC-- 1/1/0/0/0 0/0 "GET /api/orders HTTP/1.1"`;

const pools: Pool[] = [
  {
    name: 'app',
    algo: 'roundrobin',
    servers: ['web1', 'web2', 'web3'].map((name) => ({
      name,
      status: 'UP',
      usable: true,
      weight: 1,
      backup: false,
    })),
  },
  {
    name: 'api',
    servers: [{ name: 'api1', status: 'UP', usable: true, weight: 1, backup: false }],
  },
];

describe('client noise in the load balancer log', () => {
  it('does not fail routing on one malformed request and one slow client among thousands, and still reports them', async () => {
    const path = file([...Array.from({ length: 3000 }, (_, i) => served(i)), BADREQ, SLOW]);
    const log = await summarizeHaproxyHttpLog(path, ALL);
    expect(log.noServer).toEqual([]);
    expect(log.noise).toEqual({
      'malformed request rejected before routing': 1,
      'client too slow to send a request (408)': 1,
    });
    // the byte scanner and the full parser agree on noise
    const ref = await summarizeAccessLog(
      path,
      toLineParser((l) => parseHaproxyHttpLogLine(l)),
      ALL,
    );
    expect(log).toEqual(ref);
    const r = checkRouting({ target: 'edge', pools, noServer: log.noServer, liveStatus: true, log });
    expect(r.verdict).toBe('pass');
    expect(r.evidence.join('\n')).toContain(
      '1 malformed request rejected before routing: client noise, ignored',
    );
  });

  it('reads every termination state alike in the byte scanner and the full parser, with and without a syslog header', async () => {
    const lines: string[] = [];
    let i = 0;
    for (const t0 of '-CcPLSsRIDKU')
      for (const t1 of '-RQCHDLT')
        for (const status of ['400', '403', '408', '503', '-1', '200']) {
          const l = `10.0.0.${i % 9}:${40000 + i} [12/Mar/2024:10:00:00.${String(i % 1000).padStart(3, '0')}] fe app/<NOSRV> -1/-1/-1/-1/0 ${status} 0 - - ${t0}${t1}-- 1/1/0/0/0 0/0 "<BADREQ>"`;
          lines.push(i % 2 ? `Mar 12 10:00:00 lb haproxy[1]: ${l}` : l);
          i++;
        }
    const path = file(lines);
    const fast = await summarizeHaproxyHttpLog(path, ALL);
    const ref = await summarizeAccessLog(
      path,
      toLineParser((l) => parseHaproxyHttpLogLine(l)),
      ALL,
    );
    expect(fast).toEqual(ref);
    expect(Object.keys(fast.noise ?? {}).length).toBeGreaterThan(3);
    // what is left is the load balancer's own: server-side, resource and internal states
    expect(fast.noServer[0]!.requests).toBeGreaterThan(0);
  });

  it('counts HAProxy health check results and server state changes as event lines, not unparsable ones', async () => {
    const path = file([
      served(1),
      'Health check for server app/web1 succeeded, reason: Layer4 check passed, check duration: 0ms, status: 1/1 UP.',
      'Server app/web3 is going DOWN for maintenance. 2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.',
      'Mar 12 10:00:00 lb haproxy[1]: Server app/web3 enters drain state. 2 active and 0 backup servers online.',
      'not a log line at all',
    ]);
    const fast = await summarizeHaproxyHttpLog(path, ALL);
    expect(fast.problems).toEqual({ unparsable: 1, binary: 0, truncated: 0, events: 3 });
    expect(fast).toEqual(
      await summarizeAccessLog(
        path,
        toLineParser((l) => parseHaproxyHttpLogLine(l)),
        ALL,
      ),
    );
  });

  it('fails routing when the load balancer itself had no server for enough of the requests (503 SC--)', async () => {
    const path = file([
      ...Array.from({ length: 300 }, (_, i) => served(i)),
      ...Array.from({ length: 40 }, (_, i) => NOSRV(i)),
    ]);
    const log = await summarizeHaproxyHttpLog(path, ALL);
    const r = checkRouting({ target: 'edge', pools, noServer: log.noServer, liveStatus: true, log });
    expect(r.verdict).toBe('fail');
    expect(r.summary).toBe('40 requests to api found no server');
  });

  it('notes but does not fail a handful of 503s with no server below the count and share thresholds', async () => {
    const path = file([
      ...Array.from({ length: 3000 }, (_, i) => served(i)),
      ...Array.from({ length: 3 }, (_, i) => NOSRV(i)),
    ]);
    const log = await summarizeHaproxyHttpLog(path, ALL);
    const r = checkRouting({ target: 'edge', pools, noServer: log.noServer, liveStatus: true, log });
    expect(r.verdict).toBe('pass');
    expect(r.notes.join('\n')).toContain(
      `3 request(s) to api found no server (0.1% of 3003): below the finding threshold (${DEFAULT_THRESHOLDS.noServerMinCount} requests`,
    );
  });

  it('counts connections the load balancer failed to a server (SC with a server name) per server', async () => {
    const path = file([
      ...Array.from({ length: 30 }, (_, i) => served(i)),
      served(1, 'web2', 'SC--', 503),
      served(2, 'web2', 'SC--', 503),
    ]);
    const log = await summarizeHaproxyHttpLog(path, ALL);
    expect(log.servers.find((s) => s.server === 'web2')?.connectFailures).toBe(2);
    expect(log.servers.find((s) => s.server === 'web1')?.connectFailures).toBe(0);
  });

  it('reads nginx 400 and 408 answered without an upstream as client noise, and no live upstreams as no server', () => {
    const p = compileNginxLogFormat(
      '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $upstream_addr $upstream_status',
    );
    const bad = p.parse('10.1.1.1 - - [12/Mar/2024:10:00:00 +0000] "\\x16\\x03\\x01" 400 157 "-" "-" - -');
    expect(bad?.noise).toBe('malformed request rejected before routing');
    const retried = p.parse(
      '10.1.1.2 - - [12/Mar/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 15 "-" "-" 10.0.1.13:80, 10.0.1.11:80 502, 200',
    );
    expect([retried?.server, retried?.failedUpstreams, retried?.serverStatus]).toEqual([
      '10.0.1.11:80',
      ['10.0.1.13:80'],
      200,
    ]);
    const none = p.parse(
      '10.1.1.1 - - [12/Mar/2024:10:00:00 +0000] "GET /api/x HTTP/1.1" 502 157 "-" "-" api 502',
    );
    expect([none?.noServer, none?.noise]).toEqual([true, undefined]);
  });
});

const probe = (server: string, lb: ConnectProbe['lb'], ok = false): ConnectProbe => ({
  backend: 'app',
  server,
  address: `10.0.1.1${server.slice(-1)}:8080`,
  usable: true,
  status: 'UP',
  probe: ok ? { ok: true, ms: 0.4 } : { ok: false, ms: 0.4, error: 'ECONNREFUSED' },
  lb,
});

describe('backend-connect weighs the bot probe against the load balancer', () => {
  it('warns, and does not support the network hypothesis, when the bot cannot connect but the load balancer serves', () => {
    const r = checkBackendConnect({
      target: 'edge',
      probes: [
        probe('web1', { checkStatus: 'L7OK', served: 2406, servedWhen: 'in the window' }),
        probe('web2', { checkStatus: 'L7OK', served: 2406, servedWhen: 'in the window' }),
      ],
    });
    expect(r.verdict).toBe('warn');
    expect(r.summary).toContain(
      "web1, web2 unreachable from incident-bot's host, but the load balancer's health checks pass and it served 4,812 responses in the window: the bot may be on another network",
    );
    expect(r.bears).toEqual([]);
    expect(r.seenFrom).toEqual(['bot-probe', 'lb-health-checks', 'lb-log']);
    expect(r.evidence[0]).toContain(
      "ECONNREFUSED from incident-bot's host; the load balancer saw: health check L7OK",
    );
  });

  it('fails and supports the network hypothesis when the load balancer also failed to connect', () => {
    const r = checkBackendConnect({
      target: 'edge',
      probes: [
        probe('web1', { checkStatus: 'L7OK', served: 900, connectFailures: 12, servedWhen: 'in the window' }),
        probe('web2', { checkStatus: 'L4CON' }),
        probe('web3', { checkStatus: 'L7OK', served: 900 }, true),
      ],
    });
    expect(r.verdict).toBe('fail');
    expect(r.summary).toContain(
      'web1 unreachable (ECONNREFUSED), and the load balancer failed to connect too',
    );
    expect(r.summary).toContain('web2 unreachable');
    expect(r.bears).toEqual([{ hypothesis: 'network', effect: 'supports' }]);
  });

  it('rules out the network when every usable server connects quickly', () => {
    const r = checkBackendConnect({ target: 'edge', probes: [probe('web1', { checkStatus: 'L7OK' }, true)] });
    expect(r.verdict).toBe('pass');
    expect(r.bears).toEqual([{ hypothesis: 'network', effect: 'rules-out' }]);
  });
});
