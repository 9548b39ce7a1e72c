import { describe, expect, it } from 'vitest';
import { loadDiagnosticsConfig, parseDiagnosticsConfig } from '../../src/diagnostics/config.js';

describe('the targets file', () => {
  it('keeps the valid load balancers and names the line and field of each problem', () => {
    const { config, problems } = parseDiagnosticsConfig(
      [
        'loadBalancers:',
        '  - name: edge',
        '    kind: haproxy',
        '    stats: http://127.0.0.1:8404/stats;csv',
        '  - name: api',
        '    accessLog: /var/log/nginx/access.log',
        '    kind: nginix',
        'probes:',
        '  database: { kind: postgres }',
        '  endpoints: [ not-a-url ]',
        'thresholds: { skewZ: -1, minRequests: 10 }',
      ].join('\n'),
    );
    expect(config.loadBalancers.map((l) => l.name)).toEqual(['edge']);
    expect(config.thresholds.minRequests).toBe(10);
    expect(config.thresholds.skewZ).toBe(4);
    expect(problems).toEqual([
      'targets.yml line 7, loadBalancers[1].kind: expected haproxy, nginx, envoy or aws-elbv2',
      'targets.yml line 9, probes.database.url: Invalid input: expected string, received undefined',
      'targets.yml line 10, probes.endpoints[0]: Invalid URL',
      'targets.yml line 11, thresholds.skewZ: Too small: expected number to be >0',
    ]);
  });

  it('reports YAML syntax errors with their line instead of throwing', () => {
    const { config, problems } = parseDiagnosticsConfig('loadBalancers:\n  - name: [unclosed\n');
    expect(config.loadBalancers).toEqual([]);
    expect(problems[0]).toMatch(/^targets\.yml line \d+: /);
  });

  it('reports a duplicate load balancer name', () => {
    const { problems } = parseDiagnosticsConfig(
      'loadBalancers:\n  - { name: a, kind: nginx }\n  - name: a\n    kind: haproxy\n',
    );
    expect(problems).toEqual([
      'targets.yml line 3, loadBalancers[2].name: "a" is used twice'.replace('[2]', '[1]'),
    ]);
  });

  it('rejects a statsSampleMs that leaves less than 5 s of the 25 s check budget, keeping the default', () => {
    const { config, problems } = parseDiagnosticsConfig(
      [
        'loadBalancers:',
        '  - { name: edge, kind: haproxy, stats: http://127.0.0.1:8404/stats;csv }',
        'thresholds:',
        '  minRequests: 10',
        '  statsSampleMs: 25000',
      ].join('\n'),
    );
    expect(config.loadBalancers.map((l) => l.name)).toEqual(['edge']);
    expect(config.thresholds.minRequests).toBe(10);
    expect(config.thresholds.statsSampleMs).toBe(5000);
    expect(problems).toEqual([
      'targets.yml line 5, thresholds.statsSampleMs: 25000 ms leaves less than 5 s of the 25 s check budget for the stats fetches, so traffic-distribution would time out; set it to at most 20000 (default 5000)',
    ]);
    expect(parseDiagnosticsConfig('thresholds: { statsSampleMs: 20001 }').problems).toEqual([
      'targets.yml line 1, thresholds.statsSampleMs: 20001 ms leaves less than 5 s of the 25 s check budget for the stats fetches, so traffic-distribution would time out; set it to at most 20000 (default 5000)',
    ]);
    const longest = parseDiagnosticsConfig('thresholds: { statsSampleMs: 20000 }');
    expect(longest.problems).toEqual([]);
    expect(longest.config.thresholds.statsSampleMs).toBe(20000);
  });

  it('turns a missing file into one problem', async () => {
    const r = await loadDiagnosticsConfig('/nonexistent/targets.yml');
    expect(r.problems).toEqual(['/nonexistent/targets.yml: cannot read (ENOENT)']);
  });

  it('reads envoy and aws-elbv2 load balancers and names what is missing or contradictory in each', () => {
    const { config, problems } = parseDiagnosticsConfig(
      [
        'loadBalancers:',
        '  - { name: mesh, kind: envoy, clusters: "http://127.0.0.1:9901/clusters?format=json" }',
        '  - { name: alb, kind: aws-elbv2, targetHealth: tg.json }',
        '  - { name: alb-live, kind: aws-elbv2, region: us-west-2, targetGroupArn: "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067" }',
        '  - { name: no-source, kind: envoy }',
        '  - { name: both, kind: aws-elbv2, targetHealth: tg.json, targetGroupArn: "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/x/1", region: us-west-2 }',
        '  - { name: no-region, kind: aws-elbv2, targetGroupArn: "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/x/1" }',
        '  - { name: bad-arn, kind: aws-elbv2, targetGroupArn: "my-targets", region: us-west-2 }',
      ].join('\n'),
    );
    expect(config.loadBalancers.map((l) => `${l.name}:${l.kind}`)).toEqual([
      'mesh:envoy',
      'alb:aws-elbv2',
      'alb-live:aws-elbv2',
    ]);
    expect(problems).toEqual([
      'targets.yml line 5, loadBalancers[3].clusters: Invalid input: expected string, received undefined',
      'targets.yml line 6, loadBalancers[4].targetHealth: give either targetHealth (a file) or targetGroupArn (with region), not both',
      'targets.yml line 7, loadBalancers[5].region: targetGroupArn needs region (e.g. us-east-1)',
      'targets.yml line 8, loadBalancers[6].targetGroupArn: expected a target group ARN',
    ]);
  });

  it('keeps probes.allow loopback-only by default and drops an entry that is not a CIDR, never widening the list', () => {
    expect(parseDiagnosticsConfig('probes: {}').config.probes.allow).toEqual(['127.0.0.0/8', '::1/128']);
    const { config, problems } = parseDiagnosticsConfig(
      ['probes:', '  allow: [10.0.0.0/8, 10.0.0.0/33, not-a-net, "fd00::/8"]'].join('\n'),
    );
    expect(config.probes.allow).toEqual(['10.0.0.0/8', 'fd00::/8']);
    expect(problems).toEqual([
      'targets.yml line 2, probes.allow[1]: prefix /33 is out of range for IPv4',
      'targets.yml line 2, probes.allow[2]: "not-a-net" is not a CIDR (address/prefix, e.g. 10.0.0.0/8)',
    ]);
  });
});
