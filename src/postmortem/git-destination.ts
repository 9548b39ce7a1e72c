import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';

/** A git command that failed: `args` (credentials removed), exit `code`, and git's own `output`. */
export class GitError extends Error {
  override name = 'GitError';
  constructor(
    message: string,
    readonly args: string[],
    readonly code: number | null,
    readonly output: string,
  ) {
    super(message);
  }
}

/** Where drafts go: a repository git can push to (path or URL), a branch, and a folder inside it. */
export interface GitDestination {
  repo: string;
  branch: string;
  /** Folder inside the repository, e.g. `postmortems/` (`''` for the top). */
  dir: string;
  /** Commit author, `Name <email>`. */
  author: string;
  /** This process's working clone (created on first use; one per process, never shared between processes). */
  workdir: string;
}

/** What a push did: committed and pushed a new version, or found the same content already there. */
export type PushOutcome =
  | { outcome: 'pushed'; commit: string; path: string; tries: number }
  | { outcome: 'unchanged'; commit: string; path: string; tries: number };

/** How many times a push that lost a race (non-fast-forward) is rebased and tried again within one job. */
export const PUSH_TRIES = 5;
const GIT_TIMEOUT_MS = 120_000;

/** A repository URL with any user or password removed, for messages and the timeline. */
export function redactRepo(repo: string): string {
  return repo.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/**
 * Commits `markdown` as `<dir>/<fileName>` on `branch` of `dest.repo` and pushes it with the real
 * git CLI (https://git-scm.com/docs/git-push). Content equal to what the branch already holds makes
 * no commit. A push rejected because the branch moved (someone else pushed) is rebased onto the new
 * tip and pushed again, up to {@link PUSH_TRIES} times. Throws {@link GitError} saying what to fix
 * (no git, no such repository, credentials refused, push rejected by the remote).
 * `hooks.beforePush` runs between commit and push (tests use it to line up concurrent pushes).
 */
export async function pushDraft(
  dest: GitDestination,
  fileName: string,
  markdown: string,
  message: string,
  hooks: { beforePush?: () => Promise<void> } = {},
): Promise<PushOutcome> {
  return serialize(dest.workdir, async () => {
    const path = posix.join(dest.dir.replace(/\\/g, '/'), fileName);
    const run = (args: string[]) => git(dest, args);
    await ensureClone(dest);
    let rebased = false;
    for (let tries = 1; tries <= PUSH_TRIES; tries++) {
      if (!rebased) {
        await checkoutTip(dest);
        await mkdir(dirname(join(dest.workdir, path)), { recursive: true });
        await writeFile(join(dest.workdir, path), markdown, 'utf8');
        await run(['add', '--', path]);
        const staged = await git(dest, ['diff', '--cached', '--quiet'], { allowFail: true });
        if (staged.code === 0) {
          const head = await git(dest, ['rev-parse', 'HEAD'], { allowFail: true });
          return { outcome: 'unchanged', commit: head.stdout.trim(), path, tries };
        }
        const [, name, email] = /^(.*) <(.*)>$/.exec(dest.author)!;
        await run(['-c', `user.name=${name}`, '-c', `user.email=${email}`, 'commit', '-q', '-m', message]);
      }
      await hooks.beforePush?.();
      const push = await git(dest, ['push', '--porcelain', 'origin', `HEAD:refs/heads/${dest.branch}`], {
        allowFail: true,
      });
      if (push.code === 0) {
        const head = await run(['rev-parse', 'HEAD']);
        return { outcome: 'pushed', commit: head.stdout.trim(), path, tries };
      }
      if (!lostRace(push.output)) throw pushError(dest, push.output, push.code);
      // The branch moved under us: put our commit on top of the new tip, unless that makes it a no-op
      // (someone pushed the same content) or conflicts (then start again from the new tip).
      await run(['fetch', '-q', 'origin', `+refs/heads/${dest.branch}:refs/remotes/origin/${dest.branch}`]);
      const rebase = await git(dest, ['rebase', '-q', `origin/${dest.branch}`], { allowFail: true });
      rebased = rebase.code === 0;
      if (!rebased) await git(dest, ['rebase', '--abort'], { allowFail: true });
      else {
        const ahead = await run(['rev-list', '--count', `origin/${dest.branch}..HEAD`]);
        if (ahead.stdout.trim() === '0') {
          const head = await run(['rev-parse', 'HEAD']);
          return { outcome: 'unchanged', commit: head.stdout.trim(), path, tries };
        }
      }
    }
    throw new GitError(
      `the push to ${redactRepo(dest.repo)} (${dest.branch}) lost the race to other pushes ${PUSH_TRIES} times in a row; it is retried later`,
      ['push'],
      null,
      '',
    );
  });
}

/** Creates the working clone (init + remote, so an empty repository works too) or points it at `repo`. */
async function ensureClone(dest: GitDestination): Promise<void> {
  if (!existsSync(join(dest.workdir, '.git'))) {
    await mkdir(dest.workdir, { recursive: true });
    await git(dest, ['init', '-q']);
    await git(dest, ['remote', 'add', 'origin', dest.repo]);
  } else {
    await git(dest, ['remote', 'set-url', 'origin', dest.repo]);
  }
}

/** Fetches the branch and resets the working clone to its tip (or to an empty tree when the branch does not exist yet). */
async function checkoutTip(dest: GitDestination): Promise<void> {
  const ref = `refs/remotes/origin/${dest.branch}`;
  await git(dest, ['update-ref', '-d', ref], { allowFail: true });
  const fetch = await git(dest, ['fetch', '-q', 'origin', `+refs/heads/${dest.branch}:${ref}`], {
    allowFail: true,
  });
  if (fetch.code !== 0 && !/couldn't find remote ref/i.test(fetch.output)) {
    throw pushError(dest, fetch.output, fetch.code);
  }
  await git(dest, ['rebase', '--abort'], { allowFail: true });
  if (fetch.code === 0) {
    await git(dest, ['checkout', '-q', '-f', '-B', dest.branch, ref]);
  } else {
    // A new, empty repository (or branch): the first draft starts its history.
    await git(dest, ['symbolic-ref', 'HEAD', `refs/heads/${dest.branch}`]);
    await git(dest, ['update-ref', '-d', `refs/heads/${dest.branch}`], { allowFail: true });
    await git(dest, ['read-tree', '--empty']);
  }
  await git(dest, ['clean', '-q', '-f', '-d', '-x']);
}

/** git's words for "the branch moved since you fetched" (https://git-scm.com/docs/git-push#_note_about_fast_forwards). */
function lostRace(output: string): boolean {
  return /\[rejected\]|non-fast-forward|fetch first|stale info|cannot lock ref|failed to update ref/i.test(
    output,
  );
}

/** Turns git's output into a sentence saying what to fix. */
function pushError(dest: GitDestination, output: string, code: number | null): GitError {
  const repo = redactRepo(dest.repo);
  const last =
    output
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('To ') && l !== 'Done')
      .slice(-3)
      .join(' / ') || `exit ${code}`;
  let what: string;
  if (
    /authentication failed|permission denied|could not read (username|password)|403|401|access denied/i.test(
      output,
    )
  )
    what = `git refused the credentials for ${repo}: give the token or SSH key push access to ${dest.branch}`;
  else if (
    /does not appear to be a git repository|repository .* not found|not found|no such file/i.test(output)
  )
    what = `no repository at ${repo}: check POSTMORTEM_GIT_REPO`;
  else if (/remote rejected|hook declined|protected branch/i.test(output))
    what = `${repo} rejected the push to ${dest.branch} (a hook or branch protection): allow incident-bot to push there or set POSTMORTEM_GIT_BRANCH`;
  else what = `git could not push to ${repo} (${dest.branch})`;
  return new GitError(`${what} — git said: ${redactRepo(last)}`, ['push'], code, output);
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call for the same working clone has finished (one git operation at a time per clone). */
async function serialize<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const before = queues.get(key) ?? Promise.resolve();
  const mine = before.then(fn, fn);
  const settled = mine.catch(() => {});
  queues.set(key, settled);
  try {
    return await mine;
  } finally {
    if (queues.get(key) === settled) queues.delete(key);
  }
}

