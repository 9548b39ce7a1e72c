/** One nginx directive with its arguments, children (for blocks) and 1-based line. */
export interface NginxDirective {
  name: string;
  args: string[];
  line: number;
  children?: NginxDirective[];
}

/** A server in an `upstream` block: `server addr [weight=N] [down] [backup] ...`. */
export interface NginxUpstreamServer {
  address: string;
  weight: number;
  down: boolean;
  backup: boolean;
  maxFails?: number;
  line: number;
}

/** An `upstream` group: name, balancing method (`round-robin` unless `ip_hash`/`hash`/`least_conn`/...), servers. */
export interface NginxUpstream {
  name: string;
  method: string;
  servers: NginxUpstreamServer[];
  line: number;
}

/** A `location` that proxies: its match (`/api/`, `= /x`, `~ regex`), the `server_name`s of its server block, and the `proxy_pass` target. */
export interface NginxRoute {
  serverNames: string[];
  location: string;
  proxyPass: string;
  /** The upstream group named by `proxy_pass http://NAME...`, when one matches. */
  upstream?: string;
  line: number;
}

/** What {@link parseNginxConfig} extracts: upstreams, routes, and problems (unbalanced braces, `include`s not followed). */
export interface NginxConfig {
  upstreams: NginxUpstream[];
  routes: NginxRoute[];
  problems: string[];
}

/** Tokenizes and nests nginx config syntax (words, quotes, `{` `}` `;`, `#` comments); unbalanced input yields problems, not throws. */
export function parseNginxDirectives(text: string): { directives: NginxDirective[]; problems: string[] } {
  const problems: string[] = [];
  const root: NginxDirective[] = [];
  const stack: NginxDirective[][] = [root];
  const open: NginxDirective[] = [];
  let words: string[] = [];
  let wordsLine = 1;
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === ';' || c === '{') {
      const [name, ...args] = words;
      if (name === undefined) {
        problems.push(`line ${line}: unexpected "${c}"`);
      } else {
        const d: NginxDirective = { name, args, line: wordsLine };
        stack[stack.length - 1]!.push(d);
        if (c === '{') {
          d.children = [];
          stack.push(d.children);
          open.push(d);
        }
      }
      words = [];
      i++;
    } else if (c === '}') {
      if (words.length > 0) problems.push(`line ${line}: directive "${words[0]}" is missing ";"`);
      words = [];
      if (stack.length === 1) problems.push(`line ${line}: unexpected "}"`);
      else {
        stack.pop();
        open.pop();
      }
      i++;
    } else {
      let w = '';
      if (c === '"' || c === "'") {
        const end = text.indexOf(c, i + 1);
        w = text.slice(i + 1, end === -1 ? text.length : end);
        i = end === -1 ? text.length : end + 1;
      } else {
        while (i < text.length && !/[\s;{}]/.test(text[i]!)) w += text[i++];
      }
      if (words.length === 0) wordsLine = line;
      words.push(w);
    }
  }
  for (const d of open) problems.push(`line ${d.line}: block "${d.name}" is not closed`);
  return { directives: root, problems };
}

/**
 * Extracts `upstream` groups (servers, `weight=`, `down`, `backup`) and `location` → `proxy_pass` routes from
 * nginx config text (a full nginx.conf or a conf.d snippet). Never throws.
 * Format: https://nginx.org/en/docs/http/ngx_http_upstream_module.html#upstream
 */
export function parseNginxConfig(text: string): NginxConfig {
  const { directives, problems } = parseNginxDirectives(text);
  const upstreams: NginxUpstream[] = [];
  const routes: NginxRoute[] = [];
  const visit = (list: NginxDirective[], serverNames: string[]) => {
    for (const d of list) {
      if (d.name === 'include') problems.push(`line ${d.line}: include ${d.args.join(' ')} not followed`);
      if (d.name === 'upstream' && d.children) {
        const up: NginxUpstream = { name: d.args[0] ?? '', method: 'round-robin', servers: [], line: d.line };
        for (const s of d.children) {
          if (['ip_hash', 'hash', 'least_conn', 'random', 'least_time'].includes(s.name)) {
            up.method = [s.name, ...s.args].join(' ');
          }
          if (s.name !== 'server') continue;
          const [address = '', ...params] = s.args;
          const kv = new Map(
            params.filter((p) => p.includes('=')).map((p) => p.split('=', 2) as [string, string]),
          );
          up.servers.push({
            address,
            weight: Number(kv.get('weight') ?? 1),
            down: params.includes('down'),
            backup: params.includes('backup'),
            maxFails: kv.has('max_fails') ? Number(kv.get('max_fails')) : undefined,
            line: s.line,
          });
        }
        upstreams.push(up);
      } else if (d.name === 'server' && d.children) {
        const names = d.children.filter((c) => c.name === 'server_name').flatMap((c) => c.args);
        visit(d.children, names);
      } else if (d.name === 'location' && d.children) {
        const pass = d.children.find((c) => c.name === 'proxy_pass');
        if (pass?.args[0]) {
          routes.push({ serverNames, location: d.args.join(' '), proxyPass: pass.args[0], line: pass.line });
        }
        visit(d.children, serverNames);
      } else if (d.children) {
        visit(d.children, serverNames);
      }
    }
  };
  visit(directives, []);
  const names = new Set(upstreams.map((u) => u.name));
  for (const r of routes) {
    const host = /^[a-z]+:\/\/([^/:$]+)/.exec(r.proxyPass)?.[1];
    if (host && names.has(host)) r.upstream = host;
  }
  return { upstreams, routes, problems };
}
