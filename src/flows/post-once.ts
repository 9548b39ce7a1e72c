import type { IncidentId } from '../core/incident-model.js';
import type { Deps, PostMark, SlackMessage, SlackPort } from './deps.js';

/**
 * Posts a message at most once per `key`, across crashes: the post carries `key` as Slack message
 * metadata and is noted in the store before the call. A retry that finds the note (the worker died
 * between Slack's answer and recording it) looks the message up in the channel's history and
 * returns its ts instead of posting again. Returns the message ts.
 */
export async function postOnce(
  deps: Deps,
  slack: SlackPort,
  id: IncidentId,
  channelId: string,
  key: string,
  msg: SlackMessage,
): Promise<string> {
  const mark: PostMark = { event_type: 'incident_bot_post', event_payload: { incident_id: id, key } };
  if (await deps.store.isPosting(id, key)) {
    const ts = await slack.findPosted(channelId, mark);
    if (ts) {
      await deps.store.clearPosting(id, key);
      return ts;
    }
  }
  await deps.store.markPosting(id, key, deps.now().toISOString());
  const ts = await slack.post(channelId, msg, mark);
  await deps.store.clearPosting(id, key);
  return ts;
}
