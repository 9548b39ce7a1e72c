import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const REC = join(ROOT, 'test/fixtures/diagnostics/recordings');

/** Runs the real CLI on a copied recording; the window is the recording's own log time. */
async function diagnose(recording: string, ...extra: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'cli-'));
  cpSync(join(REC, recording), dir, { recursive: true });
  const w = JSON.parse(readFileSync(join(dir, 'window.json'), 'utf8')) as { recordedAt: string };
  const until = new Date(Date.parse(w.recordedAt) + 60_000).toISOString();
  const since = new Date(Date.parse(w.recordedAt) - 10 * 60_000).toISOString();
  try {
    const r = await run(
      'node',
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli.ts'),
        'diagnose',
        '--config',
        join(dir, 'targets.yml'),
        '--since',
        since,
        '--until',
        until,
        ...extra,
      ],
      { cwd: ROOT },
    );
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('incident-bot diagnose', () => {
  it('prints one JSON document and exits 1 when the recorded skewed weights fail a check', async () => {
    const { code, stdout } = await diagnose('haproxy-skewed-weights', '--json');
    expect(code).toBe(1);
    const doc = JSON.parse(stdout) as {
      checks: { id: string; verdict: string; summary: string; servers: unknown[] }[];
    };
    const td = doc.checks.find((c) => c.id === 'traffic-distribution')!;
    expect(td.verdict).toBe('fail');
    expect(td.summary).toContain('web1=100');
    expect(td.servers.length).toBeGreaterThan(0);
  });

  it('prints a readable checklist with per-server bars and exits 0 for the recorded even pool', async () => {
    const { code, stdout } = await diagnose(
      'haproxy-healthy-even',
      '--only',
      'pool-health,traffic-distribution,routing',
    );
    expect(stdout).toContain('✅ traffic-distribution [edge] PASS');
    expect(stdout).toMatch(/app\/web1 +[█░]{20} +\d+% observed, 33% by weight \(w=1\), 33% even/);
    expect(code).toBe(0);
  });

  it('exits 2 on an unreadable window', async () => {
    const { code, stderr } = await diagnose('haproxy-healthy-even', '--since', 'yesterday');
    expect(code).toBe(2);
    expect(stderr).toContain('--since "yesterday" is not an ISO date-time');
  });
});
