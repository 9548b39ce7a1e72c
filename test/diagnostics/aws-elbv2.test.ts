import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDiagnosticsConfig } from '../../src/diagnostics/config.js';
import { listChecks, runDiagnostics } from '../../src/diagnostics/run.js';
import {
  Elbv2Error,
  fetchTargetHealth,
  parseDescribeTargetHealth,
} from '../../src/diagnostics/sources/aws-elbv2.js';
import { STAND_IN_KEY, startElbv2StandIn } from '../support/elbv2-stand-in.js';

const PUBLISHED = join(import.meta.dirname, '../fixtures/diagnostics/published/aws-elbv2');
const example = (n: number) => {
  const f = readdirSync(PUBLISHED).find((x) => x.startsWith(`awscli-example-${n}-`))!;
  return join(PUBLISHED, f);
};
const window = () => ({ from: new Date(Date.now() - 60_000), to: new Date() });
const dir = mkdtempSync(join(tmpdir(), 'elbv2-'));

async function poolHealthOf(file: string) {
  const { config } = parseDiagnosticsConfig(
    ['loadBalancers:', `  - { name: alb, kind: aws-elbv2, targetHealth: "${file}" }`].join('\n'),
  );
  const { results } = await runDiagnostics(config, { ...window(), only: ['pool-health'] });
  return results[0]!;
}

describe('the describe-target-health parser, on the AWS CLI examples', () => {
  it('reads each example: target ids, ports, states and reason codes', () => {
    const rows = [1, 2, 3, 4, 5].map((n) =>
      parseDescribeTargetHealth(readFileSync(example(n), 'utf8')).map((t) =>
        [t.id, t.port, t.state, t.reason].join(' '),
      ),
    );
    expect(rows).toEqual([
      ['i-ceddcd4d 80 healthy ', 'i-0f76fade 80 healthy '],
      ['i-0f76fade 80 healthy '],
      ['i-0f76fade 80 unused Target.NotInUse'],
      ['i-0f76fade 80 initial Elb.RegistrationInProgress'],
      ['i-0f76fade 80 unhealthy Target.Timeout'],
    ]);
  });

  it('names the field that is wrong in malformed output, and never crashes on junk', () => {
    const fails = (text: string) => {
      try {
        parseDescribeTargetHealth(text);
      } catch (err) {
        expect(err).toBeInstanceOf(Elbv2Error);
        return (err as Error).message;
      }
      throw new Error('expected the parser to refuse the input');
    };
    const bad = JSON.parse(readFileSync(example(1), 'utf8'));
    bad.TargetHealthDescriptions[1].TargetHealth.State = 'sick';
    expect(fails(JSON.stringify(bad))).toBe(
      'TargetHealthDescriptions[1].TargetHealth.State: expected one of initial, healthy, unhealthy, unhealthy.draining, unused, draining, unavailable',
    );
    const noId = JSON.parse(readFileSync(example(2), 'utf8'));
    delete noId.TargetHealthDescriptions[0].Target.Id;
    expect(fails(JSON.stringify(noId))).toMatch(/^TargetHealthDescriptions\[0\]\.Target\.Id: /);
    const badPort = JSON.parse(readFileSync(example(2), 'utf8'));
    badPort.TargetHealthDescriptions[0].Target.Port = '80';
    expect(fails(JSON.stringify(badPort))).toMatch(/^TargetHealthDescriptions\[0\]\.Target\.Port: /);
    expect(fails('{"TargetGroups": []}')).toBe(
      'TargetHealthDescriptions: missing (is this describe-target-health output?)',
    );
    expect(fails('An error occurred (AccessDenied)')).toMatch(/^not JSON/);
    expect(fails('[]')).toMatch(/^\(top level\): /);
  });
});

