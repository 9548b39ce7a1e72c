import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from '../support/harness.js';
import { checklistMessage, openIncident, settledChecklist } from './helpers.js';

// The published Envoy and AWS examples as a new user would point the bot at them: files, no live source.
const PUBLISHED = join(import.meta.dirname, '../fixtures/diagnostics/published');
let h: Harness;
let text: string;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ib-envoy-elb-'));
  const targets = join(dir, 'targets.yml');
  writeFileSync(
    targets,
    [
      'loadBalancers:',
      '  - name: mesh',
      '    kind: envoy',
      `    clusters: ${join(PUBLISHED, 'envoy/envoy-test-expected-clusters.json')}`,
      '  - name: alb',
      '    kind: aws-elbv2',
      `    targetHealth: ${join(PUBLISHED, 'aws-elbv2/awscli-example-5-unhealthy-timeout.json')}`,
      'probes:',
      '  allow: [127.0.0.0/8]',
      'thresholds: { statsSampleMs: 0 }',
      '',
    ].join('\n'),
  );
  h = await startHarness('diag-envoy-elb', { DIAGNOSTICS_CONFIG: targets });
  const general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice] }).id;
  const channel = await openIncident(h, general, 'Login failures');
  const m = await checklistMessage(h, channel);
  text = await settledChecklist(h, channel, m.ts);
});
afterAll(async () => {
  await h?.close();
});

describe('a checklist for an Envoy cluster and an ELB target group', () => {
  it('fails pool-health on both, saying that ELB fails open and that Envoy is in panic', () => {
    expect(text).toMatch(
      /\*mesh\* \*fail\* — backend fake_cluster has no usable server \(1\.2\.3\.4:80 unhealthy/,
    );
    expect(text).toMatch(/> fake_cluster: 0 of 1 hosts healthy, under Envoy's default panic threshold/);
    expect(text).toMatch(/\*alb\* \*fail\* — backend alb has no usable server .*ELB fails open/);
  });

  it('says why routing is not run and why backend-connect probed nothing', () => {
    expect(text).toMatch(/No route sends requests.*\n.*skipped — no HAProxy or nginx load balancer in /);
    expect(text).toMatch(
      /\*mesh\* \*skipped\* — no server address is inside probes\.allow \(127\.0\.0\.0\/8\)/,
    );
    expect(text).toMatch(
      /\*alb\* \*skipped\* — the target group registers instance ids \(or Lambda functions\), not IP addresses/,
    );
  });
});
