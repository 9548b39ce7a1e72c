import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Pool, PoolServer } from '../model.js';

/*
 * Envoy's admin `/clusters` endpoint, JSON (`?format=json`, the admin.v3.Clusters proto) or text.
 * https://www.envoyproxy.io/docs/envoy/latest/operations/admin#get--clusters
 * https://www.envoyproxy.io/docs/envoy/latest/api-v3/admin/v3/clusters.proto
 * Per-host counters (cx_connect_fail, rq_total, rq_error = responses with 5xx, rq_success, rq_timeout, ...):
 * the "Per host statistics" table of the admin doc. Proto JSON leaves out fields at their default (a counter at
 * 0, a false flag, weight 0), and writes uint64 counter values as strings.
 */

/** One upstream host of an Envoy cluster, as `/clusters` shows it. */
export interface EnvoyHost {
  /** `ip:port` (`[v6]:port`), or a pipe path. */
  address: string;
  hostname?: string;
  /** Load-balancing weight (1-128; Envoy never reports 0, so a missing weight counts as 1). */
  weight: number;
  priority: number;
  /** Envoy's health flags in the text form's names (`failed_active_hc`, `degraded_eds_health`, ...); none when healthy. */
  flags: string[];
  /** Envoy's coarse health of the host: unhealthy on a failed check or EDS status, degraded on a degraded one. */
  health: 'healthy' | 'degraded' | 'unhealthy';
  /** Every counter and gauge by name (`rq_total`, `rq_error`, `cx_connect_fail`, ...); absent ones are 0. */
  stats: Record<string, number>;
  /** Outlier detection's success rate in the last interval (0-100), when Envoy computed one. */
  successRate?: number;
}

/** One cluster of `/clusters`. */
export interface EnvoyCluster {
  name: string;
  hosts: EnvoyHost[];
}

/** Input that is not Envoy `/clusters` output; the message names the field (`cluster_statuses[0].host_statuses[1].weight`). */
export class EnvoyClustersError extends Error {}

// Names as the text form prints them (source/server/admin/clusters_handler.cc).
const UNHEALTHY = new Set([
  'failed_active_hc',
  'failed_outlier_check',
  'failed_eds_health',
  'eds_status_draining',
]);
const DEGRADED = new Set(['degraded_active_hc', 'degraded_eds_health']);

function healthOf(flags: string[]): EnvoyHost['health'] {
  if (flags.some((f) => UNHEALTHY.has(f))) return 'unhealthy';
  if (flags.some((f) => DEGRADED.has(f))) return 'degraded';
  return 'healthy';
}

const UInt = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, 'expected a whole number')]);
const Percent = z.object({ value: z.number() });

const HostStatus = z.object({
  address: z.object({
    socket_address: z
      .object({
        address: z.string().min(1),
        port_value: z.number().int().min(0).max(65535).optional(),
        named_port: z.string().optional(),
      })
      .optional(),
    pipe: z.object({ path: z.string().min(1) }).optional(),
    envoy_internal_address: z.object({ server_listener_name: z.string().optional() }).loose().optional(),
  }),
  stats: z
    .array(
      z.object({
        name: z.string().min(1),
        value: UInt.optional(),
        type: z.enum(['COUNTER', 'GAUGE']).optional(),
      }),
    )
    .default([]),
  health_status: z
    .object({
      failed_active_health_check: z.boolean().optional(),
      failed_outlier_check: z.boolean().optional(),
      failed_active_degraded_check: z.boolean().optional(),
      pending_dynamic_removal: z.boolean().optional(),
      pending_active_hc: z.boolean().optional(),
      excluded_via_immediate_hc_fail: z.boolean().optional(),
      active_hc_timeout: z.boolean().optional(),
      eds_health_status: z
        .enum(['UNKNOWN', 'HEALTHY', 'UNHEALTHY', 'DRAINING', 'TIMEOUT', 'DEGRADED'])
        .optional(),
    })
    .default({}),
  success_rate: Percent.optional(),
  weight: z.number().int().nonnegative().optional(),
  hostname: z.string().optional(),
  priority: z.number().int().nonnegative().optional(),
});

