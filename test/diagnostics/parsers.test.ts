import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHaproxyConfig } from '../../src/diagnostics/sources/haproxy-config.js';
import {
  newScanCache,
  parseHaproxyHttpLogLine,
  scanHaproxyHttpLogLine,
} from '../../src/diagnostics/sources/haproxy-log.js';
import { parseHaproxyStatsCsv } from '../../src/diagnostics/sources/haproxy-stats.js';
import { summarizeAccessLog } from '../../src/diagnostics/sources/log-window.js';
import { parseNginxConfig } from '../../src/diagnostics/sources/nginx-config.js';
import { compileNginxLogFormat } from '../../src/diagnostics/sources/nginx-log.js';

const REC = join(import.meta.dirname, '../fixtures/diagnostics/recordings');
const DOC_LINE =
  'Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1"';

describe('the HAProxy HTTP log parser', () => {
  it('reads every field of the documented example line, syslog header included', () => {
    const r = parseHaproxyHttpLogLine(DOC_LINE)!;
    expect(r).toMatchObject({
      client: '10.0.1.2',
      clientPort: 33317,
      frontend: 'http-in',
      backend: 'static',
      server: 'srv1',
      status: 200,
      bytesRead: 2750,
      termination: '----',
      method: 'GET',
      path: '/index.html',
      timers: { TR: 10, Tw: 0, Tc: 30, Tr: 69, Ta: 109 },
    });
    expect(new Date(r.time).toISOString()).toBe('2009-02-06T12:14:14.655Z');
  });

  it('agrees with the fast scanner on the example line', () => {
    const out = { time: 0, client: '', noServer: false, status: 0 };
    expect(scanHaproxyHttpLogLine(DOC_LINE, out, 0, newScanCache())).toBe(true);
    expect(out).toMatchObject({ client: '10.0.1.2', backend: 'static', server: 'srv1', status: 200 });
  });

  it('marks <NOSRV> requests as having no server and keeps their path', () => {
    const line = DOC_LINE.replace('static/srv1', 'api/<NOSRV>')
      .replace(' 200 ', ' 503 ')
      .replace('/index.html', '/api/x');
    const r = parseHaproxyHttpLogLine(line)!;
    expect(r.noServer).toBe(true);
    expect(r.server).toBeUndefined();
    expect(r.path).toBe('/api/x');
  });

  it('shifts %tr by the configured zone, since HAProxy logs local time without one', () => {
    const r = parseHaproxyHttpLogLine(DOC_LINE, 60)!;
    expect(new Date(r.time).toISOString()).toBe('2009-02-06T11:14:14.655Z');
  });

  it('rejects truncated and garbage lines instead of throwing', () => {
    for (const bad of [
      '',
      'garbage',
      DOC_LINE.slice(0, 90),
      '\u0000\u0001\u0002binary',
      DOC_LINE.replace('200', 'abc'),
    ]) {
      expect(parseHaproxyHttpLogLine(bad)).toBeUndefined();
    }
  });

  it('counts unparsable, binary and over-long lines in a real recorded log instead of crashing', async () => {
    const real = readFileSync(join(REC, 'haproxy-skewed-weights/haproxy.log'), 'latin1');
    const path = join(tmpdir(), `dirty-${process.pid}.log`);
    writeFileSync(
      path,
      `${real}not a log line\n\u0000\u0001\u00ff\u00fe\n${'x'.repeat(70_000)}\n${real.split('\n')[1]!.slice(0, 40)}\n`,
    );
    const cache = newScanCache();
    const s = await summarizeAccessLog(path, (l, o) => scanHaproxyHttpLogLine(l, o, 0, cache), {
      from: new Date(0),
      to: new Date('2100-01-01'),
    });
    expect(s.problems).toEqual({ unparsable: 2, binary: 1, truncated: 1, events: 0 });
    const app = s.servers.filter((x) => x.backend === 'app');
    expect(app.reduce((n, x) => n + x.requests, 0)).toBe(200);
  });
});

describe('the HAProxy show stat parser', () => {
  it('reads a real 2.6 capture by its header, servers and backends', () => {
    const snap = parseHaproxyStatsCsv(readFileSync(join(REC, 'haproxy-one-down/stats-2.csv'), 'utf8'));
    expect(snap.malformedRows).toBe(0);
    const web3 = snap.rows.find((r) => r.pxname === 'app' && r.svname === 'web3')!;
    expect(web3).toMatchObject({ type: 2, status: 'DOWN', checkStatus: 'L4CON', weight: 1 });
    expect(snap.rows.find((r) => r.pxname === 'app' && r.svname === 'BACKEND')?.type).toBe(1);
  });

  it('counts rows with the wrong number of cells and columns it does not know', () => {
    const csv =
      '# pxname,svname,status,type,weight,brand_new,\napp,web1,UP,2,1,x,\napp,web2,UP\n"a,b",web3,"say ""hi""",2,1,y,\n';
    const snap = parseHaproxyStatsCsv(csv);
    expect(snap.malformedRows).toBe(1);
    expect(snap.unknownColumns).toEqual(['brand_new']);
    expect(snap.rows.map((r) => [r.pxname, r.status])).toEqual([
      ['app', 'UP'],
      ['a,b', 'say "hi"'],
    ]);
  });

  it('returns nothing but a count for text without a header', () => {
    expect(parseHaproxyStatsCsv('<html>oops</html>')).toMatchObject({ rows: [], malformedRows: 1 });
  });
});

