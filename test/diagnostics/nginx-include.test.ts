import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDiagnosticsConfig } from '../../src/diagnostics/config.js';
import { runDiagnostics } from '../../src/diagnostics/run.js';
import { loadNginxConfig } from '../../src/diagnostics/sources/nginx-config.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes `files` (path relative to a new temp dir -> text) and returns the dir. */
function layout(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'nginx-include-'));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text.replaceAll('DIR', dir));
  }
  return dir;
}

/**
 * A Debian-style split config: upstreams and servers in conf.d/*.conf (sorted), a server in sites-enabled
 * (a symlink to sites-available), an include inside `upstream {}`, an include nested in an included file
 * (resolved against the main file's directory, not conf.d), and two masks that match nothing.
 */
const SPLIT: Record<string, string> = {
  'nginx.conf': [
    '# The conf prefix is this file directory: every relative include resolves against it.',
    'worker_processes 1;',
    'pid nginx.pid;',
    'events { worker_connections 64; }',
    'include modules-enabled/*.conf;',
    'http {',
    '  access_log off;',
    '  client_body_temp_path body;',
    '  proxy_temp_path proxy;',
    '  include conf.d/*.conf;',
    '  include empty.d/*.conf;',
    '  server {',
    '    listen unix:DIR/main.sock;',
    '    server_name shop.example.com;',
    '    location / { proxy_pass http://web; }',
    '  }',
    '  include sites-enabled/*;',
    '}',
    '',
  ].join('\n'),
  'conf.d/00-log.conf': "log_format lab '$remote_addr $upstream_addr';\n",
  'conf.d/api.conf': [
    'server {',
    '  listen unix:DIR/api.sock;',
    '  server_name api.example.com;',
    '  include snippets/api-locations.conf;',
    '}',
    '',
  ].join('\n'),
  'conf.d/upstreams.conf': [
    'upstream web {',
    '  least_conn;',
    '  include upstream.d/web-servers.conf;',
    '}',
    'upstream api {',
    '  server 127.0.0.1:9002;',
    '}',
    '',
  ].join('\n'),
  'upstream.d/web-servers.conf': [
    'server 127.0.0.1:9001 weight=3;',
    'server 127.0.0.1:9003 down;',
    'server 127.0.0.1:9004 backup;',
    '',
  ].join('\n'),
  'snippets/api-locations.conf': '# for conf.d/api.conf\nlocation /api/ {\n  proxy_pass http://api;\n}\n',
  'sites-available/default': [
    'server {',
    '  listen unix:DIR/default.sock;',
    '  location /health { proxy_pass http://api/healthz; }',
    '}',
    '',
  ].join('\n'),
  // Never read, by nginx or by us: a decoy where an includer-relative lookup would look, a dot file, a non-.conf file.
  'conf.d/snippets/api-locations.conf': 'this is not nginx {\n',
  'conf.d/.disabled.conf': 'this is not nginx {\n',
  'conf.d/README': 'this is not nginx {\n',
};

function splitLayout(extra: Record<string, string> = {}): string {
  const dir = layout({ ...SPLIT, ...extra });
  mkdirSync(join(dir, 'empty.d'));
  mkdirSync(join(dir, 'sites-enabled'));
  symlinkSync('../sites-available/default', join(dir, 'sites-enabled/default'));
  return dir;
}

/** `nginx -t` on the layout with its own prefix, as the lab runs nginx (unprivileged paths, loopback/unix only). */
function nginxTest(dir: string): { ok: boolean; stderr: string } {
  const r = spawnSync('nginx', ['-t', '-e', 'stderr', '-p', dir, '-c', join(dir, 'nginx.conf')], {
    encoding: 'utf8',
  });
  return { ok: r.status === 0, stderr: r.stderr };
}

