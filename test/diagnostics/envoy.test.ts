import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDiagnosticsConfig } from '../../src/diagnostics/config.js';
import { listChecks, runDiagnostics } from '../../src/diagnostics/run.js';
import {
  EnvoyClustersError,
  parseEnvoyClusters,
  parseEnvoyClustersJson,
  parseEnvoyClustersText,
} from '../../src/diagnostics/sources/envoy-clusters.js';

const PUBLISHED = join(import.meta.dirname, '../fixtures/diagnostics/published/envoy');
const JSON_EXAMPLE = readFileSync(join(PUBLISHED, 'envoy-test-expected-clusters.json'), 'utf8');
const TEXT_EXAMPLE = readFileSync(join(PUBLISHED, 'envoy-test-expected-clusters.txt'), 'utf8');
const FLAGS = [
  'failed_active_hc',
  'failed_outlier_check',
  'degraded_active_hc',
  'degraded_eds_health',
  'pending_dynamic_removal',
];

describe("the Envoy /clusters parser, on Envoy's own test expectations", () => {
  it('reads the JSON form: the host, its weight, priority, health flags, counters and success rate', () => {
    const [c, ...rest] = parseEnvoyClustersJson(JSON_EXAMPLE);
    expect(rest).toEqual([]);
    expect(c!.name).toBe('fake_cluster');
    expect(c!.hosts).toHaveLength(1);
    const h = c!.hosts[0]!;
    expect(h).toMatchObject({ address: '1.2.3.4:80', hostname: 'foo.com', weight: 5, priority: 6 });
    expect(h.health).toBe('unhealthy');
    expect([...h.flags].sort()).toEqual([...FLAGS].sort());
    expect(h.stats).toEqual({
      arest_counter: 5,
      rest_counter: 10,
      test_counter: 10,
      atest_gauge: 10,
      test_gauge: 11,
    });
    expect(h.successRate).toBe(43.2);
  });

  it('reads the text form to the same host as the JSON form', () => {
    const fromText = parseEnvoyClustersText(TEXT_EXAMPLE);
    const fromJson = parseEnvoyClustersJson(JSON_EXAMPLE);
    expect(fromText.map((c) => c.name)).toEqual(['fake_cluster']);
    const t = fromText[0]!.hosts[0]!;
    const j = fromJson[0]!.hosts[0]!;
    expect({ ...t, flags: [...t.flags].sort() }).toEqual({ ...j, flags: [...j.flags].sort() });
  });

  it('tells the two forms apart by their first character', () => {
    expect(parseEnvoyClusters(JSON_EXAMPLE)[0]!.hosts[0]!.address).toBe('1.2.3.4:80');
    expect(parseEnvoyClusters(TEXT_EXAMPLE)[0]!.hosts[0]!.address).toBe('1.2.3.4:80');
  });

  it('reads healthy and degraded hosts, IPv6 addresses and counters that proto JSON leaves out at zero', () => {
    const text = [
      'web::[2001:db8::1]:8080::rq_total::12',
      'web::[2001:db8::1]:8080::health_flags::healthy',
      'web::[2001:db8::1]:8080::weight::2',
      'web::10.0.1.12:8080::health_flags::/degraded_active_hc',
      'web::10.0.1.12:8080::cx_connect_fail::3',
    ].join('\n');
    const [c] = parseEnvoyClustersText(text);
    expect(c!.hosts.map((h) => [h.address, h.health, h.weight])).toEqual([
      ['[2001:db8::1]:8080', 'healthy', 2],
      ['10.0.1.12:8080', 'degraded', 1],
    ]);
    const [j] = parseEnvoyClustersJson(
      JSON.stringify({
        cluster_statuses: [
          {
            name: 'web',
            host_statuses: [
              {
                address: { socket_address: { address: '10.0.1.11', port_value: 8080 } },
                stats: [
                  { name: 'rq_total', type: 'COUNTER' },
                  { name: 'rq_error', value: '7' },
                ],
                health_status: { eds_health_status: 'HEALTHY' },
                weight: 1,
              },
            ],
          },
        ],
      }),
    );
    expect(j!.hosts[0]).toMatchObject({ health: 'healthy', stats: { rq_total: 0, rq_error: 7 } });
  });
});