describe('the nginx log_format compiler', () => {
  it('parses the default combined format with an upstream list and an upstream group name', () => {
    const p = compileNginxLogFormat(
      '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $upstream_addr $upstream_status',
    );
    const tried = p.parse(
      '10.0.0.9 - - [10/Oct/2000:13:55:36 -0700] "GET /a?b=c HTTP/1.1" 200 612 "-" "curl/8" 10.0.0.1:80, 10.0.0.2:80 502, 200',
    )!;
    expect(tried.upstreamAddrs).toEqual(['10.0.0.1:80', '10.0.0.2:80']);
    expect(tried.server).toBe('10.0.0.2:80');
    expect(tried.vars.upstream_status).toBe('502, 200');
    expect(new Date(tried.time).toISOString()).toBe('2000-10-10T20:55:36.000Z');
    const none = p.parse(
      '10.0.0.9 - - [10/Oct/2000:13:55:36 +0000] "GET /api/x HTTP/1.1" 502 157 "-" "-" api 502',
    )!;
    expect(none).toMatchObject({ noServer: true, backend: 'api', path: '/api/x' });
  });

  it('parses an escape=json format by key', () => {
    const p = compileNginxLogFormat(
      '{"time":"$time_iso8601","client":"$remote_addr","req":{"uri":"$request_uri","status":$status},"up":"$upstream_addr"}',
    );
    const r = p.parse(
      '{"time":"2024-03-10T13:45:00+00:00","client":"1.2.3.4","req":{"uri":"/x \\"q\\"","status":504},"up":"10.0.0.1:80"}',
    )!;
    expect(r).toMatchObject({ client: '1.2.3.4', status: 504, path: '/x "q"', server: '10.0.0.1:80' });
    expect(p.parse('{"truncated":')).toBeUndefined();
  });

  it('refuses a format where two variables touch, since no parser could split them', () => {
    expect(() => compileNginxLogFormat('$remote_addr$status')).toThrow(/no separator/);
  });

  it('reads every line of a real recorded nginx log', async () => {
    const fmt = readFileSync(join(REC, 'nginx-healthy-even/targets.yml'), 'utf8').match(
      /logFormat: '(.*)'/,
    )![1]!;
    const p = compileNginxLogFormat(fmt);
    const lines = readFileSync(join(REC, 'nginx-healthy-even/access.log'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(lines.every((l) => p.parse(l) !== undefined)).toBe(true);
  });
});

describe('the config parsers', () => {
  it('reads HAProxy backends, weights, ACL routing and use-server rules', () => {
    const cfg = parseHaproxyConfig(
      [
        'defaults',
        '  balance leastconn',
        'frontend fe',
        '  acl is_api path_beg /api',
        '  acl api_host hdr(host) -i api.example.com',
        '  use_backend api if is_api || api_host',
        '  use_backend static if { path_beg /static }',
        '  default_backend app',
        'backend app',
        '  use-server web1 if { hdr(x-debug) 1 }',
        '  server web1 10.0.0.1:80 weight 100 check',
        '  server web2 10.0.0.2:80 check backup',
        '  server web3 10.0.0.3:80 weight 999',
      ].join('\n'),
    );
    const fe = cfg.proxies.find((p) => p.name === 'fe')!;
    expect(fe.rules.map((r) => r.condition)).toEqual([
      'path_beg /api || hdr(host) -i api.example.com',
      'path_beg /static',
    ]);
    expect(fe.defaultBackend).toBe('app');
    const app = cfg.proxies.find((p) => p.name === 'app')!;
    expect(app.balance).toBe('leastconn');
    expect(app.servers.map((s) => [s.name, s.weight, s.check, s.backup])).toEqual([
      ['web1', 100, true, false],
      ['web2', 1, true, true],
      ['web3', 1, false, false],
    ]);
    expect(cfg.problems).toEqual(['line 13: server web3 has weight "999", expected 0..256']);
    expect(app.rules[0]).toMatchObject({ kind: 'use-server', target: 'web1', condition: 'hdr(x-debug) 1' });
  });

  it('reads nginx upstreams and the locations that proxy to them, and reports unclosed blocks', () => {
    const cfg = parseNginxConfig(
      'upstream app { least_conn; server 10.0.0.1:80 weight=5; server 10.0.0.2:80 down; server 10.0.0.3:80 backup; }\n' +
        'server { server_name shop.example.com; location /api/ { proxy_pass http://app/v1/; } location / { root /srv; } }\n' +
        'http {',
    );
    expect(cfg.upstreams[0]).toMatchObject({ name: 'app', method: 'least_conn' });
    expect(cfg.upstreams[0]!.servers.map((s) => [s.weight, s.down, s.backup])).toEqual([
      [5, false, false],
      [1, true, false],
      [1, false, true],
    ]);
    expect(cfg.routes).toEqual([
      {
        serverNames: ['shop.example.com'],
        location: '/api/',
        proxyPass: 'http://app/v1/',
        upstream: 'app',
        line: 2,
      },
    ]);
    expect(cfg.problems).toEqual(['line 3: block "http" is not closed']);
  });
});
