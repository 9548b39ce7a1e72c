import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { glob } from 'tinyglobby';

/** One nginx directive with its arguments, children (for blocks), 1-based line and, when included, its file. */
export interface NginxDirective {
  name: string;
  args: string[];
  line: number;
  children?: NginxDirective[];
  /** The included file it comes from (see {@link NginxConfigFile.label}); absent for the main file. */
  file?: string;
}

/** A server in an `upstream` block: `server addr [weight=N] [down] [backup] ...`. */
export interface NginxUpstreamServer {
  address: string;
  weight: number;
  down: boolean;
  backup: boolean;
  maxFails?: number;
  line: number;
  /** The included file it comes from; absent for the main file. */
  file?: string;
}

/** An `upstream` group: name, balancing method (`round-robin` unless `ip_hash`/`hash`/`least_conn`/...), servers. */
export interface NginxUpstream {
  name: string;
  method: string;
  servers: NginxUpstreamServer[];
  line: number;
  /** The included file it comes from; absent for the main file. */
  file?: string;
}

/** A `location` that proxies: its match (`/api/`, `= /x`, `~ regex`), the `server_name`s of its server block, and the `proxy_pass` target. */
export interface NginxRoute {
  serverNames: string[];
  location: string;
  proxyPass: string;
  /** The upstream group named by `proxy_pass http://NAME...`, when one matches. */
  upstream?: string;
  line: number;
  /** The included file of its `proxy_pass`; absent for the main file. */
  file?: string;
}

/**
 * What {@link parseNginxConfig} and {@link loadNginxConfig} extract: upstreams, routes, and problems (unbalanced
 * braces; `include`s not followed, missing, cyclic or too deep). Problems in the main file read `line N: ...`,
 * those in an included file `conf.d/api.conf line N: ...`.
 */
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
 * nginx config text (a full nginx.conf or a conf.d snippet). Never throws. `include`s are reported, not
 * followed: {@link loadNginxConfig} reads a config file with its includes.
 * Format: https://nginx.org/en/docs/http/ngx_http_upstream_module.html#upstream
 */
export function parseNginxConfig(text: string): NginxConfig {
  const { directives, problems } = parseNginxDirectives(text);
  return extract(directives, problems);
}

/** `line N` for the main file, `conf.d/x.conf line N` for an included one. */
function at(file: string | undefined, line: number): string {
  return file === undefined ? `line ${line}` : `${file} line ${line}`;
}