const ClustersJson = z.object({
  cluster_statuses: z
    .array(z.object({ name: z.string().min(1), host_statuses: z.array(HostStatus).default([]) }))
    .default([]),
});

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(top level)';
}

function jsonFlags(h: z.infer<typeof HostStatus>['health_status']): string[] {
  const f: string[] = [];
  if (h.failed_active_health_check) f.push('failed_active_hc');
  if (h.failed_outlier_check) f.push('failed_outlier_check');
  if (h.eds_health_status === 'UNHEALTHY' || h.eds_health_status === 'TIMEOUT') f.push('failed_eds_health');
  if (h.failed_active_degraded_check) f.push('degraded_active_hc');
  if (h.eds_health_status === 'DEGRADED') f.push('degraded_eds_health');
  if (h.eds_health_status === 'DRAINING') f.push('eds_status_draining');
  if (h.pending_dynamic_removal) f.push('pending_dynamic_removal');
  if (h.pending_active_hc) f.push('pending_active_hc');
  if (h.excluded_via_immediate_hc_fail) f.push('excluded_via_immediate_hc_fail');
  if (h.active_hc_timeout) f.push('active_hc_timeout');
  return f;
}

/** Parses `/clusters?format=json` (admin.v3.Clusters). Throws EnvoyClustersError naming the bad field. */
export function parseEnvoyClustersJson(text: string): EnvoyCluster[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new EnvoyClustersError(`not JSON: ${(err as Error).message}`);
  }
  const r = ClustersJson.safeParse(data);
  if (!r.success) {
    const iss = r.error.issues[0]!;
    throw new EnvoyClustersError(`${pathText(iss.path)}: ${iss.message}`);
  }
  if (data && typeof data === 'object' && !('cluster_statuses' in data))
    throw new EnvoyClustersError('cluster_statuses: missing (is this Envoy /clusters?format=json?)');
  return r.data.cluster_statuses.map((c) => ({
    name: c.name,
    hosts: c.host_statuses.map((h) => {
      const a = h.address;
      const address = a.socket_address
        ? `${a.socket_address.address.includes(':') ? `[${a.socket_address.address}]` : a.socket_address.address}:${a.socket_address.port_value ?? a.socket_address.named_port ?? 0}`
        : (a.pipe?.path ?? `envoy://${a.envoy_internal_address?.server_listener_name ?? ''}`);
      const flags = jsonFlags(h.health_status);
      return {
        address,
        hostname: h.hostname || undefined,
        weight: h.weight ?? 1,
        priority: h.priority ?? 0,
        flags,
        health: healthOf(flags),
        stats: Object.fromEntries(h.stats.map((s) => [s.name, Number(s.value ?? 0)])),
        successRate: h.success_rate?.value,
      };
    }),
  }));
}

const CLUSTER_KEYS = new Set([
  'observability_name',
  'outlier',
  'default_priority',
  'high_priority',
  'added_via_api',
  'eds_service_name',
]);

