import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { cidrProblem, DEFAULT_PROBE_ALLOW } from './probe-allow.js';
import { Thresholds } from './thresholds.js';

const HaproxyTarget = z.object({
  name: z.string().min(1),
  kind: z.literal('haproxy'),
  /** `http(s)://.../stats;csv`, `unix:/path/admin.sock`, or a file of `show stat` output. */
  stats: z.string().min(1).optional(),
  /** HAProxy `option httplog` log file. */
  log: z.string().min(1).optional(),
  /** haproxy.cfg, for routing/weight checks and change detection. */
  config: z.string().min(1).optional(),
  /** Zone of HAProxy's log clock (`%tr` has none), e.g. `+02:00`; default UTC. */
  logUtcOffset: z
    .string()
    .regex(/^[+-]\d{2}:?\d{2}$/, 'expected +hh:mm or -hh:mm')
    .default('+00:00'),
});

const NginxTarget = z.object({
  name: z.string().min(1),
  kind: z.literal('nginx'),
  accessLog: z.string().min(1).optional(),
  /** The `log_format` string the access log was written with; nginx's `combined` when absent. */
  logFormat: z.string().min(1).optional(),
  config: z.string().min(1).optional(),
});

/** Envoy: its admin `/clusters` (https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--clusters). */
const EnvoyTarget = z.object({
  name: z.string().min(1),
  kind: z.literal('envoy'),
  /** `http://127.0.0.1:9901/clusters?format=json` (or the text form), or a file of its output. */
  clusters: z.string().min(1),
});

/** AWS Elastic Load Balancing v2 (ALB/NLB): one target group's DescribeTargetHealth. */
const AwsElbv2Target = z
  .object({
    name: z.string().min(1),
    kind: z.literal('aws-elbv2'),
    /** A file of `aws elbv2 describe-target-health` JSON output. */
    targetHealth: z.string().min(1).optional(),
    /** Fetch DescribeTargetHealth for this target group with the AWS SDK and the standard credential chain. */
    targetGroupArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:elasticloadbalancing:[^:]*:\d*:targetgroup\/.+/, 'expected a target group ARN')
      .optional(),
    region: z.string().min(1).optional(),
    /** Another ELBv2 endpoint (a VPC endpoint, a stand-in); AWS's regional one when absent. */
    endpoint: z.url().optional(),
  })
  .refine((t) => (t.targetHealth === undefined) !== (t.targetGroupArn === undefined), {
    message: 'give either targetHealth (a file) or targetGroupArn (with region), not both',
    path: ['targetHealth'],
  })
  .refine((t) => t.targetGroupArn === undefined || t.region !== undefined, {
    message: 'targetGroupArn needs region (e.g. us-east-1)',
    path: ['region'],
  });

/** One load balancer to diagnose (`kind: haproxy`, `nginx`, `envoy` or `aws-elbv2`). */
export const LoadBalancerTarget = z.discriminatedUnion(
  'kind',
  [HaproxyTarget, NginxTarget, EnvoyTarget, AwsElbv2Target],
  {
    error: (iss) =>
      iss.code === 'invalid_union' ? 'expected haproxy, nginx, envoy or aws-elbv2' : undefined,
  },
);
export type LoadBalancerTarget = z.infer<typeof LoadBalancerTarget>;

/** The database red-herring probe: PostgreSQL `select 1`, or a plain TCP connect. */
export const DatabaseProbe = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('postgres'), url: z.string().min(1) }),
    z.object({ kind: z.literal('tcp'), host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
  ],
  { error: (iss) => (iss.code === 'invalid_union' ? 'expected postgres or tcp' : undefined) },
);
export type DatabaseProbe = z.infer<typeof DatabaseProbe>;

/** `probes.allow`: CIDRs (`10.0.0.0/8`, `fd00::/8`) the bot's own probes may connect to. */
const ProbeAllowList = z.array(
  z.string().refine((c) => cidrProblem(c) === undefined, { error: (iss) => cidrProblem(String(iss.input)) }),
);

/** The targets file: load balancers, probes, thresholds. */
export const DiagnosticsConfig = z.object({
  loadBalancers: z.array(LoadBalancerTarget).default([]),
  probes: z
    .object({
      database: DatabaseProbe.optional(),
      endpoints: z.array(z.url()).default([]),
      /** CIDRs the bot's own probes may connect to; loopback only when absent. */
      allow: ProbeAllowList.default(DEFAULT_PROBE_ALLOW),
    })
    .default({ endpoints: [], allow: DEFAULT_PROBE_ALLOW }),
  thresholds: Thresholds.default(Thresholds.parse({})),
});
export type DiagnosticsConfig = z.infer<typeof DiagnosticsConfig>;

/** A config plus the exact problems found (`targets.yml line 7, loadBalancers[1].kind: expected haproxy or nginx`). */
export interface LoadedConfig {
  config: DiagnosticsConfig;
  problems: string[];
}

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

/**
 * Parses targets YAML `text` (named `fileName` in messages). Never throws: invalid load balancers and probes are
 * dropped one by one and reported with their line and field; what is valid is kept; a bad threshold falls back
 * to its default.
 */
