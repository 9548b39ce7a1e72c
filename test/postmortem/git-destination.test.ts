import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type GitDestination, pushDraft, redactRepo } from '../../src/postmortem/git-destination.js';

// Issue 14, item 2, against real bare repositories on disk and the real git CLI.

const root = mkdtempSync(join(tmpdir(), 'ib-git-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A new bare repository with branch main (empty, no commits). */
function bareRepo(): string {
  const dir = join(root, `remote-${++n}.git`);
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', dir]);
  return dir;
}

/** A destination with its own working clone, as one worker process has. */
function worker(repo: string, name: string): GitDestination {
  return {
    repo,
    branch: 'main',
    dir: 'postmortems/',
    author: 'incident-bot <incident-bot@example.com>',
    workdir: join(root, `clone-${name}-${++n}`),
  };
}

const git = (repo: string, ...args: string[]) =>
  execFileSync('git', ['--git-dir', repo, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
const show = (repo: string, path: string) => git(repo, 'show', `main:${path}`);
const count = (repo: string) => Number(git(repo, 'rev-list', '--count', 'main'));

describe('the git destination of postmortem drafts', () => {
  it('commits each incident’s draft as postmortems/INC-n-<slug>.md, a changed re-render as a new version, and the same content never twice', async () => {
    const repo = bareRepo();
    const w = worker(repo, 'a');
    const one = await pushDraft(w, 'INC-1-checkout-latency.md', '# INC-1 v1\n', 'Postmortem draft INC-1');
    const two = await pushDraft(w, 'INC-2-search-errors.md', '# INC-2\n', 'Postmortem draft INC-2');
    expect(one).toMatchObject({ outcome: 'pushed', path: 'postmortems/INC-1-checkout-latency.md' });
    expect(two).toMatchObject({ outcome: 'pushed', path: 'postmortems/INC-2-search-errors.md' });
    expect(show(repo, 'postmortems/INC-1-checkout-latency.md')).toBe('# INC-1 v1');
    expect(show(repo, 'postmortems/INC-2-search-errors.md')).toBe('# INC-2');
    expect(count(repo)).toBe(2);
    expect(git(repo, 'log', '-1', '--format=%an <%ae>|%s', 'main')).toBe(
      'incident-bot <incident-bot@example.com>|Postmortem draft INC-2',
    );

    const same = await pushDraft(w, 'INC-1-checkout-latency.md', '# INC-1 v1\n', 'again');
    expect(same.outcome).toBe('unchanged');
    expect(count(repo)).toBe(2);
    // Another worker, with a fresh clone, finds the same content too.
    const elsewhere = await pushDraft(worker(repo, 'b'), 'INC-1-checkout-latency.md', '# INC-1 v1\n', 'x');
    expect(elsewhere.outcome).toBe('unchanged');

    const v2 = await pushDraft(w, 'INC-1-checkout-latency.md', '# INC-1 v2\n', 'Postmortem draft INC-1');
    expect(v2.outcome).toBe('pushed');
    expect(show(repo, 'postmortems/INC-1-checkout-latency.md')).toBe('# INC-1 v2');
    expect(
      git(repo, 'log', '--format=%H', 'main', '--', 'postmortems/INC-1-checkout-latency.md').split('\n'),
    ).toHaveLength(2);
    expect(count(repo)).toBe(3);
  });

  it('rebases and pushes again when another worker pushed first, losing neither draft', async () => {
    const repo = bareRepo();
    await pushDraft(worker(repo, 'seed'), 'INC-1-a.md', '# INC-1\n', 'seed');
    const a = worker(repo, 'a');
    const b = worker(repo, 'b');
    // Both commit on the same tip, then both push at once: exactly one of them is rejected.
    let arrived = 0;
    let release!: () => void;
    const bothCommitted = new Promise<void>((r) => {
      release = r;
    });
    const barrier = async () => {
      if (++arrived === 2) release();
      await bothCommitted;
    };
    const [ra, rb] = await Promise.all([
      pushDraft(a, 'INC-2-a.md', '# INC-2\n', 'INC-2', { beforePush: barrier }),
      pushDraft(b, 'INC-3-b.md', '# INC-3\n', 'INC-3', { beforePush: barrier }),
    ]);
    expect(ra.outcome).toBe('pushed');
    expect(rb.outcome).toBe('pushed');
    expect([ra.tries, rb.tries].sort()).toEqual([1, 2]);
    expect(show(repo, 'postmortems/INC-2-a.md')).toBe('# INC-2');
    expect(show(repo, 'postmortems/INC-3-b.md')).toBe('# INC-3');
    expect(show(repo, 'postmortems/INC-1-a.md')).toBe('# INC-1');
    // Linear history: the loser's commit was rebased, not merged.
    expect(count(repo)).toBe(3);
    expect(git(repo, 'rev-list', '--merges', 'main')).toBe('');
  });

  it('puts a new version on top when someone edited the same draft meanwhile, keeping their commit in the history', async () => {
    const repo = bareRepo();
    const w = worker(repo, 'bot');
    await pushDraft(w, 'INC-1-a.md', '# v1\n', 'v1');
    const human = join(root, `human-${++n}`);
    execFileSync('git', ['clone', '-q', repo, human]);
    let first = true;
    const res = await pushDraft(w, 'INC-1-a.md', '# v2 from the bot\n', 'v2', {
      beforePush: async () => {
        if (!first) return;
        first = false;
        // A reviewer pushes an edit of the same lines between the bot's commit and its push.
        writeFileSync(join(human, 'postmortems', 'INC-1-a.md'), '# v1 edited by a reviewer\n');
        const id = ['-c', 'user.name=Reviewer', '-c', 'user.email=r@example.com'];
        execFileSync('git', ['-C', human, ...id, 'commit', '-q', '-am', 'review'], { stdio: 'ignore' });
        execFileSync('git', ['-C', human, 'push', '-q', 'origin', 'HEAD:main'], { stdio: 'ignore' });
      },
    });
    expect(res).toMatchObject({ outcome: 'pushed', tries: 2 });
    expect(show(repo, 'postmortems/INC-1-a.md')).toBe('# v2 from the bot');
    expect(git(repo, 'log', '--format=%s', 'main').split('\n')).toEqual(['v2', 'review', 'v1']);
  });

  it('says what to fix when the remote refuses the push or does not exist, and redacts credentials', async () => {
    const repo = bareRepo();
    const hook = join(repo, 'hooks', 'pre-receive');
    writeFileSync(
      hook,
      '#!/bin/sh\necho "Permission to acme/postmortems.git denied to incident-bot." >&2\nexit 1\n',
    );
    chmodSync(hook, 0o755);
    const refused = pushDraft(worker(repo, 'a'), 'INC-1-a.md', '# INC-1\n', 'INC-1');
    await expect(refused).rejects.toThrow(
      /rejected the push to main .*Permission to acme\/postmortems.git denied/,
    );
    expect(() => git(repo, 'rev-parse', '--verify', 'main')).toThrow();

    const nowhere = pushDraft(worker(join(root, 'no-such.git'), 'b'), 'INC-1-a.md', '# x\n', 'x');
    await expect(nowhere).rejects.toThrow(/no repository at .*no-such\.git: check POSTMORTEM_GIT_REPO/);

    expect(redactRepo('https://x-access-token:ghp_secret@github.com/acme/pm.git')).toBe(
      'https://github.com/acme/pm.git',
    );
  });
});
