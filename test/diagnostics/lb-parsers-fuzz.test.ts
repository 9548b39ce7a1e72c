import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Elbv2Error, parseDescribeTargetHealth } from '../../src/diagnostics/sources/aws-elbv2.js';
import { EnvoyClustersError, parseEnvoyClusters } from '../../src/diagnostics/sources/envoy-clusters.js';

const PUBLISHED = join(import.meta.dirname, '../fixtures/diagnostics/published');
const ENVOY_JSON = readFileSync(join(PUBLISHED, 'envoy/envoy-test-expected-clusters.json'), 'utf8');
const ENVOY_TEXT = readFileSync(join(PUBLISHED, 'envoy/envoy-test-expected-clusters.txt'), 'utf8');
const ELB = readFileSync(join(PUBLISHED, 'aws-elbv2/awscli-example-1-healthy-group.json'), 'utf8');

/** Runs `parse`; true when it parsed or refused with `Refusal` and a non-empty message; any other throw fails. */
function parsesOrRefuses(
  parse: (t: string) => unknown,
  Refusal: new (m: string) => Error,
  text: string,
): boolean {
  try {
    parse(text);
    return true;
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    return (err as Error).message.length > 0;
  }
}

/** The text with a slice cut out, or a random string spliced in, at a random place. */
const damaged = (text: string) =>
  fc
    .tuple(fc.nat({ max: text.length }), fc.nat({ max: 40 }), fc.string({ maxLength: 12 }))
    .map(([at, cut, insert]) => text.slice(0, at) + insert + text.slice(Math.min(text.length, at + cut)));

/** A JSON value with one field somewhere replaced by another JSON value. */
function mutatedJson(text: string) {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, [...path, i]);
    } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(JSON.parse(text), []);
  return fc
    .tuple(fc.constantFrom(...paths.filter((p) => p.length > 0)), fc.jsonValue())
    .map(([path, value]) => {
      const root = JSON.parse(text);
      let node = root;
      for (const k of path.slice(0, -1)) node = node[k];
      node[path.at(-1)!] = value;
      return JSON.stringify(root);
    });
}

describe('the Envoy and ELB parsers on damaged input', () => {
  it('either read damaged Envoy /clusters output or refuse it with EnvoyClustersError, never another exception', () => {
    const envoy = (t: string) => parsesOrRefuses(parseEnvoyClusters, EnvoyClustersError, t);
    fc.assert(fc.property(damaged(ENVOY_JSON), envoy), { numRuns: 300 });
    fc.assert(fc.property(damaged(ENVOY_TEXT), envoy), { numRuns: 300 });
    fc.assert(fc.property(mutatedJson(ENVOY_JSON), envoy), { numRuns: 300 });
    fc.assert(fc.property(fc.string(), envoy), { numRuns: 200 });
  });

  it('either read damaged describe-target-health output or refuse it with Elbv2Error, never another exception', () => {
    const elb = (t: string) => parsesOrRefuses(parseDescribeTargetHealth, Elbv2Error, t);
    fc.assert(fc.property(damaged(ELB), elb), { numRuns: 300 });
    fc.assert(fc.property(mutatedJson(ELB), elb), { numRuns: 300 });
    fc.assert(fc.property(fc.string(), elb), { numRuns: 200 });
  });

  it('refuses a mutated field by naming its path', () => {
    const bad = JSON.parse(ELB);
    bad.TargetHealthDescriptions[0].Target = 7;
    expect(() => parseDescribeTargetHealth(JSON.stringify(bad))).toThrow(
      /^TargetHealthDescriptions\[0\]\.Target: /,
    );
  });
});
