// Wires the diagnostics checklist into the bot (imported once from src/extensions.ts): the channel-ready
// hook that posts it, the job processors that run checks and re-render it, and the checkbox listener.
import type { BlockAction, CheckboxesAction } from '@slack/bolt';
import {
  diagnosticsSetup,
  postChecklist,
  recordCheckJobFailure,
  recordChecklistTick,
  recordDiagnosticsRunFailure,
  renderChecklist,
  runCheckJob,
  runDiagnosticsJob,
} from '../flows/run-diagnostics.js';
import { onChannelReady } from '../flows/setup-channel.js';
import { onFinalFailure, registerProcessor } from '../jobs/processors.js';
import { extendSlackApp, userFacing } from './app.js';
import { CHECKLIST_ACTION_PREFIX } from './checklist-render.js';

onChannelReady((deps, id) => postChecklist(deps, id));
registerProcessor('run-diagnostics', (deps, p) => runDiagnosticsJob(deps, p));
registerProcessor('run-check', (deps, p) => runCheckJob(deps, p));
// A check job that failed for good shows as an error with the reason, not pending forever.
onFinalFailure('run-check', (deps, p, failure) => recordCheckJobFailure(deps, p, failure));
// So does every check a diagnostics run marked pending but failed for good before queueing.
onFinalFailure('run-diagnostics', (deps, p, failure) => recordDiagnosticsRunFailure(deps, p, failure));
registerProcessor('render-checklist', (deps, p) => renderChecklist(deps, p.incidentId));

const ITEM_ACTION = new RegExp(`^${CHECKLIST_ACTION_PREFIX}`);

extendSlackApp((app, deps, metrics) => {
  // Load the targets file and templates at start-up so a broken file is logged now, not at the first incident.
  void diagnosticsSetup(deps);

  app.action<BlockAction<CheckboxesAction>>(
    { type: 'block_actions', action_id: ITEM_ACTION },
    async ({ ack, body, action, respond }) => {
      await ack();
      metrics.requests.inc({ kind: 'block_actions', status: '200' });
      const itemId = action.action_id.slice(CHECKLIST_ACTION_PREFIX.length);
      const channelId = body.channel?.id ?? body.container?.channel_id;
      if (!channelId) return;
      try {
        await recordChecklistTick(deps, {
          channelId,
          itemId,
          // Slack sends the element's whole selection; each manual item has its own one-option element.
          checked: action.selected_options.some((o) => o.value === itemId),
          userId: body.user.id,
          actionTs: action.action_ts,
        });
      } catch (err) {
        await respond({
          response_type: 'ephemeral',
          replace_original: false,
          text: userFacing(err, deps.log),
        });
      }
    },
  );
});