describe('the Envoy /clusters parser, on malformed input', () => {
  const fails = (text: string) => {
    try {
      parseEnvoyClusters(text);
    } catch (err) {
      expect(err).toBeInstanceOf(EnvoyClustersError);
      return (err as Error).message;
    }
    throw new Error('expected the parser to refuse the input');
  };

  it('names the field that is wrong in the JSON form', () => {
    const bad = JSON.parse(JSON_EXAMPLE);
    bad.cluster_statuses[0].host_statuses[0].weight = 'heavy';
    expect(fails(JSON.stringify(bad))).toMatch(/^cluster_statuses\[0\]\.host_statuses\[0\]\.weight: /);
    const noAddress = JSON.parse(JSON_EXAMPLE);
    delete noAddress.cluster_statuses[0].host_statuses[0].address;
    expect(fails(JSON.stringify(noAddress))).toMatch(/^cluster_statuses\[0\]\.host_statuses\[0\]\.address: /);
    const badCounter = JSON.parse(JSON_EXAMPLE);
    badCounter.cluster_statuses[0].host_statuses[0].stats[0].value = '-5';
    expect(fails(JSON.stringify(badCounter))).toMatch(/stats\[0\]\.value/);
  });

  it('says what it expected when the JSON is not /clusters at all, cut short, or empty', () => {
    expect(fails('{"stats": []}')).toMatch(/cluster_statuses: missing/);
    expect(fails(JSON_EXAMPLE.slice(0, 200))).toMatch(/^not JSON/);
    expect(fails('')).toMatch(/empty/);
  });

  it('names the line and the field that is wrong in the text form', () => {
    expect(fails('web::10.0.1.11:80::weight::heavy')).toBe(
      'line 1, web/10.0.1.11:80 weight: expected a number, got "heavy"',
    );
    expect(fails('web::10.0.1.11:80::rq_total::12\nweb::10.0.1.11:80::health_flags::sick')).toMatch(
      /^line 2, web\/10\.0\.1\.11:80 health_flags: expected "healthy"/,
    );
    expect(fails('<html>404 Not Found</html>')).toMatch(/^line 1: expected cluster::/);
  });
});

/**
 * A stand-in for Envoy's admin listener (Envoy itself is not installed here), answering `GET
 * /clusters?format=json` in the admin.v3.Clusters shape of the published example, with each host's `rq_total`
 * growing by its share on every read; any other path is a 404, as the admin listener answers.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--clusters
 */