function extract(directives: NginxDirective[], problems: string[]): NginxConfig {
  const upstreams: NginxUpstream[] = [];
  const routes: NginxRoute[] = [];
  const visit = (list: NginxDirective[], serverNames: string[]) => {
    for (const d of list) {
      if (d.name === 'include')
        problems.push(`${at(d.file, d.line)}: include ${d.args.join(' ')} not followed`);
      if (d.name === 'upstream' && d.children) {
        const up: NginxUpstream = { name: d.args[0] ?? '', method: 'round-robin', servers: [], line: d.line };
        if (d.file !== undefined) up.file = d.file;
        for (const s of d.children) {
          if (['ip_hash', 'hash', 'least_conn', 'random', 'least_time'].includes(s.name)) {
            up.method = [s.name, ...s.args].join(' ');
          }
          if (s.name !== 'server') continue;
          const [address = '', ...params] = s.args;
          const kv = new Map(
            params.filter((p) => p.includes('=')).map((p) => p.split('=', 2) as [string, string]),
          );
          const server: NginxUpstreamServer = {
            address,
            weight: Number(kv.get('weight') ?? 1),
            down: params.includes('down'),
            backup: params.includes('backup'),
            maxFails: kv.has('max_fails') ? Number(kv.get('max_fails')) : undefined,
            line: s.line,
          };
          if (s.file !== undefined) server.file = s.file;
          up.servers.push(server);
        }
        upstreams.push(up);
      } else if (d.name === 'server' && d.children) {
        const names = d.children.filter((c) => c.name === 'server_name').flatMap((c) => c.args);
        visit(d.children, names);
      } else if (d.name === 'location' && d.children) {
        const pass = d.children.find((c) => c.name === 'proxy_pass');
        if (pass?.args[0]) {
          const route: NginxRoute = {
            serverNames,
            location: d.args.join(' '),
            proxyPass: pass.args[0],
            line: pass.line,
          };
          if (pass.file !== undefined) route.file = pass.file;
          routes.push(route);
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
  return { upstreams, routes, problems: [...new Set(problems)] };
}

/** One file read by {@link loadNginxConfig}: the main config first, then included files in first-include order. */
export interface NginxConfigFile {
  /** Absolute path. */
  path: string;
  /** The name problems use: relative to the main file's directory (nginx's conf prefix) when inside it, else absolute. */
  label: string;
  text: string;
  mtimeMs: number;
}

/** A config read from disk with its includes: what {@link parseNginxConfig} extracts, plus the files read. */
export interface LoadedNginxConfig extends NginxConfig {
  files: NginxConfigFile[];
}

/** Include nesting beyond this is reported, not followed (nginx itself has no limit; a cycle would exhaust it). */
export const NGINX_MAX_INCLUDE_DEPTH = 16;

const GLOB_MAGIC = /[*?[]/;

/** Expands an absolute glob mask like nginx's glob(3): sorted, `*` skips dot files, no braces or `**`; directories included. */
async function expandMask(mask: string): Promise<string[]> {
  const parts = mask.split('/');
  const firstMagic = parts.findIndex((p) => GLOB_MAGIC.test(p));
  const cwd = parts.slice(0, firstMagic).join('/') || '/';
  const matches = await glob(parts.slice(firstMagic).join('/'), {
    cwd,
    absolute: true,
    onlyFiles: false,
    dot: false,
    expandDirectories: false,
    braceExpansion: false,
    extglob: false,
    globstar: false,
    followSymbolicLinks: true,
  });
  // C-locale order, as nginx (which never calls setlocale) gets from glob(3).
  return matches
    .map((m) => (m.length > 1 && m.endsWith('/') ? m.slice(0, -1) : m))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function readError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES') return 'is not readable';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

/**
 * Reads an nginx config file and follows its `include`s as nginx does
 * (https://nginx.org/en/docs/ngx_core_module.html#include): relative paths resolve against the main file's
 * directory (the conf prefix, not the including file's), masks (`conf.d/*.conf`, `sites-enabled/*`) expand in
 * sorted order and may match nothing, and each included file's directives take the `include`'s place in its
 * context (`http {}`, `server {}`, `upstream {}`, ...). A missing included file, a cycle or nesting deeper than
 * {@link NGINX_MAX_INCLUDE_DEPTH} is a problem naming the file and line; only an unreadable main file rejects.
 */
export async function loadNginxConfig(
  mainPath: string,
  opts: { maxDepth?: number } = {},
): Promise<LoadedNginxConfig> {
  const maxDepth = opts.maxDepth ?? NGINX_MAX_INCLUDE_DEPTH;
  const main = resolve(mainPath);
  const prefix = dirname(main);
  const labelOf = (abs: string) => {
    const rel = relative(prefix, abs);
    return rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel) ? abs : rel;
  };
  const files = new Map<string, NginxConfigFile>();
  const problems: string[] = [];

  const read = async (abs: string): Promise<NginxConfigFile> => {
    let f = files.get(abs);
    if (!f) {
      const [text, st] = await Promise.all([readFile(abs, 'utf8'), stat(abs)]);
      f = { path: abs, label: labelOf(abs), text, mtimeMs: st.mtimeMs };
      files.set(abs, f);
    }
    return f;
  };

  /** Parses one file's text into directives tagged with `file`, following its includes; `chain` holds the includers. */
  const parseFile = async (f: NginxConfigFile, file: string | undefined, chain: string[]) => {
    const parsed = parseNginxDirectives(f.text);
    for (const p of parsed.problems) problems.push(file === undefined ? p : `${file} ${p}`);
    return expand(parsed.directives, file, [...chain, f.path]);
  };

  const expand = async (list: NginxDirective[], file: string | undefined, chain: string[]) => {
    const out: NginxDirective[] = [];
    for (const d of list) {
      if (file !== undefined) d.file = file;
      if (d.name !== 'include') {
        if (d.children) d.children = await expand(d.children, file, chain);
        out.push(d);
        continue;
      }
      const where = at(file, d.line);
      const [arg] = d.args;
      if (d.args.length !== 1 || !arg || d.children) {
        problems.push(`${where}: include takes one file or mask, got "${d.args.join(' ')}"`);
        continue;
      }
      const target = resolve(prefix, arg);
      const mask = GLOB_MAGIC.test(arg);
      let paths: string[];
      if (mask) {
        try {
          paths = await expandMask(target);
        } catch (err) {
          problems.push(`${where}: include ${arg}: ${readError(err)}`);
          continue;
        }
      } else paths = [target];
      for (const abs of paths) {
        const label = labelOf(abs);
        if (chain.includes(abs)) {
          const cycle = [...chain.slice(chain.indexOf(abs)), abs].map(labelOf).join(' -> ');
          problems.push(`${where}: include ${arg}: cycle ${cycle}, not followed`);
          continue;
        }
        if (chain.length > maxDepth) {
          problems.push(`${where}: include ${arg}: nested more than ${maxDepth} deep, not followed`);
          continue;
        }
        let f: NginxConfigFile;
        try {
          f = await read(abs);
        } catch (err) {
          const name = label === arg ? arg : `${arg}: ${label}`;
          problems.push(`${where}: include ${name} ${readError(err)}`);
          continue;
        }
        out.push(...(await parseFile(f, label, chain)));
      }
    }
    return out;
  };

  const root = await read(main);
  const directives = await parseFile(root, undefined, []);
  return { ...extract(directives, problems), files: [...files.values()] };
}
