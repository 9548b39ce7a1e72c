import type { HaproxyConfig } from './sources/haproxy-config.js';
import type { StatsSnapshot } from './sources/haproxy-stats.js';
import type { NginxConfig } from './sources/nginx-config.js';

/** A server as the checks see it, whatever the source (HAProxy stats, HAProxy config, nginx config). */
export interface PoolServer {
  name: string;
  address?: string;
  /** Source status: HAProxy `UP`, `DOWN`, `MAINT`, `DRAIN`, `NOLB`, `no check`; nginx `down` or `up?` (nginx OSS has no health status). */
  status: string;
  /** Takes new load-balanced requests: up (or unchecked) and weight > 0. */
  usable: boolean;
  weight: number;
  backup: boolean;
  checkStatus?: string;
  checkDetail?: string;
  checkFailures?: number;
  queued?: number;
  /** Seconds since the last UP<->DOWN change (HAProxy `lastchg`). */
  lastChangeSec?: number;
  /** Cumulative sessions (HAProxy `stot`). */
  sessions?: number;
  errors5xx?: number;
  /** HAProxy `slowstart` in ms: after coming back up the server's weight ramps over this time. */
  slowstartMs?: number;
}

/** A backend / upstream group. */
export interface Pool {
  name: string;
  /** Balancing algorithm: HAProxy `balance` (`roundrobin`, `source`, ...) or nginx method. */
  algo?: string;
  servers: PoolServer[];
  /** Requests queued on the backend with no server assigned (HAProxy backend `qcur`). */
  queued?: number;
  /** Session persistence that pins clients to servers: HAProxy `cookie ...` or `stick on ...`; absent when none. */
  persistence?: string;
}

/** HAProxy status strings that mean the server takes new traffic (`UP 1/3` is going down but still up). */
function haproxyUsable(status: string, weight: number): boolean {
  return (status.startsWith('UP') || status === 'no check') && weight > 0;
}

/** Builds pools from `show stat` rows: one per backend (type 1), servers from type-2 rows. */
export function poolsFromStats(snapshot: StatsSnapshot): Pool[] {
  const pools = new Map<string, Pool>();
  for (const r of snapshot.rows) {
    if (r.type === 1) {
      const p = pools.get(r.pxname) ?? { name: r.pxname, servers: [] };
      p.algo = r.algo;
      p.queued = r.qcur;
      pools.set(r.pxname, p);
    }
  }
  for (const r of snapshot.rows) {
    if (r.type !== 2) continue;
    let p = pools.get(r.pxname);
    if (!p) {
      p = { name: r.pxname, servers: [] };
      pools.set(r.pxname, p);
    }
    const weight = r.weight ?? 1;
    p.servers.push({
      name: r.svname,
      address: r.addr,
      status: r.status,
      usable: haproxyUsable(r.status, weight),
      weight,
      backup: (r.bck ?? 0) > 0,
      checkStatus: r.checkStatus?.replace(/^\* /, ''),
      checkDetail: r.checkDesc ?? r.lastChk,
      checkFailures: r.chkfail,
      queued: r.qcur,
      lastChangeSec: r.lastchg,
      sessions: r.stot,
      errors5xx: r.hrsp5xx,
    });
  }
  return [...pools.values()];
}

/** Builds pools from a HAProxy config alone (no live status: servers are `unknown`, usable unless `disabled` or weight 0). */
export function poolsFromHaproxyConfig(cfg: HaproxyConfig): Pool[] {
  return cfg.proxies
    .filter((p) => p.kind !== 'frontend')
    .map((p) => ({
      name: p.name,
      algo: p.balance ?? 'roundrobin',
      ...(p.persistence !== undefined ? { persistence: p.persistence } : {}),
      servers: p.servers.map((s) => ({
        name: s.name,
        address: s.address,
        status: s.disabled ? 'MAINT' : 'unknown',
        usable: !s.disabled && s.weight > 0,
        weight: s.weight,
        backup: s.backup,
      })),
    }));
}

/** Builds pools from nginx `upstream` blocks; server names are their `addr:port` as in `$upstream_addr`. */
export function poolsFromNginxConfig(cfg: NginxConfig): Pool[] {
  return cfg.upstreams.map((u) => ({
    name: u.name,
    algo: u.method,
    servers: u.servers.map((s) => ({
      name: s.address,
      address: s.address,
      status: s.down ? 'down' : 'up?',
      usable: !s.down && s.weight > 0,
      weight: s.weight,
      backup: s.backup,
    })),
  }));
}

/** The servers that share a pool's new requests: usable active servers, or usable backups when no active one is. */
export function sharingServers(pool: Pool): PoolServer[] {
  const active = pool.servers.filter((s) => s.usable && !s.backup);
  return active.length > 0 ? active : pool.servers.filter((s) => s.usable && s.backup);
}

/** Formats a 0..1 share as a percentage with one decimal under 10%. */
export function pct(share: number): string {
  const p = share * 100;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.round(p)}%`;
}
