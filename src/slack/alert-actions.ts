import { IncidentId } from '../core/incident-model.js';
import { closeIncident } from '../flows/change-status.js';
import { addEntryRenderer } from '../flows/deliver.js';
import { postAllResolved, resumeAlertNotice } from '../flows/ingest-alert.js';
import { onChannelReady } from '../flows/setup-channel.js';
import { registerProcessor } from '../jobs/processors.js';
import { alertEntryMessage, CLOSE_INCIDENT_ACTION, RUNBOOK_ACTION } from './alert-render.js';
import { extendSlackApp, userFacing } from './app.js';

// The Slack side of alerts: alert posts in the channel, the "all resolved" notice, and its button.
addEntryRenderer(alertEntryMessage);
registerProcessor('alert-notice', (deps, p) => postAllResolved(deps, p));
onChannelReady(resumeAlertNotice);

extendSlackApp((app, deps, metrics) => {
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
});
