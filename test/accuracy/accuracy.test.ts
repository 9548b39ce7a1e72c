import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { scenarios } from './scorecard.js';

const ROOT = join(import.meta.dirname, '../..');

describe('npm run accuracy', () => {
  it('gives every recorded scenario its expected verdicts, with the backends reachable and unreachable', async () => {
    expect(scenarios().length).toBeGreaterThanOrEqual(10);
    const r = await promisify(execFile)('node', ['--import', 'tsx', join(ROOT, 'test/accuracy/run.ts')], {
      cwd: ROOT,
    }).catch((err: { code: number; stdout: string }) => err);
    expect(r.stdout).toMatch(/0 false alarms, 0 misses, 0 other wrong verdicts/);
    expect('code' in r ? r.code : 0).toBe(0);
  });
});
