import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// scripts/test-deps.sh is what `npm test` (pretest) and .ci/run run first. These tests give it a
// PATH holding only bash and apt-get, so it sees a fresh machine without touching the real packages.
const SCRIPT = resolve(import.meta.dirname, '../../scripts/test-deps.sh');
const dir = mkdtempSync(join(tmpdir(), 'ib-test-deps-'));
chmodSync(dir, 0o755);
const bin = join(dir, 'bin');
spawnSync('mkdir', [bin]);
chmodSync(bin, 0o755);
for (const tool of ['bash', 'apt-get']) {
  const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
  if (found) symlinkSync(found, join(bin, tool));
}
// A copy anyone can read, since the worktree may not be readable by `nobody`.
const script = join(dir, 'test-deps.sh');
copyFileSync(SCRIPT, script);
chmodSync(script, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const isRoot = process.getuid?.() === 0;
const hasAptGet = spawnSync('bash', ['-c', 'command -v apt-get']).status === 0;

describe('scripts/test-deps.sh on a machine without the test programs', () => {
  it('stops at once for a user without sudo, naming what is missing and the install commands', () => {
    // As root, drop to nobody (no sudo on the fake PATH either); as any other user, run as that user.
    const setpriv = spawnSync('bash', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
    const cmd = isRoot ? setpriv : join(bin, 'bash');
    const args = isRoot
      ? ['--reuid=nobody', '--regid=nogroup', '--clear-groups', join(bin, 'bash'), script]
      : [script];
    const started = Date.now();
    const r = spawnSync(cmd, args, { env: { PATH: bin }, encoding: 'utf8', timeout: 30_000 });
    const took = Date.now() - started;
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(1);
    expect(took).toBeLessThan(30_000);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(
      'npm test needs haproxy nginx prometheus-alertmanager redis-server redis-cli, not found on PATH ' +
        `(${hasAptGet ? 'you are not root and sudo asks for a password' : 'this machine has no apt-get'}, so nothing was installed). Install them:`,
    );
    expect(r.stderr).toContain(
      'sudo apt-get install -y haproxy nginx-light prometheus-alertmanager redis-server redis-tools',
    );
    expect(r.stderr).toContain('sudo dnf install -y haproxy nginx');
    expect(r.stderr).toContain('brew install haproxy nginx alertmanager redis');
    expect(r.stdout).toBe('');
  });

  it.skipIf(!isRoot || !hasAptGet)(
    'as root, says it would install every missing package with apt-get (dry run)',
    () => {
      const r = spawnSync(join(bin, 'bash'), [script, '--dry-run'], { env: { PATH: bin }, encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(
        'test-deps: would install with apt-get: haproxy nginx-light prometheus-alertmanager redis-server redis-tools chromium',
      );
      expect(r.stderr).toBe('');
    },
  );

  it('on this machine, where the suites run, finds every required program (dry run: nothing is installed)', () => {
    const r = spawnSync('bash', [SCRIPT, '--dry-run'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    // Chromium is optional: a note about it is the only thing it may print.
    expect(r.stdout.replace(/^test-deps: .*chromium.*\n?/m, '')).toBe('');
  });
});
