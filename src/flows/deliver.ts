import { RetryLater } from '../core/errors.js';
import type { IncidentId } from '../core/incident-model.js';
import type { TimelineEntry } from '../core/timeline.js';
import { entryMessage } from '../slack/entry-message.js';
import { followupsMessage } from '../slack/followup-render.js';
import { summaryMessage } from '../slack/render.js';
import { type Deps, type SlackMessage, slackOf } from './deps.js';
import { configuredTracker } from './followup-issue.js';
import { postOnce } from './post-once.js';

/** Thrown when another worker is delivering this incident's messages: that worker posts ours too; this job is delayed, not failed. */
export class DeliveryBusy extends RetryLater {
  override name = 'DeliveryBusy';
}

/**
 * Posts the incident's undelivered timeline entries to its channel in seq order, then refreshes
 * the pinned summary. One worker at a time per incident (a lock in the store) keeps the channel in
 * order, and the holder keeps going until the cursor reaches the end of the timeline before it
 * lets go, so entries appended while it posts are posted by it (a job that meets the lock is
 * delayed, not failed). The cursor makes a retried job continue where the last one stopped.
 */
export async function deliver(deps: Deps, id: IncidentId): Promise<{ posted: number }> {
  const slack = slackOf(deps);
  const lock = { kind: 'delivery', incidentId: id } as const;
  // As long as a job lock, renewed while posting (a rate-limited channel can take longer than
  // that), so a crashed holder frees it within JOB_LOCK_SECONDS.
  const ttl = Math.max(2000, deps.config.JOB_LOCK_SECONDS * 1000);
  const token = await deps.store.acquireLock(lock, ttl);
  if (!token) throw new DeliveryBusy(`${id}: delivery in progress`, Math.min(ttl, 2000));
  let lost = false;
  const renew = setInterval(() => {
    deps.store.renewLock(lock, token, ttl).then(
      (held) => {
        if (!held) lost = true;
      },
      () => {},
    );
  }, ttl / 3);
  let posted = 0;
  try {
    for (;;) {
      const cursor = await deps.store.deliveredCursor(id);
      const fresh = await deps.store.entries(id, cursor + 1);
      if (fresh.length === 0) break;
      // Read after the entries, so the summary covers at least what is posted now.
      const inc = await deps.store.current(id);
      if (!inc?.channelId || !inc.summaryTs) break; // setup-channel delivers once the channel exists
      for (const e of fresh) {
        // Another worker took the lock over (this one stalled past its TTL): it posts the rest, in order.
        if (lost) return { posted };
        const msg = (await alreadyToldReceiverDown(deps, id, e)) ? null : entryMessage(e);
        if (e.kind === 'postmortem_drafted') {
          const draft = await deps.store.postmortemUpload(id);
          if (draft) {
            await slack.uploadFile(inc.channelId, draft);
            posted++;
          }
          // Issue 14: each follow-up with its issue link or a "Create issue" button, once per draft.
          const followups = followupsMessage(inc, configuredTracker(deps));
          if (followups)
            await postOnce(deps, slack, id, inc.channelId, `entry-${e.seq}-followups`, followups);
        } else if (msg) {
          await postOnce(deps, slack, id, inc.channelId, `entry-${e.seq}`, msg);
          posted++;
          // Issue 14: stakeholders in the announce channel get the same structured update.
          const announce = deps.config.INCIDENT_ANNOUNCE_CHANNEL;
          if (e.kind === 'stakeholder_update' && announce) {
            posted += await announceUpdate(deps, id, inc.channelId, announce, e.seq, msg);
          }
        }
        await deps.store.setDeliveredCursor(id, e.seq);
      }
      await slack.update(inc.channelId, inc.summaryTs, summaryMessage(inc, deps.now()));
    }
    return { posted };
  } finally {
    clearInterval(renew);
    await deps.store.releaseLock(lock, token);
  }
}

/** Slack's refusals that retrying cannot fix: the bot is not in the announce channel, or it is gone or read-only. */
const ANNOUNCE_REFUSALS = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'restricted_action',
]);

/**
 * Posts a stakeholder update to the announce channel; when Slack refuses for good, tells the incident
 * channel what to fix instead of holding up its messages. Returns the messages posted.
 */
async function announceUpdate(
  deps: Deps,
  id: IncidentId,
  channelId: string,
  announce: string,
  seq: number,
  msg: SlackMessage,
): Promise<number> {
  const slack = slackOf(deps);
  try {
    await postOnce(deps, slack, id, announce, `update-${seq}-announce`, msg);
    return 1;
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    if (!code || !ANNOUNCE_REFUSALS.has(code)) throw err;
    await deps.store.clearPosting(id, `update-${seq}-announce`);
    deps.log.warn({ id, announce, code }, 'announce channel refused the stakeholder update');
    await postOnce(deps, slack, id, channelId, `update-${seq}-announce-refused`, {
      text: `:warning: This update could not be posted to <#${announce}> (Slack said \`${code}\`): invite incident-bot there with \`/invite @incident-bot\`, or set INCIDENT_ANNOUNCE_CHANNEL to a channel it is in.`,
    });
    return 1;
  }
}

/**
 * True for a missed outgoing webhook event when an earlier one to the same receiver was already
 * told in the channel: a receiver down for an incident is said once, and each event it missed is
 * on the timeline. Decided from the timeline alone, so a retried delivery decides the same.
 */
async function alreadyToldReceiverDown(deps: Deps, id: IncidentId, e: TimelineEntry): Promise<boolean> {
  if (e.kind !== 'job_failed' || e.job !== 'outgoing-webhook') return false;
  const to = receiverOf(e.detail);
  if (!to) return false;
  const earlier = await deps.store.entries(id);
  return earlier.some(
    (x) =>
      x.seq < e.seq && x.kind === 'job_failed' && x.job === 'outgoing-webhook' && receiverOf(x.detail) === to,
  );
}

/** The receiver in a missed event's detail (`event #5 to https://…`). */
function receiverOf(detail: string | undefined): string | undefined {
  return detail?.split(' to ')[1];
}
