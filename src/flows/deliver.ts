import { RetryLater } from '../core/errors.js';
import type { IncidentId } from '../core/incident-model.js';
import { entryMessage } from '../slack/entry-message.js';
import { summaryMessage } from '../slack/render.js';
import { type Deps, slackOf } from './deps.js';
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
        const msg = entryMessage(e);
        if (e.kind === 'postmortem_drafted') {
          const draft = await deps.store.postmortemUpload(id);
          if (draft) {
            await slack.uploadFile(inc.channelId, { ...draft, threadTs: inc.threadTs });
            posted++;
          }
        } else if (msg) {
          await postOnce(deps, slack, id, inc.channelId, `entry-${e.seq}`, {
            ...msg,
            threadTs: inc.threadTs,
          });
          posted++;
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