/** Parses the text form of `/clusters` (`cluster::host::stat::value` lines). Throws EnvoyClustersError naming the line. */
export function parseEnvoyClustersText(text: string): EnvoyCluster[] {
  const clusters = new Map<string, Map<string, EnvoyHost>>();
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') return;
    const where = `line ${i + 1}`;
    const first = line.indexOf('::');
    if (first <= 0)
      throw new EnvoyClustersError(`${where}: expected cluster::...::value, got "${line.slice(0, 80)}"`);
    const cluster = line.slice(0, first);
    if (cluster === 'version_info') return;
    const rest = line.slice(first + 2);
    let hosts = clusters.get(cluster);
    if (!hosts) {
      hosts = new Map();
      clusters.set(cluster, hosts);
    }
    // An IPv6 host is `[::1]:80`, whose colons are not separators.
    const m = /^(\[[^\]]*\]:\d+|[^:]+(?::(?!:)[^:]*)*)::([^:]+)::(.*)$/.exec(rest);
    const key = rest.split('::')[0]!;
    if (CLUSTER_KEYS.has(key)) return;
    if (!m)
      throw new EnvoyClustersError(
        `${where}: expected ${cluster}::<host>::<stat>::<value>, got "${line.slice(0, 80)}"`,
      );
    const [, address, stat, value] = m as unknown as [string, string, string, string];
    let h = hosts.get(address);
    if (!h) {
      h = { address, weight: 1, priority: 0, flags: [], health: 'healthy', stats: {} };
      hosts.set(address, h);
    }
    const number = (field: string) => {
      const n = Number(value);
      if (value === '' || !Number.isFinite(n))
        throw new EnvoyClustersError(
          `${where}, ${cluster}/${address} ${field}: expected a number, got "${value}"`,
        );
      return n;
    };
    switch (stat) {
      case 'health_flags': {
        if (!value.startsWith('/') && value !== 'healthy')
          throw new EnvoyClustersError(
            `${where}, ${cluster}/${address} health_flags: expected "healthy" or /flag/flag..., got "${value}"`,
          );
        // Flags newer than this parser are kept (and shown) but do not change the coarse health.
        h.flags = value === 'healthy' ? [] : value.split('/').filter(Boolean);
        h.health = healthOf(h.flags);
        break;
      }
      case 'weight':
        h.weight = number('weight');
        break;
      case 'priority':
        h.priority = number('priority');
        break;
      case 'hostname':
        h.hostname = value || undefined;
        break;
      case 'success_rate': {
        const n = number('success_rate');
        if (n >= 0) h.successRate = n;
        break;
      }
      case 'region':
      case 'zone':
      case 'sub_zone':
      case 'canary':
      case 'local_origin_success_rate':
        break;
      default:
        h.stats[stat] = number(stat);
    }
  });
  return [...clusters].map(([name, hosts]) => ({ name, hosts: [...hosts.values()] }));
}

/** Parses either form of `/clusters`: JSON when it starts with `{`, else text. Throws EnvoyClustersError. */
export function parseEnvoyClusters(text: string): EnvoyCluster[] {
  const t = text.trimStart();
  if (t === '') throw new EnvoyClustersError('empty: no clusters in the answer');
  return t.startsWith('{') ? parseEnvoyClustersJson(t) : parseEnvoyClustersText(text);
}

/**
 * Reads `/clusters` from an admin URL (`http://127.0.0.1:9901/clusters?format=json`, fetched) or a file of its
 * output. Rejects with the URL or path and the reason (unreachable, HTTP status).
 */
export async function fetchEnvoyClusters(
  source: string,
  opts: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<string> {
  const timeout = AbortSignal.timeout(opts.timeoutMs ?? 3000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  if (!/^https?:\/\//.test(source)) return await readFile(source, { encoding: 'utf8', signal });
  let res: Response;
  try {
    res = await fetch(source, { signal });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      `envoy clusters ${source} unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    );
  }
  if (!res.ok) throw new Error(`envoy clusters ${source} answered HTTP ${res.status}`);
  return await res.text();
}

/**
 * Pools from Envoy clusters: one per cluster, a server per host named by its address. Unhealthy hosts are not
 * usable; degraded hosts count as backups, since Envoy sends them traffic only when too few hosts are healthy.
 * Sessions and 5xx are the host's `rq_total` and `rq_error` since Envoy started.
 */
export function poolsFromEnvoyClusters(clusters: EnvoyCluster[]): Pool[] {
  return clusters.map((c) => ({
    name: c.name,
    servers: c.hosts.map(
      (h): PoolServer => ({
        name: h.address,
        address: h.address.startsWith('/') || h.address.startsWith('envoy://') ? undefined : h.address,
        status: h.flags.length > 0 ? `${h.health} (${h.flags.join(', ')})` : h.health,
        usable: h.health !== 'unhealthy' && h.weight > 0,
        weight: h.weight,
        backup: h.health === 'degraded',
        sessions: h.stats.rq_total,
        errors5xx: h.stats.rq_error,
      }),
    ),
  }));
}
