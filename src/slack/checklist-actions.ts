import type { App, BlockAction, CheckboxesAction } from '@slack/bolt';
import { diagnosticsSetup } from '../diagnostics/setup.js';
import { recordChecklistTick } from '../flows/checklist.js';
import type { Deps } from '../flows/deps.js';
import type { Metrics } from '../metrics.js';
import { userFacing } from './app.js';
import { CHECKLIST_ACTION_PREFIX } from './checklist-render.js';

const ITEM_ACTION = new RegExp(`^${CHECKLIST_ACTION_PREFIX}`);

/** Adds the Bolt listener of the diagnostics checklist's checkboxes (called by createSlackApp). */
export function wireChecklistActions(app: App, deps: Deps, metrics: Metrics): void {
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
}
