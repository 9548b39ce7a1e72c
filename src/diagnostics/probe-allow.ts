import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** What `probes.allow` is when the targets file does not set it: loopback only, so nothing leaves the host unasked. */
export const DEFAULT_PROBE_ALLOW = ['127.0.0.0/8', '::1/128'];

/** Why a CIDR is not one (`10.0.0.0/33`: prefix out of range), or undefined for a valid `a.b.c.d/n` or `v6/n`. */
export function cidrProblem(cidr: string): string | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return `"${cidr}" is not a CIDR (address/prefix, e.g. 10.0.0.0/8)`;
  const family = isIP(m[1]!);
  if (family === 0) return `"${m[1]}" is not an IP address`;
  if (Number(m[2]) > (family === 4 ? 32 : 128)) return `prefix /${m[2]} is out of range for IPv${family}`;
  return undefined;
}

/** The outcome of asking whether the bot may probe a host: the address to use, or why not. */
export type ProbeAdmission = { ok: true; ip: string } | { ok: false; reason: string };

/**
 * The `probes.allow` list: the bot's own probes (backend-connect, database, endpoints) go only to addresses
 * inside these CIDRs. A host name is resolved first, and every address it resolves to must be admitted.
 */
export class ProbeAllow {
  private readonly list = new BlockList();
  constructor(readonly cidrs: string[] = DEFAULT_PROBE_ALLOW) {
    for (const c of cidrs) {
      if (cidrProblem(c)) continue;
      const [net, prefix] = c.split('/') as [string, string];
      this.list.addSubnet(net, Number(prefix), isIP(net) === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** Resolves `host` (a name or an address) and says whether every address it has is inside the list; never rejects. */
  async admits(host: string): Promise<ProbeAdmission> {
    const bare = host.replace(/^\[|\]$/g, '');
    let ips: string[];
    if (isIP(bare)) ips = [bare];
    else {
      try {
        ips = (await lookup(bare, { all: true })).map((a) => a.address);
      } catch (err) {
        return {
          ok: false,
          reason: `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? err})`,
        };
      }
    }
    const outside = ips.filter((ip) => !this.list.check(ip, isIP(ip) === 6 ? 'ipv6' : 'ipv4'));
    if (outside.length > 0)
      return {
        ok: false,
        reason: `${host}${outside[0] === bare ? '' : ` (${outside.join(', ')})`} is outside probes.allow (${this.cidrs.join(', ')}): not probed; add its network to probes.allow to let the bot connect to it`,
      };
    return { ok: true, ip: ips[0]! };
  }
}
