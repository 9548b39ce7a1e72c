import { randomUUID } from 'node:crypto';
import { foldTimeline } from '../core/incident.js';
import type { IncidentId } from '../core/incident-model.js';
import type { TimelineEntry } from '../core/timeline.js';
import { confirmationFor, summaryMessage } from '../slack/render.js';
import { type Deps, type SlackMessage, slackOf } from './deps.js';
import type { PostmortemUpload } from './draft-postmortem.js';
import { postOnce } from './post-once.js';

/** Thrown when another worker is delivering this incident's messages; the job retries shortly. */
export class DeliveryBusy extends Error {
  override name = 'DeliveryBusy';
}

type ExtraRenderer = (e: TimelineEntry) => SlackMessage | null;
const extraRenderers: ExtraRenderer[] = [];

/** Registers a renderer for entry kinds owned by another module (alerts, diagnostics). */
export function addEntryRenderer(r: ExtraRenderer): void {
  extraRenderers.push(r);
}

/**
 * Posts the incident's undelivered timeline entries to its channel in seq order, then refreshes
 * the pinned summary. One worker at a time per incident (a Redis lock) keeps the channel in
 * order; a cursor in Redis makes a retried job continue where the last one stopped.
 */
export async function deliver(deps: Deps, id: IncidentId): Promise<{ posted: number }> {
  const slack = slackOf(deps);
  const { redis, k } = deps.store;
  const token = randomUUID();
  // Issue 3 fix: the lock was a fixed 60 s, so a worker killed while holding it froze the channel for
  // a minute. Now it lives as long as a job lock and is renewed while posting (a rate-limited channel
  // can take longer than that), so a crashed holder frees it within JOB_LOCK_SECONDS.
  const ttl = Math.max(2000, deps.config.JOB_LOCK_SECONDS * 1000);
  if (!(await redis.set(k.deliveryLock(id), token, 'PX', ttl, 'NX')))
    throw new DeliveryBusy(`${id}: delivery in progress`);
  const renew = setInterval(() => {
    redis
      .eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
        1,
        k.deliveryLock(id),
        token,
        String(ttl),
      )
      .catch(() => {});
  }, ttl / 2);
  try {
    const entries = await deps.store.entries(id);
    if (entries.length === 0) return { posted: 0 };
    const inc = foldTimeline(entries);
    if (!inc.channelId || !inc.summaryTs) return { posted: 0 }; // setup-channel delivers once the channel exists
    const cursor = Number((await redis.get(k.delivered(id))) ?? 0);
    let posted = 0;
    for (const e of entries.slice(cursor)) {
      const msg = confirmationFor(e) ?? extraRenderers.map((r) => r(e)).find((m) => m !== null) ?? null;
      if (e.kind === 'postmortem_drafted') {
        const draft = await redis.get(k.postmortem(id));
        if (draft) {
          await slack.uploadFile(inc.channelId, JSON.parse(draft) as PostmortemUpload);
          posted++;
        }
      } else if (msg) {
        await postOnce(deps, slack, id, inc.channelId, `entry-${e.seq}`, msg);
        posted++;
      }
      await redis.set(k.delivered(id), String(e.seq));
    }
    if (cursor < entries.length)
      await slack.update(inc.channelId, inc.summaryTs, summaryMessage(inc, deps.now()));
    return { posted };
  } finally {
    clearInterval(renew);
    await redis.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      k.deliveryLock(id),
      token,
    );
  }
}
