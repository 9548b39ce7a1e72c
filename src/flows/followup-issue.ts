import { DomainError, RetryLater } from '../core/errors.js';
import type { IncidentId } from '../core/incident-model.js';
import { channelUrl, followupIssueText } from '../core/outbound.js';
import type { Deps } from './deps.js';
import { handleOutboundError } from './outbound-failure.js';
import { mutate } from './record.js';

/** The "sent a create" claim lives as long as any retry of it can (30 days). */
const SENT_CLAIM_TTL_S = 30 * 24 * 3600;

/** Whether follow-ups go to a tracker: the one named by the settings, or undefined. */
export function configuredTracker(deps: Deps): 'github' | 'jira' | undefined {
  const c = deps.config;
  if (c.FOLLOWUP_GITHUB_REPO) return 'github';
  if (c.FOLLOWUP_JIRA_URL) return 'jira';
  return undefined;
}

/**
 * Queues the creation of a follow-up's tracker issue. `request` names the asking: `auto` for the
 * `/incident followup` that added it, else the Slack action/trigger id of a button or
 * `/incident issue`; the job id is deterministic per follow-up and request, so Slack's retries of
 * one request queue one job. Throws BAD_INPUT when no tracker is configured.
 */
export async function requestFollowupIssue(
  deps: Deps,
  id: IncidentId,
  followupId: string,
  request: string,
  requestedBy?: string,
): Promise<void> {
  if (!configuredTracker(deps)) {
    throw new DomainError(
      'BAD_INPUT',
      'No issue tracker is set up',
      'Set FOLLOWUP_GITHUB_REPO and GITHUB_TOKEN, or FOLLOWUP_JIRA_URL, FOLLOWUP_JIRA_PROJECT, JIRA_EMAIL and JIRA_API_TOKEN (README, "Follow-up issues").',
    );
  }
  const safe = request.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
  await deps.jobs.enqueue(
    'followup-issue',
    { incidentId: id, followupId, ...(requestedBy ? { requestedBy } : {}) },
    {
      jobId: `fu-issue-${id}-${followupId}-${safe}`,
      attempts: deps.config.OUTBOUND_JOB_ATTEMPTS,
      backoff: { type: 'exponential', delay: 1000 },
    },
  );
}

/**
 * Creates the tracker issue of follow-up `followupId`, exactly once across retries, requests and
 * workers: nothing is done when the timeline already has its issue; one creation per incident runs at
 * a time (a store lock); before the first create request the store claims `fu-issue-sent-<F>`, so any
 * later try knows a request may have reached the tracker (a timeout after which the issue exists,
 * a worker killed mid-request) and looks the issue up by its marker before creating another. The
 * owner is mapped to a tracker account through FOLLOWUP_OWNER_MAP, or the issue is left unassigned and
 * the entry says why. The result is a `followup_issue_created` entry (claimed once per follow-up),
 * which the channel and the postmortem draft show.
 */
export async function createFollowupIssue(
  deps: Deps,
  p: { incidentId: IncidentId; followupId: string },
): Promise<'created' | 'found' | 'exists'> {
  const tracker = deps.tracker;
  if (!tracker) throw new DomainError('BAD_INPUT', 'no issue tracker is configured in this worker');
  const id = p.incidentId;
  const lock = { kind: 'followup-issue', incidentId: id } as const;
  // As long as a job lock and renewed while working, as delivery does: a killed worker's lock frees
  // within JOB_LOCK_SECONDS, when BullMQ hands its job to another worker.
  const ttl = Math.max(2000, deps.config.JOB_LOCK_SECONDS * 1000);
  const token = await deps.store.acquireLock(lock, ttl);
  if (!token) throw new RetryLater(`${id}: another follow-up issue is being created`, 1000);
  const renew = setInterval(() => {
    deps.store.renewLock(lock, token, ttl).catch(() => {});
  }, ttl / 3);
  try {
    const inc = await deps.store.current(id);
    if (!inc) throw new DomainError('INCIDENT_NOT_FOUND', `${id} does not exist`);
    const f = inc.followups.find((x) => x.id === p.followupId);
    if (!f) throw new DomainError('BAD_INPUT', `${id} has no follow-up ${p.followupId}`);
    if (f.issue) return 'exists';

    let owner: { account?: string; why?: string } = {};
    if (f.owner) owner = await tracker.accountFor(f.owner);
    const text = followupIssueText(inc, f, {
      channelUrl: inc.channelId ? channelUrl(inc.channelId) : undefined,
      ownerNote:
        f.owner && !owner.account ? `Owner in Slack: ${f.owner} (unassigned: ${owner.why})` : undefined,
    });
    const subject = `follow-up ${f.id}`;
    let issue: Awaited<ReturnType<typeof tracker.create>> | undefined;
    let found = false;
    try {
      const first = await deps.store.claim(`fu-issue-sent-${f.id}`, SENT_CLAIM_TTL_S, id);
      if (!first) {
        // An earlier try sent a create: it may have reached the tracker before it timed out.
        issue = await tracker.findByMarker(text.marker, inc.declaredAt);
        found = issue !== undefined;
      }
      issue ??= await tracker.create({ ...text, assignee: owner.account });
    } catch (err) {
      return await handleOutboundError(deps, id, err, {
        subject,
        where: tracker.where,
        claimBase: `fu-issue-${f.id}`,
      });
    }
    const unassigned = issue.unassigned ?? (f.owner && !owner.account ? owner.why : undefined);
    await mutate(
      deps,
      id,
      () => [
        {
          kind: 'followup_issue_created',
          incidentId: id,
          at: deps.now().toISOString(),
          actor: { type: 'bot' },
          source: 'bot',
          followupId: f.id,
          tracker: tracker.kind,
          key: issue.key,
          url: issue.url,
          ...(owner.account && !issue.unassigned ? { assignee: owner.account } : {}),
          ...(unassigned ? { unassigned } : {}),
          ...(found ? { found } : {}),
        },
      ],
      { claimKey: `fu-issue-created-${f.id}`, allowClosed: true },
    );
    // A draft already written (the button sits under it) is re-rendered so it carries the link too.
    if (inc.postmortemPath) {
      await deps.jobs.enqueue(
        'draft-postmortem',
        { incidentId: id },
        { jobId: `postmortem-${id}-issue-${f.id}` },
      );
    }
    return found ? 'found' : 'created';
  } finally {
    clearInterval(renew);
    await deps.store.releaseLock(lock, token);
  }
}
