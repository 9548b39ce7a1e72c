/** A `server` line: name, address, `weight` (default 1), `check`, `backup`, `disabled`, and its 1-based line. */
export interface HaproxyServer {
  name: string;
  address: string;
  weight: number;
  check: boolean;
  backup: boolean;
  disabled: boolean;
  /** `slowstart` in ms, when set. */
  slowstartMs?: number;
  line: number;
}

/** A routing rule: `use_backend` (frontend → backend) or `use-server` (backend → server), with its condition made readable. */
export interface HaproxyRule {
  kind: 'use_backend' | 'use-server';
  target: string;
  /** `if`/`unless` condition with named ACLs expanded, e.g. `path_beg /api`; empty when unconditional. */
  condition: string;
  line: number;
}

/** A frontend, backend or listen section. */
export interface HaproxyProxy {
  kind: 'frontend' | 'backend' | 'listen';
  name: string;
  line: number;
  balance?: string;
  /** `cookie <name> ...` or `stick on|match ...` as written: persistence that pins clients to servers. */
  persistence?: string;
  servers: HaproxyServer[];
  rules: HaproxyRule[];
  defaultBackend?: string;
  acls: Record<string, string[]>;
}

/** Proxies found in a HAProxy config, plus problems (directives outside sections, bad `weight`). */
export interface HaproxyConfig {
  proxies: HaproxyProxy[];
  problems: string[];
}

/** Splits a config line into words: whitespace-separated, `"..."`/`'...'` quoting, `\ ` escapes, `#` comments. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      has = true;
    } else if (c === '#') {
      break;
    } else if (c === ' ' || c === '\t') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (has) out.push(cur);
  return out;
}

/**
 * Parses the parts of a HAProxy config that decide where requests go: sections, `balance`, `server`
 * (weight/check/backup/disabled, `default-server` defaults), `acl`, `use_backend ... if|unless`,
 * `use-server`, `default_backend`. Never throws.
 * Format: https://docs.haproxy.org/2.6/configuration.html#4
 */
export function parseHaproxyConfig(text: string): HaproxyConfig {
  const proxies: HaproxyProxy[] = [];
  const problems: string[] = [];
  let cur: HaproxyProxy | undefined;
  let defaults: { balance?: string; defaultServer: string[] } = { defaultServer: [] };
  let section = '';
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const w = words(lines[n]!);
    if (w.length === 0) continue;
    const kw = w[0]!;
    const lineNo = n + 1;
    if (
      [
        'global',
        'defaults',
        'frontend',
        'backend',
        'listen',
        'peers',
        'resolvers',
        'userlist',
        'program',
        'cache',
        'mailers',
        'ring',
        'http-errors',
      ].includes(kw)
    ) {
      section = kw;
      cur = undefined;
      if (kw === 'defaults') defaults = { defaultServer: [] };
      if (kw === 'frontend' || kw === 'backend' || kw === 'listen') {
        cur = {
          kind: kw,
          name: w[1] ?? '',
          line: lineNo,
          balance: kw === 'frontend' ? undefined : defaults.balance,
          servers: [],
          rules: [],
          acls: {},
        };
        if (!cur.name) problems.push(`line ${lineNo}: ${kw} without a name`);
        proxies.push(cur);
      }
      continue;
    }
    if (section === 'defaults') {
      if (kw === 'balance') defaults.balance = w.slice(1).join(' ');
      if (kw === 'default-server') defaults.defaultServer = w.slice(1);
      if (kw === 'default_backend')
        problems.push(`line ${lineNo}: default_backend in defaults is not tracked`);
      continue;
    }
    if (!cur) continue;
    switch (kw) {
      case 'balance':
        cur.balance = w.slice(1).join(' ');
        break;
      case 'default-server':
        defaults = { ...defaults, defaultServer: w.slice(1) };
        break;
      case 'cookie':
      case 'stick':
        if (cur.kind !== 'frontend') cur.persistence = w.join(' ');
        break;
      case 'acl': {
        const name = w[1];
        if (name) cur.acls[name] = [...(cur.acls[name] ?? []), w.slice(2).join(' ')];
        break;
      }
      case 'default_backend':
        if (w[1]) cur.defaultBackend = w[1];
        break;
      case 'use_backend':
      case 'use-server': {
        const target = w[1];
        if (!target) {
          problems.push(`line ${lineNo}: ${kw} without a target`);
          break;
        }
        cur.rules.push({ kind: kw, target, condition: condition(w.slice(2), cur.acls), line: lineNo });
        break;
      }
      case 'server': {
        const params = [...defaults.defaultServer, ...w.slice(3)];
        let weight = 1;
        const wi = params.lastIndexOf('weight');
        if (wi !== -1) {
          const v = Number(params[wi + 1]);
          if (Number.isInteger(v) && v >= 0 && v <= 256) weight = v;
          else
            problems.push(`line ${lineNo}: server ${w[1]} has weight "${params[wi + 1]}", expected 0..256`);
        }
        cur.servers.push({
          name: w[1] ?? '',
          address: w[2] ?? '',
          weight,
          check: params.includes('check'),
          backup: params.includes('backup'),
          disabled: params.includes('disabled'),
          ...slowstart(params),
          line: lineNo,
        });
        break;
      }
    }
  }
  return { proxies, problems };
}

/** Renders `if|unless cond...` with named ACLs replaced by their criteria (`{ path_beg /api }` → `path_beg /api`). */
function condition(rest: string[], acls: Record<string, string[]>): string {
  if (rest.length === 0) return '';
  const [mode, ...terms] = rest;
  const out: string[] = [];
  for (const t of terms) {
    if (t === '{' || t === '}') continue;
    const neg = t.startsWith('!');
    const name = neg ? t.slice(1) : t;
    const def = acls[name];
    if (def) out.push(`${neg ? 'not ' : ''}${def.length === 1 ? def[0] : `(${def.join(' or ')})`}`);
    else out.push(t);
  }
  const text = out.join(' ');
  return mode === 'unless' ? `unless ${text}` : text;
}

/** `slowstart <time>` (HAProxy time: `10s`, `500ms`, `1m`; bare numbers are ms) as `{ slowstartMs }`, or nothing. */
function slowstart(params: string[]): { slowstartMs?: number } {
  const i = params.lastIndexOf('slowstart');
  if (i === -1) return {};
  const m = /^(\d+)(us|ms|s|m|h|d)?$/.exec(params[i + 1] ?? '');
  if (!m) return {};
  const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
  return { slowstartMs: Number(m[1]) * unit };
}
