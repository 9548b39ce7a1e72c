import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { failureHandlers, processors } from '../../src/jobs/processors.js';
import { JobPayloads } from '../../src/jobs/queues.js';

const ROOT = join(import.meta.dirname, '../..');
const JOB_NAMES = Object.keys(JobPayloads).sort();

// Entry points run at start-up by design (Procfile, npm start, the CLI, a worker thread's script);
// everything else is imported by them and must do nothing when imported.
const ENTRY_POINTS = new Set([
  'src/web.ts',
  'src/worker.ts',
  'src/main.ts',
  'src/cli.ts',
  'src/diagnostics/sources/haproxy-log-scan-worker.ts',
]);

// The registries the explicit wiring replaced; none may come back under its old name.
const OLD_REGISTRIES = [
  'registerProcessor',
  'onFinalFailure',
  'extendSlackApp',
  'addEntryRenderer',
  'onChannelReady',
  'addRoutes',
  'registerCommands',
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

const FILES = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'commands'))].map((f) => ({
  path: relative(ROOT, f),
  text: readFileSync(f, 'utf8'),
}));

/** Statements at a module's top level that run code when it is imported: side-effect imports and bare calls. */
function importTimeEffects(path: string, text: string): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: string[] = [];
  for (const s of file.statements) {
    const line = file.getLineAndCharacterOfPosition(s.getStart(file)).line + 1;
    if (ts.isImportDeclaration(s) && !s.importClause)
      out.push(`${path}:${line}: side-effect import ${s.moduleSpecifier.getText(file)}`);
    else if (ts.isExpressionStatement(s))
      out.push(`${path}:${line}: runs at import: ${s.getText(file).split('\n')[0]}`);
  }
  return out;
}

describe('jobs and listeners are wired in one place, not by imports', () => {
  it('has a processor and a final-failure handler for every job name, and none for a name that is not a job', () => {
    expect(Object.keys(processors).sort()).toEqual(JOB_NAMES);
    expect(Object.keys(failureHandlers).sort()).toEqual(JOB_NAMES);
    for (const name of JOB_NAMES) {
      expect(typeof processors[name as keyof typeof processors], name).toBe('function');
      expect(typeof failureHandlers[name as keyof typeof failureHandlers], name).toBe('function');
    }
  });

  it('rejects a processor table that lacks a job name when type-checked', () => {
    const { reminder: _, ...withoutReminder } = processors;
    // @ts-expect-error `npm run typecheck` fails here if the table's type stops requiring every job name.
    const incomplete: typeof processors = withoutReminder;
    expect(Object.keys(incomplete)).not.toContain('reminder');
  });

  it('has no module under src/ or commands/ that registers or runs anything when imported', () => {
    expect(FILES.length).toBeGreaterThan(50);
    const offenders = FILES.filter((f) => !ENTRY_POINTS.has(f.path)).flatMap((f) =>
      importTimeEffects(f.path, f.text),
    );
    expect(offenders).toEqual([]);
  });

  it('finds a side-effect import and a call at import time when there is one', () => {
    // The check above must be able to fail: the shape of the old src/extensions.ts and of a registration.
    const old =
      "import './alerts/routes.js';\nimport { x } from './y.js';\naddRoutes(alertRoutes);\nconst ok = f();\n";
    expect(importTimeEffects('src/extensions.ts', old)).toEqual([
      "src/extensions.ts:1: side-effect import './alerts/routes.js'",
      'src/extensions.ts:3: runs at import: addRoutes(alertRoutes);',
    ]);
  });

  it('keeps none of the old registries or src/extensions.ts', () => {
    expect(existsSync(join(ROOT, 'src/extensions.ts'))).toBe(false);
    const found = FILES.flatMap((f) =>
      OLD_REGISTRIES.filter((name) => new RegExp(`\\b${name}\\b`).test(f.text)).map((n) => `${f.path}: ${n}`),
    );
    expect(found).toEqual([]);
  });
});
