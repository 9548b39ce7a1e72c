import { SlackRefused } from '../core/errors.js';
import type { IncidentId } from '../core/incident-model.js';
import type { EntryOf } from '../core/timeline.js';
import { type Deps, type SlackMessage, slackOf } from './deps.js';
import { mutate } from './record.js';

/**
 * Records that Slack refused `action` on `target` for incident `id` (a `slack_refused` entry, once
 * per action and target: its delivery says it in the incident channel). Works on a closed incident too.
 */
export async function recordRefusal(
  deps: Deps,
  id: IncidentId,
  action: EntryOf<'slack_refused'>['action'],
  target: string,
  error: string,
): Promise<void> {
  deps.log.warn({ id, action, target, error }, 'Slack refused; recorded and said in the channel');
  await mutate(
    deps,
    id,
    () => [
      {
        kind: 'slack_refused',
        incidentId: id,
        at: deps.now().toISOString(),
        actor: { type: 'bot' },
        source: 'bot',
        action,
        target,
        error,
      },
    ],
    { claimKey: `refused-${action}-${target}`, allowClosed: true },
  );
}

/**
 * Posts `msg` to INCIDENT_ANNOUNCE_CHANNEL for incident `id`. An announce channel that refuses
 * (archived, private without the bot, deleted) never stops the caller: the refusal is recorded
 * once (and said in the incident channel) and false returned. True when posted; false when no
 * announce channel is set or it refused. Other errors (rate limits, outages) throw, to be retried.
 */
export async function announce(deps: Deps, id: IncidentId, msg: SlackMessage): Promise<boolean> {
  const channel = deps.config.INCIDENT_ANNOUNCE_CHANNEL;
  if (!channel) return false;
  try {
    await slackOf(deps).post(channel, msg);
    return true;
  } catch (err) {
    if (!(err instanceof SlackRefused)) throw err;
    await recordRefusal(deps, id, 'announce', channel, err.code);
    return false;
  }
}