function envoyAdmin(hosts: { address: string; perRead: number; flags?: Record<string, unknown> }[]) {
  const totals = hosts.map(() => 1000);
  return createServer((req, res) => {
    if (req.method !== 'GET' || !req.url?.startsWith('/clusters')) {
      res.writeHead(404).end();
      return;
    }
    hosts.forEach((h, i) => {
      totals[i]! += h.perRead;
    });
    const body = {
      cluster_statuses: [
        {
          name: 'web',
          host_statuses: hosts.map((h, i) => ({
            address: { socket_address: { address: h.address, port_value: 8080 } },
            stats: [
              { name: 'rq_total', value: String(totals[i]), type: 'COUNTER' },
              { name: 'rq_error', value: '0', type: 'COUNTER' },
              { name: 'cx_connect_fail', value: h.flags ? '4' : '0', type: 'COUNTER' },
            ],
            health_status: { eds_health_status: 'HEALTHY', ...(h.flags ?? {}) },
            weight: 1,
          })),
        },
      ],
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
}

describe('the checks on an Envoy target', () => {
  let server: Server;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'envoy-'));

  beforeAll(async () => {
    server = envoyAdmin([
      { address: '10.0.1.11', perRead: 900 },
      { address: '10.0.1.12', perRead: 50 },
      { address: '10.0.1.13', perRead: 50 },
      { address: '10.0.1.14', perRead: 0, flags: { failed_active_health_check: true } },
    ]);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/clusters?format=json`;
  });
  afterAll(() => server.close());

  it('runs pool-health, traffic-distribution and backend-connect, not the log, config and routing checks', () => {
    const { config, problems } = parseDiagnosticsConfig(
      ['loadBalancers:', `  - { name: mesh, kind: envoy, clusters: "${url}" }`].join('\n'),
    );
    expect(problems).toEqual([]);
    expect(listChecks(config).map((r) => r.checkId)).toEqual([
      'pool-health',
      'traffic-distribution',
      'backend-connect',
    ]);
  });

  it('finds the host failing its health checks, the connect failures Envoy counted, and the skew from two samples', async () => {
    const { config } = parseDiagnosticsConfig(
      [
        'loadBalancers:',
        `  - { name: mesh, kind: envoy, clusters: "${url}" }`,
        'probes:',
        '  allow: [127.0.0.0/8]',
        'thresholds:',
        '  statsSampleMs: 200',
      ].join('\n'),
    );
    const { results } = await runDiagnostics(config, { from: new Date(Date.now() - 60_000), to: new Date() });
    const by = Object.fromEntries(results.map((r) => [r.checkId, r]));
    expect(by['pool-health']!.verdict).toBe('warn');
    expect(by['pool-health']!.summary).toContain('10.0.1.14:8080 is unhealthy (failed_active_hc)');
    expect(by['pool-health']!.evidence).toContain(
      'web/10.0.1.14:8080: Envoy counted 4 failed connection attempts (cx_connect_fail) since it started',
    );
    const td = by['traffic-distribution']!;
    expect(td.evidence.join('\n') + td.summary + td.notes.join('\n')).toMatch(
      /rq_total deltas between two \/clusters samples/,
    );
    const top = td.servers.find((s) => s.server === '10.0.1.11:8080')!;
    expect(top.requests).toBe(900);
    expect(top.observedShare).toBeCloseTo(0.9, 5);
    expect(['warn', 'fail']).toContain(td.verdict);
    // 10.0.1.x are the example's addresses, not ours: the allow list keeps the bot from connecting to them.
    const bc = by['backend-connect']!;
    expect(bc.verdict).toBe('skipped');
    expect(bc.summary).toMatch(/no server address is inside probes\.allow \(127\.0\.0\.0\/8\)/);
    expect(bc.evidence[0]).toMatch(/^web\/10\.0\.1\.11:8080: 10\.0\.1\.11 is outside probes\.allow/);
  });

  it('reads the published example from a file and fails the cluster whose only host is unhealthy', async () => {
    const { config } = parseDiagnosticsConfig(
      [
        'loadBalancers:',
        `  - { name: mesh, kind: envoy, clusters: "${join(PUBLISHED, 'envoy-test-expected-clusters.txt')}" }`,
      ].join('\n'),
    );
    const { results } = await runDiagnostics(config, {
      from: new Date(Date.now() - 60_000),
      to: new Date(),
      only: ['pool-health'],
    });
    expect(results[0]).toMatchObject({ verdict: 'fail' });
    expect(results[0]!.summary).toMatch(
      /^backend fake_cluster has no usable server \(1\.2\.3\.4:80 unhealthy/,
    );
    expect(results[0]!.evidence.join('\n')).toMatch(
      /0 of 1 hosts healthy, under Envoy's default panic threshold/,
    );
  });

  it('turns an unreachable admin URL or a malformed answer into an error result that names it', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const closed = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const bad = join(dir, 'clusters.txt');
    writeFileSync(bad, 'web::10.0.1.11:80::weight::heavy\n');
    const { config } = parseDiagnosticsConfig(
      [
        'loadBalancers:',
        `  - { name: file, kind: envoy, clusters: "${bad}" }`,
        `  - { name: gone, kind: envoy, clusters: "http://127.0.0.1:${closed}/clusters?format=json" }`,
      ].join('\n'),
    );
    const { results } = await runDiagnostics(config, {
      from: new Date(Date.now() - 60_000),
      to: new Date(),
      only: ['pool-health'],
    });
    expect(results.map((r) => [r.target, r.verdict])).toEqual([
      ['file', 'error'],
      ['gone', 'error'],
    ]);
    expect(results[0]!.summary).toBe(
      `could not run: envoy clusters ${bad}: line 1, web/10.0.1.11:80 weight: expected a number, got "heavy"`,
    );
    expect(results[1]!.summary).toMatch(
      new RegExp(
        `^could not run: envoy clusters http://127\\.0\\.0\\.1:${closed}/.* unreachable: ECONNREFUSED`,
      ),
    );
  });
});
