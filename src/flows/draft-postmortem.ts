import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncidentId } from '../core/incident-model.js';
import { postmortemView } from '../core/postmortem/index.js';
import type { TimelineEntry } from '../core/timeline.js';
import { postmortemFileName } from '../postmortem/render.js';
import type { Deps, PostmortemUploadData } from './deps.js';
import { enqueueDelivery } from './record.js';

/** The latest draft of an incident as the channel gets it: a file (a postmortem is too long for blocks) and a short summary. */
export type PostmortemUpload = PostmortemUploadData;

/**
 * Renders the postmortem draft from the timeline (`templates/postmortem.md`), keeps it and its view
 * with the incident in the store (durable: it survives restarts and lost disks), copies it to
 * `POSTMORTEM_DIR/INC-<n>-<slug>.md` when that is set, queues the git push when
 * `POSTMORTEM_GIT_REPO` is set, and records a `postmortem_drafted` entry, whose delivery posts the file. With `onClose` it is the draft the
 * close owes: drafted once (skipped when the `postmortem-owed` mark is gone), then the mark is
 * cleared and the incident leaves the closing index. Returns undefined when skipped.
 */
export async function draftPostmortem(
  deps: Deps,
  id: IncidentId,
  requestedBy?: string,
  opts: { onClose?: boolean } = {},
): Promise<{ path: string; markdown: string } | undefined> {
  if (!deps.renderPostmortem) throw new Error('postmortem template not loaded');
  if (opts.onClose && !(await deps.store.meta(id))['postmortem-owed']) {
    await leaveClosingIndexUnlessOwed(deps, id);
    return undefined;
  }
  const entries = await deps.store.entries(id);
  if (entries.length === 0) throw new Error(`${id} does not exist`);
  const facts = draftFacts(entries);
  const people = await peopleOf(deps, facts);
  const view = postmortemView(facts, { now: deps.now().toISOString(), people });
  const markdown = deps.renderPostmortem(view);
  const first = entries[0]!;
  const title = first.kind === 'declared' ? first.title : id;
  const fileName = postmortemFileName(id, title);
  const sha256 = createHash('sha256').update(markdown).digest('hex');
  // Stored first: whatever fails after this (the disk copy, git), the draft is kept with the incident.
  await deps.store.savePostmortemDraft(id, {
    fileName,
    markdown,
    view,
    people,
    renderedAt: deps.now().toISOString(),
    sha256,
  });
  let path = `redis:${id}/${fileName}`;
  if (deps.config.POSTMORTEM_DIR) {
    await mkdir(deps.config.POSTMORTEM_DIR, { recursive: true });
    path = join(deps.config.POSTMORTEM_DIR, fileName);
    await writeFile(path, markdown, 'utf8');
  }
  if (deps.config.POSTMORTEM_GIT_REPO) {
    // One push per content (git adds no commit for content it has); a person's request pushes again
    // even after a failed push of the same content.
    await deps.jobs.enqueue(
      'push-postmortem',
      { incidentId: id },
      {
        jobId: `push-postmortem-${id}-${sha256.slice(0, 16)}${opts.onClose ? '' : `-${entries.length}`}`,
        attempts: deps.config.POSTMORTEM_GIT_ATTEMPTS,
      },
    );
  }

  const lines = [
    `:page_facing_up: Postmortem draft for ${id}${requestedBy ? ` (requested by <@${requestedBy}>)` : ''}, from ${view.source}.`,
    `Duration ${view.summary.duration.total} · ${view.misleadingPaths.items.length} misleading investigation path(s) · ${view.measures.followups.items.length} follow-up(s) · ${view.measures.suggestions.length} suggested measure(s).`,
    'Every fact cites the timeline entries it came from, like [#3]. Edit it before the review.',
  ];
  // Delivery uploads it in timeline order (after the confirmations before it), from the store, so any
  // worker can post it whichever machine wrote the file.
  const upload: PostmortemUpload = {
    filename: fileName,
    title: `Postmortem draft: ${id}`,
    content: markdown,
    comment: lines.join('\n'),
  };
  await deps.store.savePostmortemUpload(id, upload, 30 * 24 * 3600);
  const last = entries.at(-1)!;
  const res = await deps.store.append(
    id,
    [
      {
        kind: 'postmortem_drafted',
        incidentId: id,
        at: deps.now().toISOString(),
        actor: { type: 'bot' },
        source: 'bot',
        path,
      },
    ],
    // The close's draft once per incident; a requested re-render once per timeline state.
    { claimKey: opts.onClose ? `postmortem-${id}-close` : `postmortem-${id}-${last.seq}` },
  );
  if (res.ok) await enqueueDelivery(deps, id, res.seqs.at(-1)!);
  if (opts.onClose) {
    await deps.store.deleteMeta(id, 'postmortem-owed');
    await leaveClosingIndexUnlessOwed(deps, id);
  }
  return { path, markdown };
}

/**
 * The entries a draft is built from: the timeline up to now without earlier drafts' own entries
 * (drafted, pushed), so re-rendering an unchanged incident gives the same Markdown.
 */
export function draftFacts(entries: readonly TimelineEntry[]): TimelineEntry[] {
  return entries.filter((e) => e.kind !== 'postmortem_drafted' && e.kind !== 'postmortem_pushed');
}

/**
 * Takes a closed incident out of the closing index, unless its close's own follow-up is still owed
 * (`close-owed`: a close cut short after it left the open index): the closing index is then the
 * only place the sweeper finds it, and the sweeper takes it out once that is done.
 */
async function leaveClosingIndexUnlessOwed(deps: Deps, id: IncidentId): Promise<void> {
  if ((await deps.store.meta(id))['close-owed']) return;
  await deps.store.leaveClosingIndex(id);
}

/** Display names of everyone the timeline mentions, from Slack (ids stay when Slack is unreachable). */
async function peopleOf(deps: Deps, entries: TimelineEntry[]): Promise<Record<string, string>> {
  if (!deps.slack) return {};
  const ids = new Set<string>();
  for (const e of entries) {
    if (e.actor.type === 'user') ids.add(e.actor.id);
    if (e.kind === 'role_assigned') ids.add(e.userId);
    if (e.kind === 'followup_added' && e.owner) ids.add(e.owner);
    if (e.kind === 'message_recorded') ids.add(e.author);
    if (e.kind === 'escalated') for (const u of e.userIds) ids.add(u);
    if (e.kind === 'slack_refused' && e.action === 'invite') ids.add(e.target);
  }
  const slack = deps.slack;
  const pairs = await Promise.all([...ids].map(async (id) => [id, await slack.userName(id)] as const));
  return Object.fromEntries(pairs);
}
