import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IncidentId } from '../core/incident-model.js';
import { type GitDestination, pushDraft, redactRepo } from '../postmortem/git-destination.js';
import type { Deps } from './deps.js';
import { mutate } from './record.js';

/** The git destination from config (POSTMORTEM_GIT_*), or undefined when POSTMORTEM_GIT_REPO is unset. */
export function gitDestination(deps: Deps): GitDestination | undefined {
  const c = deps.config;
  if (!c.POSTMORTEM_GIT_REPO) return undefined;
  const tag = createHash('sha256').update(c.POSTMORTEM_GIT_REPO).digest('hex').slice(0, 12);
  return {
    repo: c.POSTMORTEM_GIT_REPO,
    branch: c.POSTMORTEM_GIT_BRANCH,
    dir: c.POSTMORTEM_GIT_DIR,
    author: c.POSTMORTEM_GIT_AUTHOR,
    // One working clone per process: two workers never share one, and their pushes meet at the remote.
    workdir: join(tmpdir(), `incident-bot-git-${tag}-${process.pid}`),
  };
}

/** `to <repo> (<branch>)` with credentials removed, for the channel; undefined without a destination. */
export function gitDestinationLabel(deps: Deps): string | undefined {
  const c = deps.config;
  return c.POSTMORTEM_GIT_REPO
    ? `to ${redactRepo(c.POSTMORTEM_GIT_REPO)} (${c.POSTMORTEM_GIT_BRANCH})`
    : undefined;
}

/**
 * Job `push-postmortem`: commits the incident's stored draft to the git destination and pushes it
 * (a rebase and retry when another push got there first), then records `postmortem_pushed` (once per
 * commit). Content already on the branch records nothing. Throws GitError when git refuses; the job
 * is retried with backoff and its final failure is told in the channel; the draft stays in the store.
 */
export async function pushPostmortem(
  deps: Deps,
  id: IncidentId,
  dest: GitDestination | undefined = gitDestination(deps),
): Promise<'pushed' | 'unchanged' | 'no-destination'> {
  if (!dest) return 'no-destination';
  const draft = await deps.store.postmortemDraft(id);
  if (!draft) throw new Error(`${id} has no stored postmortem draft to push`);
  const res = await pushDraft(
    dest,
    draft.fileName,
    draft.markdown,
    `Postmortem draft ${id}: ${draft.view.title.replace(/\\(.)/g, '$1')}\n\nRendered by incident-bot at ${draft.renderedAt} from ${draft.view.source}.`,
  );
  if (res.outcome === 'unchanged') return 'unchanged';
  await mutate(
    deps,
    id,
    () => [
      {
        kind: 'postmortem_pushed',
        incidentId: id,
        at: deps.now().toISOString(),
        actor: { type: 'bot' },
        source: 'bot',
        repo: redactRepo(dest.repo),
        branch: dest.branch,
        path: res.path,
        commit: res.commit,
      },
    ],
    { claimKey: `postmortem-pushed-${res.commit}`, allowClosed: true },
  );
  return 'pushed';
}
