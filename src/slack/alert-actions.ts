import type { App } from '@slack/bolt';
import { IncidentId } from '../core/incident-model.js';
import { closeIncident } from '../flows/change-status.js';
import type { Deps } from '../flows/deps.js';
import type { Metrics } from '../metrics.js';
import { CLOSE_INCIDENT_ACTION, RUNBOOK_ACTION } from './alert-render.js';
import { userFacing } from './app.js';

/** Adds the Bolt listeners of the alert posts: the all-resolved notice's "Close incident" button and runbook links (called by createSlackApp). */
export function wireAlertActions(app: App, deps: Deps, metrics: Metrics): void {
  // "Close incident" under the all-resolved notice: a person closes, the bot never does by itself.
  app.action(CLOSE_INCIDENT_ACTION, async ({ ack, body, action, respond }) => {
    await ack();
    metrics.requests.inc({ kind: 'block_action', status: '200' });
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    const id = IncidentId.safeParse(action.value);
    if (!id.success) return;
    try {
      await closeIncident(deps, id.data, 'All alerts resolved', {
        actor: { type: 'user', id: body.user.id },
        source: 'button',
        // Slack retries an interaction it thinks went unanswered: same action_ts, same close.
        claimKey: `button-${id.data}-${'action_ts' in action ? action.action_ts : body.trigger_id}`,
      });
    } catch (err) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: userFacing(err, deps.log) });
    }
  });
  // A URL button still sends an action; acknowledge it so Slack shows no error.
  app.action(RUNBOOK_ACTION, async ({ ack }) => {
    await ack();
  });
}
