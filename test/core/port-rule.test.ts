import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const REDIS_DIR = join(ROOT, 'src/redis');

/** Every .ts file under `dir`, recursively. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers a source imports or re-exports: static, side-effect, dynamic and require. */
function specifiers(src: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of src.matchAll(re)) out.push(m[1]!);
  return out;
}

/** The file a relative specifier names, without its extension (`../redis/keys.js` → `/…/src/redis/keys`). */
function target(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  return resolve(dirname(file), spec).replace(/\.(?:[cm]?[jt]s)$/, '');
}

const inside = (dir: string, p: string) => p === dir || p.startsWith(`${dir}/`);

/** Text that reaches Redis below the port: raw commands, scripts, and Lua itself. */
const REDIS_TEXT: [RegExp, string][] = [
  [/\bredis\.p?call\b/i, 'mentions redis.call'],
  [/\beval(?:sha)?\s*\(/i, 'calls eval('],
  [/\bEVALSHA\b/i, 'mentions EVALSHA'],
  [/\bdefineCommand\b/, 'defines a Redis script command'],
  [/\b(?:KEYS|ARGV)\[\d+\]/, 'holds a Lua script (KEYS[n] / ARGV[n])'],
  [/\blua\s*:/i, 'holds a Lua script (lua:)'],
  [/\bSCRIPT\s+LOAD\b/i, 'loads a Lua script'],
];

/**
 * DESIGN 2: flows (and the commands that call them) reach state only through the store port.
 * Returns one line per offence in `src` (a file at `file`).
 */
function flowOffences(file: string, src: string): string[] {
  const out: string[] = [];
  for (const spec of specifiers(src)) {
    if (/^(?:ioredis|bullmq)(?:\/|$)/.test(spec)) out.push(`imports ${spec}`);
    const t = target(file, spec);
    if (t && inside(REDIS_DIR, t)) out.push(`imports ${spec} (src/redis/)`);
  }
  for (const [re, what] of REDIS_TEXT) if (re.test(src)) out.push(what);
  return out;
}

/** DESIGN 3: keys and scripts are private to src/redis/. */
function keysOffences(file: string, src: string): string[] {
  if (inside(REDIS_DIR, file.replace(/\.ts$/, ''))) return [];
  const out: string[] = [];
  for (const spec of specifiers(src)) {
    const t = target(file, spec);
    if (t === join(REDIS_DIR, 'keys') || t === join(REDIS_DIR, 'scripts')) out.push(`imports ${spec}`);
  }
  return out;
}

function check(dirs: string[], rule: (file: string, src: string) => string[]): string[] {
  const files = dirs.flatMap((d) => tsFiles(join(ROOT, d)));
  expect(files.length).toBeGreaterThan(5);
  return files.flatMap((f) => rule(f, readFileSync(f, 'utf8')).map((o) => `${relative(ROOT, f)}: ${o}`));
}

describe('the store port rule', () => {
  it('no flow or command imports ioredis, bullmq or src/redis/, or holds Redis commands or Lua', () => {
    expect(check(['src/flows', 'commands'], flowOffences)).toEqual([]);
  });

  it('nothing outside src/redis/ imports its keys or scripts', () => {
    expect(check(['src', 'commands'], keysOffences)).toEqual([]);
  });

  it('the rules catch each kind of offending line', () => {
    const flow = join(ROOT, 'src/flows/example.ts');
    const cmd = join(ROOT, 'commands/example.ts');
    const offending = [
      "import { Redis } from 'ioredis';",
      "import type { Job } from 'bullmq';",
      "import {\n  keys,\n} from '../redis/keys.js';",
      "export { RedisStore } from '../redis/store.js';",
      "const c = await import('../redis/connection.js');",
      "await client.call('EVALSHA', sha, 1, key);",
      "const lua = `return redis.call('GET', KEYS[1])`;",
      'client.eval(script, 1, key);',
      "const S = { name: 'x', keys: 1, lua: 'return 1' };",
    ];
    for (const line of offending) expect(flowOffences(flow, line), line).not.toEqual([]);
    expect(flowOffences(cmd, "import { keys } from '../src/redis/keys.js';")).not.toEqual([]);
    // Comments and names that merely mention BullMQ or the Redis store are fine.
    expect(
      flowOffences(flow, "/** A BullMQ job id (see src/redis/store.ts). */\nimport { x } from './deps.js';"),
    ).toEqual([]);

    const elsewhere = join(ROOT, 'src/jobs/example.ts');
    expect(keysOffences(elsewhere, "import { keys } from '../redis/keys.js';")).not.toEqual([]);
    expect(keysOffences(elsewhere, "import { APPEND } from '../redis/scripts.js';")).not.toEqual([]);
    expect(keysOffences(join(ROOT, 'src/runtime.ts'), "import { keys } from './redis/keys.js';")).not.toEqual(
      [],
    );
    expect(keysOffences(elsewhere, "import { RedisStore } from '../redis/store.js';")).toEqual([]);
    expect(keysOffences(join(REDIS_DIR, 'store.ts'), "import { keys } from './keys.js';")).toEqual([]);
  });
});