export function parseDiagnosticsConfig(text: string, fileName = 'targets.yml'): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const problems: string[] = [];
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;
  for (const e of doc.errors)
    problems.push(`${fileName} line ${lineOf(e.pos[0])}: ${e.message.split('\n')[0]}`);
  if (doc.errors.length > 0) return { config: DiagnosticsConfig.parse({}), problems };
  const data: unknown = doc.toJS() ?? {};
  const lineFor = (path: readonly PropertyKey[]): number => {
    // The deepest node that exists on the path gives the line.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as
        | { range?: [number, number, number] }
        | undefined;
      if (node && typeof node === 'object' && node.range) return lineOf(node.range[0]);
      if (n > 0) {
        const parent = doc.getIn(path.slice(0, n - 1) as (string | number)[], true);
        if (isMap(parent)) {
          const pair = parent.items.find((it) => (it.key as { value?: unknown })?.value === path[n - 1]);
          const key = pair?.key as { range?: [number, number, number] } | undefined;
          if (key?.range) return lineOf(key.range[0]);
        }
        if (isSeq(parent) && typeof path[n - 1] === 'number') continue;
      }
    }
    return 1;
  };
  const report = (issues: z.core.$ZodIssue[], prefix: PropertyKey[] = []) => {
    for (const iss of issues) {
      const path = [...prefix, ...iss.path];
      problems.push(`${fileName} line ${lineFor(path)}, ${pathText(path)}: ${iss.message}`);
    }
  };
  if (!data || typeof data !== 'object' || Array.isArray(data)) {
    problems.push(`${fileName} line 1: expected a mapping with loadBalancers, probes, thresholds`);
    return { config: DiagnosticsConfig.parse({}), problems };
  }
  const obj = data as Record<string, unknown>;
  const lbs: LoadBalancerTarget[] = [];
  if (obj.loadBalancers !== undefined && !Array.isArray(obj.loadBalancers)) {
    report(
      [{ code: 'custom', path: [], message: 'expected a list', input: obj.loadBalancers }],
      ['loadBalancers'],
    );
  }
  const seen = new Set<string>();
  (Array.isArray(obj.loadBalancers) ? obj.loadBalancers : []).forEach((lb, i) => {
    const r = LoadBalancerTarget.safeParse(lb);
    if (!r.success) {
      report(r.error.issues, ['loadBalancers', i]);
      return;
    }
    if (seen.has(r.data.name)) {
      problems.push(
        `${fileName} line ${lineFor(['loadBalancers', i, 'name'])}, loadBalancers[${i}].name: "${r.data.name}" is used twice`,
      );
      return;
    }
    seen.add(r.data.name);
    lbs.push(r.data);
  });
  const probes: DiagnosticsConfig['probes'] = { endpoints: [], allow: DEFAULT_PROBE_ALLOW };
  const rawProbes = (obj.probes ?? {}) as Record<string, unknown>;
  if (rawProbes.database !== undefined) {
    const r = DatabaseProbe.safeParse(rawProbes.database);
    if (r.success) probes.database = r.data;
    else report(r.error.issues, ['probes', 'database']);
  }
  if (rawProbes.allow !== undefined) {
    const r = ProbeAllowList.safeParse(rawProbes.allow);
    if (r.success) probes.allow = r.data;
    else {
      // A bad entry is dropped, not the list: widening to the default would be wrong, narrowing is safe.
      report(r.error.issues, ['probes', 'allow']);
      if (Array.isArray(rawProbes.allow))
        probes.allow = rawProbes.allow.filter((c): c is string => typeof c === 'string' && !cidrProblem(c));
    }
  }
  if (rawProbes.endpoints !== undefined) {
    const r = z.array(z.url()).safeParse(rawProbes.endpoints);
    if (r.success) probes.endpoints = r.data;
    else report(r.error.issues, ['probes', 'endpoints']);
  }
  const thresholdsRaw = (obj.thresholds ?? {}) as Record<string, unknown>;
  const th = Thresholds.safeParse(thresholdsRaw);
  let thresholds: Thresholds;
  if (th.success) thresholds = th.data;
  else {
    report(th.error.issues, ['thresholds']);
    const bad = new Set(th.error.issues.map((i) => i.path[0]));
    thresholds = Thresholds.parse(
      Object.fromEntries(Object.entries(thresholdsRaw).filter(([k]) => !bad.has(k))),
    );
  }
  for (const k of Object.keys(obj)) {
    if (!['loadBalancers', 'probes', 'thresholds'].includes(k))
      problems.push(`${fileName} line ${lineFor([k])}, ${k}: unknown key (ignored)`);
  }
  return { config: { loadBalancers: lbs, probes, thresholds }, problems };
}

/** Reads and parses a targets file (relative paths in it resolve against its directory); an unreadable file yields an empty config and one problem, never a throw. */
export async function loadDiagnosticsConfig(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return {
      config: DiagnosticsConfig.parse({}),
      problems: [`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`],
    };
  }
  const loaded = parseDiagnosticsConfig(text, path.split('/').pop() ?? path);
  // Relative file paths mean "next to the targets file", not "wherever the bot was started".
  const base = dirname(resolve(path));
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(base, p));
  loaded.config.loadBalancers = loaded.config.loadBalancers.map((lb) => {
    switch (lb.kind) {
      case 'haproxy':
        return {
          ...lb,
          stats: lb.stats && !/^(https?:\/\/|unix:)/.test(lb.stats) ? abs(lb.stats) : lb.stats,
          log: abs(lb.log),
          config: abs(lb.config),
        };
      case 'nginx':
        return { ...lb, accessLog: abs(lb.accessLog), config: abs(lb.config) };
      case 'envoy':
        return { ...lb, clusters: /^https?:\/\//.test(lb.clusters) ? lb.clusters : abs(lb.clusters)! };
      default:
        return { ...lb, targetHealth: abs(lb.targetHealth) };
    }
  });
  return loaded;
}