describe('pool-health on an aws-elbv2 target group from a file', () => {
  it('passes the healthy examples and fails the ones with no target taking traffic, with the reason codes', async () => {
    const verdicts = await Promise.all(
      [1, 2, 3, 4, 5].map(async (n) => (await poolHealthOf(example(n))).verdict),
    );
    expect(verdicts).toEqual(['pass', 'pass', 'fail', 'fail', 'fail']);
    const timeout = await poolHealthOf(example(5));
    expect(timeout.summary).toBe(
      'backend alb has no usable server (i-0f76fade:80 unhealthy (Target.Timeout: Connection to target timed out)); ELB fails open: it still routes requests to that one unhealthy target',
    );
    expect(timeout.evidence).toContain('1 target Target.Timeout: health checks timed out');
    const initial = await poolHealthOf(example(4));
    expect(initial.evidence).toContain(
      '1 target Elb.RegistrationInProgress: the target is still being registered',
    );
  });

  it('says that ELB fails open when every target is unhealthy', async () => {
    const f = join(dir, 'all-unhealthy.json');
    writeFileSync(
      f,
      JSON.stringify({
        TargetHealthDescriptions: [
          {
            Target: { Id: '10.0.1.11', Port: 8080 },
            HealthCheckPort: '8080',
            TargetHealth: {
              State: 'unhealthy',
              Reason: 'Target.ResponseCodeMismatch',
              Description: 'Health checks failed with these codes: [502]',
            },
          },
          {
            Target: { Id: '10.0.1.12', Port: 8080 },
            HealthCheckPort: '8080',
            TargetHealth: {
              State: 'unhealthy',
              Reason: 'Target.FailedHealthChecks',
              Description: 'Health checks failed',
            },
          },
        ],
      }),
    );
    const r = await poolHealthOf(f);
    expect(r.verdict).toBe('fail');
    expect(r.summary).toMatch(/; ELB fails open: it still routes requests to all 2 unhealthy targets$/);
    // First, so the checklist (which shows the first evidence lines) shows it.
    expect(r.evidence[0]).toBe(
      'every target is unhealthy, so ELB fails open and routes requests to all 2 of them regardless of health (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html)',
    );
    expect(r.evidence).toContain(
      '1 target Target.ResponseCodeMismatch: health checks got an HTTP status the target group does not accept',
    );
  });

  it('fails an empty target group: the load balancer has nowhere to send requests', async () => {
    const f = join(dir, 'empty.json');
    writeFileSync(f, '{"TargetHealthDescriptions": []}');
    const r = await poolHealthOf(f);
    expect(r.verdict).toBe('fail');
    expect(r.summary).toMatch(/^the target group has no registered targets/);
  });

  it('skips backend-connect for instance-id targets and traffic-distribution, saying why', async () => {
    const { config } = parseDiagnosticsConfig(
      ['loadBalancers:', `  - { name: alb, kind: aws-elbv2, targetHealth: "${example(1)}" }`].join('\n'),
    );
    expect(listChecks(config).map((r) => r.checkId)).toEqual([
      'pool-health',
      'traffic-distribution',
      'backend-connect',
    ]);
    const { results } = await runDiagnostics(config, {
      ...window(),
      only: ['traffic-distribution', 'backend-connect'],
    });
    expect(results.map((r) => [r.checkId, r.verdict, r.summary])).toEqual([
      [
        'traffic-distribution',
        'skipped',
        'ELB target health has no per-target request counts (CloudWatch RequestCountPerTarget is not read)',
      ],
      [
        'backend-connect',
        'skipped',
        'the target group registers instance ids (or Lambda functions), not IP addresses: nothing for the bot to probe',
      ],
    ]);
  });

  it('turns a malformed or missing file into an error result naming the file and field', async () => {
    const f = join(dir, 'bad.json');
    writeFileSync(f, '{"TargetHealthDescriptions": [{"Target": {"Id": "i-1"}, "TargetHealth": {}}]}');
    expect((await poolHealthOf(f)).summary).toBe(
      `could not run: ${f}: TargetHealthDescriptions[0].TargetHealth.State: expected one of initial, healthy, unhealthy, unhealthy.draining, unused, draining, unavailable`,
    );
    expect((await poolHealthOf(join(dir, 'nope.json'))).summary).toBe(
      `could not run: ${join(dir, 'nope.json')} does not exist`,
    );
  });
});

