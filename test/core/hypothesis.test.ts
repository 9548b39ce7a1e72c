import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/core/check.js';
import { categorize, nudgeFor } from '../../src/core/hypothesis.js';
import { foldTimeline } from '../../src/core/incident.js';
import type { TimelineEntry } from '../../src/core/timeline.js';

const at = '2024-02-27T10:00:00.000Z';
const base = { incidentId: 'INC-1', at, actor: { type: 'bot' as const }, source: 'bot' as const };

function incidentWith(results: CheckResult[]) {
  const entries: TimelineEntry[] = [
    { ...base, seq: 1, kind: 'declared', title: 'Checkout slow', severity: 'SEV2' },
    ...results.map((result, i) => ({ ...base, seq: i + 2, kind: 'check_result' as const, result })),
  ];
  return foldTimeline(entries);
}

const skew: CheckResult = {
  checkId: 'traffic-distribution',
  target: 'edge',
  verdict: 'fail',
  summary: 'web-01 takes 97% of requests, expected 33%',
  evidence: [],
  servers: [
    {
      backend: 'web',
      server: 'web-01',
      observedShare: 0.97,
      expectedShare: 0.34,
      evenShare: 0.34,
      weight: 100,
    },
    {
      backend: 'web',
      server: 'web-02',
      observedShare: 0.02,
      expectedShare: 0.33,
      evenShare: 0.33,
      weight: 1,
    },
  ],
  bears: [{ hypothesis: 'load-balancer', effect: 'supports' }],
  notes: [],
};
const dbFine: CheckResult = {
  checkId: 'database',
  target: 'pg-main',
  verdict: 'pass',
  summary: 'connect + select 1 in 4 ms',
  evidence: [],
  servers: [],
  bears: [{ hypothesis: 'database', effect: 'rules-out' }],
  notes: [],
};

describe('hypothesis categories', () => {
  it('reads the usual suspects from the words people use', () => {
    expect(categorize('the DB is overloaded after the migration')).toBe('database');
    expect(categorize('slow queries on the primary')).toBe('database');
    expect(categorize('looks like a DDoS')).toBe('traffic-surge');
    expect(categorize('packet loss in the VPC')).toBe('network');
    expect(categorize('HAProxy weights are wrong')).toBe('load-balancer');
    expect(categorize('cosmic rays')).toBe('other');
  });
});

describe('the nudge when the team suspects a red herring', () => {
  it('names the skewed server and the passing database check before anyone digs into the database', () => {
    const text = nudgeFor(incidentWith([skew, dbFine]), 'database');
    expect(text).toBe(
      'Before digging into the database: web-01 takes 97% of requests on edge, expected 34%. Evidence against the database: database on pg-main passed (connect + select 1 in 4 ms).',
    );
  });

  it('blames the weights when the weights themselves concentrate the traffic, as in the seeds', () => {
    const weighted: CheckResult = {
      ...skew,
      servers: [
        {
          backend: 'app',
          server: 'web1',
          observedShare: 0.99,
          expectedShare: 0.98,
          evenShare: 1 / 3,
          weight: 100,
        },
        {
          backend: 'app',
          server: 'web2',
          observedShare: 0.005,
          expectedShare: 0.01,
          evenShare: 1 / 3,
          weight: 1,
        },
        {
          backend: 'app',
          server: 'web3',
          observedShare: 0.005,
          expectedShare: 0.01,
          evenShare: 1 / 3,
          weight: 1,
        },
      ],
    };
    expect(nudgeFor(incidentWith([weighted]), 'database')).toBe(
      'Before digging into the database: web1 takes 99% of requests on edge, where an even split would give it 33%: its weight (100 against 1, 1) sends it 98%.',
    );
  });

  it('says nothing when no check has evidence either way', () => {
    expect(nudgeFor(incidentWith([]), 'database')).toBeNull();
    expect(nudgeFor(incidentWith([{ ...skew, verdict: 'pass' }]), 'network')).toBeNull();
  });

  it('does not nudge a load-balancer suspicion, which is where the evidence points', () => {
    expect(nudgeFor(incidentWith([skew]), 'load-balancer')).toBeNull();
  });
});