describe('loadNginxConfig follows includes as nginx does', () => {
  it('splices conf.d/*.conf (sorted), sites-enabled/*, nested includes and an include inside upstream {}', async () => {
    const dir = splitLayout();
    const cfg = await loadNginxConfig(join(dir, 'nginx.conf'));
    expect(cfg.problems).toEqual([]);
    expect(cfg.files.map((f) => f.label)).toEqual([
      'nginx.conf',
      'conf.d/00-log.conf',
      'conf.d/api.conf',
      'snippets/api-locations.conf',
      'conf.d/upstreams.conf',
      'upstream.d/web-servers.conf',
      'sites-enabled/default',
    ]);
    expect(cfg.upstreams.map((u) => [u.name, u.method, u.file, u.line])).toEqual([
      ['web', 'least_conn', 'conf.d/upstreams.conf', 1],
      ['api', 'round-robin', 'conf.d/upstreams.conf', 5],
    ]);
    expect(cfg.upstreams[0]!.servers).toEqual([
      expect.objectContaining({
        address: '127.0.0.1:9001',
        weight: 3,
        file: 'upstream.d/web-servers.conf',
        line: 1,
      }),
      expect.objectContaining({ address: '127.0.0.1:9003', down: true, line: 2 }),
      expect.objectContaining({ address: '127.0.0.1:9004', backup: true, line: 3 }),
    ]);
    expect(cfg.routes).toEqual([
      {
        serverNames: ['api.example.com'],
        location: '/api/',
        proxyPass: 'http://api',
        upstream: 'api',
        line: 3,
        file: 'snippets/api-locations.conf',
      },
      {
        serverNames: ['shop.example.com'],
        location: '/',
        proxyPass: 'http://web',
        upstream: 'web',
        line: 15,
      },
      {
        serverNames: [],
        location: '/health',
        proxyPass: 'http://api/healthz',
        upstream: 'api',
        line: 3,
        file: 'sites-enabled/default',
      },
    ]);
  });

  it('uses a layout the real nginx accepts, and nginx rejects the missing file we report', async () => {
    const dir = splitLayout();
    expect(nginxTest(dir)).toMatchObject({ ok: true });

    writeFileSync(
      join(dir, 'conf.d/api.conf'),
      SPLIT['conf.d/api.conf']!.replace('}\n', '  include snippets/gone.conf;\n}\n').replaceAll('DIR', dir),
    );
    const t = nginxTest(dir);
    expect(t.ok).toBe(false);
    expect(t.stderr).toContain('snippets/gone.conf');
    expect(t.stderr).toContain('No such file');
    const cfg = await loadNginxConfig(join(dir, 'nginx.conf'));
    expect(cfg.problems).toEqual(['conf.d/api.conf line 5: include snippets/gone.conf does not exist']);
    // Everything else is still read.
    expect(cfg.upstreams.map((u) => u.name)).toEqual(['web', 'api']);
    expect(cfg.routes).toHaveLength(3);
  });

  it('reports a missing file in the main config by line, and an empty mask not at all', async () => {
    const dir = layout({
      'nginx.conf': 'http {\n  include conf.d/*.conf;\n  include none/*;\n  include upstreams.conf;\n}\n',
    });
    const cfg = await loadNginxConfig(join(dir, 'nginx.conf'));
    expect(cfg.problems).toEqual(['line 4: include upstreams.conf does not exist']);
    expect(cfg.files.map((f) => f.label)).toEqual(['nginx.conf']);
  });

  it('reports include cycles (through other files and of the main file itself) without looping', async () => {
    const dir = layout({
      'nginx.conf': 'include snippets/a.conf;\nhttp {\n  include nginx.conf;\n}\n',
      'snippets/a.conf': 'upstream a { server 10.0.0.1:80; }\ninclude snippets/b.conf;\n',
      'snippets/b.conf': 'include snippets/a.conf;\nupstream b { server 10.0.0.2:80; }\n',
    });
    const cfg = await loadNginxConfig(join(dir, 'nginx.conf'));
    expect(cfg.problems).toEqual([
      'snippets/b.conf line 1: include snippets/a.conf: cycle snippets/a.conf -> snippets/b.conf -> snippets/a.conf, not followed',
      'line 3: include nginx.conf: cycle nginx.conf -> nginx.conf, not followed',
    ]);
    expect(cfg.upstreams.map((u) => u.name)).toEqual(['a', 'b']);
  });

  it('stops following includes nested more than 16 deep', async () => {
    const files: Record<string, string> = { 'nginx.conf': 'include d/0.conf;\n' };
    for (let i = 0; i < 20; i++) files[`d/${i}.conf`] = `include d/${i + 1}.conf;\nupstream u${i} {}\n`;
    const dir = layout(files);
    const cfg = await loadNginxConfig(join(dir, 'nginx.conf'));
    expect(cfg.problems).toEqual([
      'd/15.conf line 1: include d/16.conf: nested more than 16 deep, not followed',
    ]);
    expect(cfg.upstreams).toHaveLength(16);
    const shallow = await loadNginxConfig(join(dir, 'nginx.conf'), { maxDepth: 2 });
    expect(shallow.problems).toEqual([
      'd/1.conf line 1: include d/2.conf: nested more than 2 deep, not followed',
    ]);
  });

  it('names the included file in its parse errors, and a directory a mask matched', async () => {
    const dir = layout({
      'nginx.conf': 'http {\n  include conf.d/*;\n}\n',
      'conf.d/a.conf': '# a\nupstream a {\n  server 10.0.0.1:80;\n',
      'conf.d/b.conf': 'upstream b { server 10.0.0.2:80; }\n}\n',
      'conf.d/c/inner.conf': '',
    });
    const cfg = await loadNginxConfig(join(dir, 'nginx.conf'));
    expect(cfg.problems).toEqual([
      'conf.d/a.conf line 2: block "upstream" is not closed',
      'conf.d/b.conf line 2: unexpected "}"',
      'line 2: include conf.d/*: conf.d/c is a directory',
    ]);
    expect(cfg.upstreams.map((u) => u.name)).toEqual(['a', 'b']);
  });

  it('rejects only when the main file cannot be read', async () => {
    await expect(loadNginxConfig('/nonexistent/nginx.conf')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('diagnostics on an nginx config with includes', () => {
  const targets = (dir: string) =>
    parseDiagnosticsConfig(
      `loadBalancers:\n  - { name: web, kind: nginx, config: ${join(dir, 'nginx.conf')} }\n`,
    ).config;
  const run = (
    dir: string,
    previous?: { configHashes: Record<string, string>; configLines?: Record<string, string[]> },
  ) =>
    runDiagnostics(targets(dir), {
      from: new Date(Date.now() - 60_000),
      to: new Date(),
      only: ['routing', 'recent-change'],
      previous,
    });

  it('checks routes from included files, naming file and line', async () => {
    const dir = splitLayout({
      'conf.d/api.conf': SPLIT['conf.d/api.conf']!.replace('}\n', '  include gone.conf;\n}\n'),
    });
    const { results } = await run(dir);
    const routing = results.find((r) => r.checkId === 'routing')!;
    expect(routing.verdict).toBe('pass');
    expect(routing.evidence).toEqual([
      'api.example.com: location /api/ -> api (snippets/api-locations.conf line 3): 1 usable server(s)',
      'shop.example.com: location / -> web (line 15): 1 usable server(s)',
      'server: location /health -> api (sites-enabled/default line 3): 1 usable server(s)',
    ]);
    expect(routing.notes).toContain(
      `${join(dir, 'nginx.conf')}: conf.d/api.conf line 5: include gone.conf does not exist`,
    );
  });

  it('hashes and diffs the included files too, naming the file that changed', async () => {
    const dir = splitLayout();
    const old = new Date(Date.now() - 3 * 86_400_000);
    for (const f of Object.keys(SPLIT)) utimesSync(join(dir, f), old, old);
    const first = await run(dir);
    expect(first.results.find((r) => r.checkId === 'recent-change')!.verdict).toBe('pass');
    expect(first.state.configLines.web).toContain(
      'upstream.d/web-servers.conf: upstream web: server 127.0.0.1:9001 weight=3',
    );
    expect(first.state.configLines.web).toContain('location /: proxy_pass http://web');

    const servers = join(dir, 'upstream.d/web-servers.conf');
    writeFileSync(servers, readFileSync(servers, 'utf8').replace('weight=3', 'weight=5'));
    const second = await run(dir, first.state);
    const rc = second.results.find((r) => r.checkId === 'recent-change')!;
    expect(second.state.configHashes.web).not.toBe(first.state.configHashes.web);
    expect(rc.verdict).toBe('warn');
    expect(rc.summary).toContain(`${join(dir, 'nginx.conf')} changed since the last check`);
    expect(rc.summary).toContain(`${servers} was modified`);
    expect(rc.evidence).toContain(
      '- upstream.d/web-servers.conf: upstream web: server 127.0.0.1:9001 weight=3',
    );
    expect(rc.evidence).toContain(
      '+ upstream.d/web-servers.conf: upstream web: server 127.0.0.1:9001 weight=5',
    );
  });

  it('keeps the plain sha256 of the file for a config without includes', async () => {
    const text = 'http {\n  upstream web { server 10.0.0.1:80; }\n}\n';
    const dir = layout({ 'nginx.conf': text });
    const { state } = await run(dir);
    expect(state.configHashes.web).toBe(createHash('sha256').update(text).digest('hex'));
  });
});
