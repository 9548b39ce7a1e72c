import type { App } from '@slack/bolt';
import { IncidentId } from '../core/incident-model.js';
import type { Deps } from '../flows/deps.js';
import { requestFollowupIssue } from '../flows/followup-issue.js';
import type { Metrics } from '../metrics.js';
import { userFacing } from './app.js';
import { CREATE_ISSUE_ACTION } from './followup-render.js';

/** Adds the "Create issue" button listener of the follow-ups message (called by createSlackApp). */
export function wireFollowupActions(app: App, deps: Deps, metrics: Metrics): void {
  app.action(CREATE_ISSUE_ACTION, async ({ ack, body, action, respond }) => {
    await ack();
    metrics.requests.inc({ kind: 'block_action', status: '200' });
    if (body.type !== 'block_actions' || action.type !== 'button') return;
    const [rawId, followupId] = (action.value ?? '').split('/');
    const id = IncidentId.safeParse(rawId);
    if (!id.success || !followupId || !/^F\d+$/.test(followupId)) return;
    try {
      // One job per click (Slack's retries of one click carry the same action_ts); the job itself
      // creates the issue once however many clicks, requests and workers there are.
      await requestFollowupIssue(
        deps,
        id.data,
        followupId,
        `button-${'action_ts' in action ? action.action_ts : body.trigger_id}`,
        body.user.id,
      );
      await respond({
        response_type: 'ephemeral',
        replace_original: false,
        text: `Creating the issue of ${followupId}; the link will be posted in the channel.`,
      });
    } catch (err) {
      await respond({ response_type: 'ephemeral', replace_original: false, text: userFacing(err, deps.log) });
    }
  });
}