/** Runs git in the working clone without a terminal prompt; throws GitError unless `allowFail`. */
function git(
  dest: GitDestination,
  args: string[],
  opts: { allowFail?: boolean } = {},
): Promise<{ code: number | null; stdout: string; output: string }> {
  return new Promise((resolve, reject) => {
    const shown = args.map(redactRepo);
    const child = spawn('git', args, {
      cwd: dest.workdir,
      // Never wait for a password prompt; read git's messages in English to classify them.
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GCM_INTERACTIVE: 'never', LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      output += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), GIT_TIMEOUT_MS);
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new GitError(
          err.code === 'ENOENT'
            ? 'git is not installed on the worker (or not on PATH): install it, e.g. `apt-get install git`'
            : `could not run git: ${err.message}`,
          shown,
          null,
          '',
        ),
      );
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL')
        return reject(
          new GitError(
            `git ${shown[0]} took over ${GIT_TIMEOUT_MS / 1000} s and was stopped`,
            shown,
            null,
            output,
          ),
        );
      if (code !== 0 && !opts.allowFail) {
        return reject(
          new GitError(
            `git ${shown.join(' ')} failed (exit ${code}): ${redactRepo(output.trim())}`,
            shown,
            code,
            output,
          ),
        );
      }
      resolve({ code, stdout, output });
    });
  });
}
