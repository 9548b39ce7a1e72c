import { RetryLater, SlackRefused } from '../core/errors.js';
import type { IncidentId } from '../core/incident-model.js';
import type { EntryOf, TimelineEntry } from '../core/timeline.js';
import { alertBatchMessage, alertBatchRest } from '../slack/alert-render.js';
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
      for (let i = 0; i < fresh.length; i++) {
        const e = fresh[i]!;
        // Another worker took the lock over (this one stalled past its TTL): it posts the rest, in order.
        if (lost) return { posted };
        // A run of alert entries (one webhook's worth, or a flood) is one message, so people's own
        // entries after it are never queued behind one post per alert.
        let run = alertRun(fresh, i);
        if (run.length > 0 && i + run.length === fresh.length) {
          // The run reaches the end of what was read: a webhook's alerts may still be being appended
          // (one append each), so take in those already there to post them as one message.
          const more = await deps.store.entries(id, run.at(-1)!.seq + 1);
          run = [...run, ...alertRun(more, 0)];
        }
        if (run.length > 1) {
          posted += await postAlertBatch(deps, id, inc.channelId, inc.threadTs, run);
          await deps.store.setDeliveredCursor(id, run.at(-1)!.seq);
          i += run.length - 1;
          continue;
        }
        const msg = (await alreadyToldReceiverDown(deps, id, e)) ? null : entryMessage(e);
        if (e.kind === 'postmortem_drafted') {
          const draft = await deps.store.postmortemUpload(id);
          if (draft) {
            await slack.uploadFile(inc.channelId, { ...draft, threadTs: inc.threadTs });
            posted++;
          }
          // Issue 14: each follow-up with its issue link or a "Create issue" button, once per draft.
          const followups = followupsMessage(inc, configuredTracker(deps));
          if (followups)
            await postOnce(deps, slack, id, inc.channelId, `entry-${e.seq}-followups`, followups);
        } else if (msg) {
          await postOnce(deps, slack, id, inc.channelId, `entry-${e.seq}`, {
            ...msg,
            threadTs: inc.threadTs,
          });
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
    const code = err instanceof SlackRefused ? err.code : (err as { data?: { error?: string } }).data?.error;
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

type AlertEntry = EntryOf<'alert_fired'> | EntryOf<'alert_resolved'>;

const isAlert = (e: TimelineEntry): e is AlertEntry =>
  e.kind === 'alert_fired' || e.kind === 'alert_resolved';

/** The consecutive alert entries starting at `from` (empty when that entry is not an alert). */
function alertRun(entries: readonly TimelineEntry[], from: number): AlertEntry[] {
  const run: AlertEntry[] = [];
  for (let i = from; i < entries.length && isAlert(entries[i]!); i++) run.push(entries[i] as AlertEntry);
  return run;
}

/**
 * Posts a run of alert entries as one batch message (the first few, "…and N−k more") and the rest
 * in its thread, as a message or, for a flood, a file. Keyed by the run's first and last seq: a
 * retry that finds the post reuses it. Returns the number of posts made.
 */
async function postAlertBatch(
  deps: Deps,
  id: IncidentId,
  channelId: string,
  threadTs: string | undefined,
  run: AlertEntry[],
): Promise<number> {
  const slack = slackOf(deps);
  const key = `alerts-${run[0]!.seq}-${run.at(-1)!.seq}`;
  const ts = await postOnce(deps, slack, id, channelId, key, { ...alertBatchMessage(run), threadTs });
  const rest = alertBatchRest(run);
  if (!rest) return 1;
  if ('message' in rest) {
    await postOnce(deps, slack, id, channelId, `${key}-rest`, { ...rest.message, threadTs: threadTs ?? ts });
  } else {
    await slack.uploadFile(channelId, { ...rest.file, comment: rest.file.title, threadTs: threadTs ?? ts });
  }
  return 2;
}
