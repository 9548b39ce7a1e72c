import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// globalSetup of every vitest config: one temporary directory for the whole run, set as TMPDIR before the
// test workers fork (forks and the processes they spawn inherit it, and os.tmpdir() reads it), and removed
// when the run ends, so the labs, postmortem folders, git repositories and Redis data the tests make in
// os.tmpdir() do not pile up in /tmp run after run. KEEP_TEST_TMP=1 keeps it (its path is printed).

/** Creates the run's temporary directory, points TMPDIR at it, and returns the teardown that removes it. */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ib-test-run-'));
  // Traversable by others, as /tmp is: a test runs scripts as `nobody` from a folder in here.
  chmodSync(dir, 0o755);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (process.env.KEEP_TEST_TMP === '1') process.stdout.write(`test temporary files kept in ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  };
}