describe('aws-elbv2 fetched with the AWS SDK for a targetGroupArn', () => {
  const ARN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067';
  const FAILING = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/failing/1111111111111111';
  const BROKEN = 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/broken/2222222222222222';
  let standIn: Awaited<ReturnType<typeof startElbv2StandIn>>;
  const saved = { ...process.env };

  beforeAll(async () => {
    // The standard credential chain, from the environment: never the instance metadata service.
    process.env.AWS_ACCESS_KEY_ID = STAND_IN_KEY.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = STAND_IN_KEY.secretAccessKey;
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    delete process.env.AWS_PROFILE;
    delete process.env.AWS_SESSION_TOKEN;
    standIn = await startElbv2StandIn(
      {
        [ARN]: [
          { Id: 'i-ceddcd4d', Port: 80, HealthCheckPort: '80', State: 'healthy' },
          { Id: 'i-0f76fade', Port: 80, HealthCheckPort: '80', State: 'healthy' },
        ],
        [FAILING]: [
          {
            Id: 'i-0f76fade',
            Port: 80,
            HealthCheckPort: '80',
            State: 'unhealthy',
            Reason: 'Elb.InternalError',
            Description: 'Health checks failed due to an internal error',
          },
        ],
      },
      [BROKEN],
    );
  });
  afterAll(async () => {
    process.env = saved;
    await standIn.close();
  });

  it('signs a DescribeTargetHealth call the stand-in verifies, and reads the group it answers', async () => {
    const targets = await fetchTargetHealth({
      targetGroupArn: ARN,
      region: 'us-west-2',
      endpoint: standIn.endpoint,
    });
    expect(targets.map((t) => `${t.id}:${t.port} ${t.state}`)).toEqual([
      'i-ceddcd4d:80 healthy',
      'i-0f76fade:80 healthy',
    ]);
    const last = standIn.requests.at(-1)!;
    expect([last.get('Action'), last.get('Version'), last.get('TargetGroupArn')]).toEqual([
      'DescribeTargetHealth',
      '2015-12-01',
      ARN,
    ]);
  });

  it('runs pool-health from the fetched health and names Elb.InternalError as the load balancer’s own fault', async () => {
    const { config, problems } = parseDiagnosticsConfig(
      [
        'loadBalancers:',
        `  - { name: alb, kind: aws-elbv2, region: us-west-2, endpoint: "${standIn.endpoint}", targetGroupArn: "${ARN}" }`,
        `  - { name: failing, kind: aws-elbv2, region: us-west-2, endpoint: "${standIn.endpoint}", targetGroupArn: "${FAILING}" }`,
      ].join('\n'),
    );
    expect(problems).toEqual([]);
    const { results } = await runDiagnostics(config, { ...window(), only: ['pool-health'] });
    expect(results.map((r) => [r.target, r.verdict])).toEqual([
      ['alb', 'pass'],
      ['failing', 'fail'],
    ]);
    expect(results[1]!.evidence).toContain(
      '1 target Elb.InternalError: health checks failed from an internal ELB error, not from the target',
    );
  });

  it('reports what AWS refuses: an unknown group, an internal error, a bad signature', async () => {
    const unknown = ARN.replace('my-targets', 'gone');
    await expect(
      fetchTargetHealth({ targetGroupArn: unknown, region: 'us-west-2', endpoint: standIn.endpoint }),
    ).rejects.toThrow(
      `DescribeTargetHealth for ${unknown}: TargetGroupNotFound (HTTP 400): Target groups '${unknown}' not found`,
    );
    await expect(
      fetchTargetHealth({ targetGroupArn: BROKEN, region: 'us-west-2', endpoint: standIn.endpoint }),
    ).rejects.toThrow(/HealthUnavailable \(HTTP 500\)/);
    process.env.AWS_SECRET_ACCESS_KEY = 'not-the-secret';
    try {
      await expect(
        fetchTargetHealth({ targetGroupArn: ARN, region: 'us-west-2', endpoint: standIn.endpoint }),
      ).rejects.toThrow(/SignatureDoesNotMatch \(HTTP 403\)/);
    } finally {
      process.env.AWS_SECRET_ACCESS_KEY = STAND_IN_KEY.secretAccessKey;
    }
  });
});
