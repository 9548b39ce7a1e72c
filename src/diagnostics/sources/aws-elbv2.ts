import { readFile } from 'node:fs/promises';
import {
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import type { Pool, PoolServer } from '../model.js';

/*
 * AWS Elastic Load Balancing v2 (ALB, NLB, GWLB): DescribeTargetHealth, as `aws elbv2 describe-target-health`
 * prints it and as the AWS SDK v3 returns it (the same PascalCase shape).
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html (states, reason codes)
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html
 */

/** Where the fail-open rule is documented: a group whose every target is unhealthy gets requests on all of them. */
export const ELB_FAIL_OPEN_DOC =
  'https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html';

const States = [
  'initial',
  'healthy',
  'unhealthy',
  'unhealthy.draining',
  'unused',
  'draining',
  'unavailable',
] as const;

const TargetHealthDescription = z.object({
  Target: z.object({
    Id: z.string().min(1, 'expected the target id (instance id, IP address or Lambda ARN)'),
    Port: z.number().int().min(1).max(65535).optional(),
    AvailabilityZone: z.string().optional(),
  }),
  HealthCheckPort: z.string().optional(),
  TargetHealth: z.object({
    State: z.enum(States, { error: () => `expected one of ${States.join(', ')}` }),
    Reason: z.string().optional(),
    Description: z.string().optional(),
  }),
});

const DescribeTargetHealthOutput = z.object({
  TargetHealthDescriptions: z.array(TargetHealthDescription, {
    error: (iss) =>
      iss.input === undefined ? 'missing (is this describe-target-health output?)' : undefined,
  }),
});

/** One registered target and its health. */
export interface Elbv2Target {
  /** Instance id (`i-0f76fade`), IP address or Lambda ARN. */
  id: string;
  port?: number;
  availabilityZone?: string;
  state: (typeof States)[number];
  /** Reason code: `Target.FailedHealthChecks`, `Target.ResponseCodeMismatch`, `Elb.InternalError`, ... */
  reason?: string;
  description?: string;
}

/** Input that is not DescribeTargetHealth output; the message names the field (`TargetHealthDescriptions[1].TargetHealth.State`). */
export class Elbv2Error extends Error {}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

/** Validates a DescribeTargetHealth result (parsed JSON or the SDK's output). Throws Elbv2Error naming the field. */
export function targetsFromDescribeTargetHealth(data: unknown): Elbv2Target[] {
  const r = DescribeTargetHealthOutput.safeParse(data);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    throw new Elbv2Error(`${pathText(iss.path)}: ${iss.message}`);
  }
  return r.data.TargetHealthDescriptions.map((d) => ({
    id: d.Target.Id,
    port: d.Target.Port,
    availabilityZone: d.Target.AvailabilityZone,
    state: d.TargetHealth.State,
    reason: d.TargetHealth.Reason,
    description: d.TargetHealth.Description,
  }));
}

/** Parses the JSON `aws elbv2 describe-target-health` prints. Throws Elbv2Error naming the field. */
export function parseDescribeTargetHealth(text: string): Elbv2Target[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Elbv2Error(`not JSON: ${(err as Error).message}`);
  }
  return targetsFromDescribeTargetHealth(data);
}

/**
 * Fetches DescribeTargetHealth for a target group with the AWS SDK v3 and the standard credential chain
 * (environment, shared config/credentials files, SSO, container and instance roles). `endpoint` replaces AWS's
 * regional one (a VPC endpoint, or a stand-in). Rejects with the ARN and AWS's error code and message.
 */
export async function fetchTargetHealth(
  target: { targetGroupArn: string; region: string; endpoint?: string },
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Elbv2Target[]> {
  const client = new ElasticLoadBalancingV2Client({
    region: target.region,
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    maxAttempts: 2,
  });
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 3000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    const out = await client.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: target.targetGroupArn }),
      {
        abortSignal: signal,
      },
    );
    return targetsFromDescribeTargetHealth({ TargetHealthDescriptions: out.TargetHealthDescriptions ?? [] });
  } catch (err) {
    if (err instanceof Elbv2Error) throw err;
    const e = err as Error & { name?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    // The SDK names modeled errors TargetGroupNotFoundException; AWS's docs and console say TargetGroupNotFound.
    const code = (e.name ?? 'Error').replace(/(.)Exception$/, '$1');
    throw new Error(
      `DescribeTargetHealth for ${target.targetGroupArn}: ${code}${status ? ` (HTTP ${status})` : ''}: ${e.message}`,
    );
  } finally {
    client.destroy();
  }
}

/** Reads a target group's health from a file of `describe-target-health` JSON. Throws Elbv2Error naming the file and field. */
export async function readTargetHealthFile(path: string, signal?: AbortSignal): Promise<Elbv2Target[]> {
  const text = await readFile(path, { encoding: 'utf8', signal });
  try {
    return parseDescribeTargetHealth(text);
  } catch (err) {
    if (err instanceof Elbv2Error) throw new Elbv2Error(`${path}: ${err.message}`);
    throw err;
  }
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/**
 * A target group as one pool named `name`; a server per target (`i-0f76fade:80`). Usable: `healthy`, or
 * `unavailable` with health checks disabled (ELB then routes to it). Weights are even: ELB has none per target.
 * Only IP targets carry an address; an instance id is never an address to connect to.
 */
export function poolFromTargets(name: string, targets: Elbv2Target[]): Pool {
  return {
    name,
    servers: targets.map(
      (t): PoolServer => ({
        name: t.port ? `${t.id}:${t.port}` : t.id,
        address: IPV4.test(t.id) && t.port ? `${t.id}:${t.port}` : undefined,
        status: t.reason ? `${t.state} (${t.reason}${t.description ? `: ${t.description}` : ''})` : t.state,
        usable:
          t.state === 'healthy' || (t.state === 'unavailable' && t.reason === 'Target.HealthCheckDisabled'),
        weight: 1,
        backup: false,
      }),
    ),
  };
}
