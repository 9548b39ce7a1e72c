import type { View } from '@slack/types';

/** block_id and action_id of the start modal's "Private incident" checkbox. */
export const PRIVATE_BLOCK = 'private';

/** callback_id of the "Declare an incident" modal. */
export const START_MODAL_ID = 'start_incident';

/** The modal `/incident start` opens with no text: title, severity, summary (https://api.slack.com/reference/surfaces/views). */
export function startIncidentModal(channelId: string): View {
  return {
    type: 'modal',
    callback_id: START_MODAL_ID,
    private_metadata: JSON.stringify({ channelId }),
    title: { type: 'plain_text', text: 'Declare an incident' },
    submit: { type: 'plain_text', text: 'Declare' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'title',
        label: { type: 'plain_text', text: 'Title' },
        element: {
          type: 'plain_text_input',
          action_id: 'title',
          max_length: 150,
          placeholder: { type: 'plain_text', text: 'Checkout latency and 5xx' },
        },
      },
      {
        type: 'input',
        block_id: 'severity',
        label: { type: 'plain_text', text: 'Severity' },
        element: {
          type: 'static_select',
          action_id: 'severity',
          initial_option: { text: { type: 'plain_text', text: 'SEV3 — minor impact' }, value: 'SEV3' },
          options: [
            { text: { type: 'plain_text', text: 'SEV1 — critical, customer-facing outage' }, value: 'SEV1' },
            { text: { type: 'plain_text', text: 'SEV2 — major degradation' }, value: 'SEV2' },
            { text: { type: 'plain_text', text: 'SEV3 — minor impact' }, value: 'SEV3' },
            { text: { type: 'plain_text', text: 'SEV4 — no customer impact' }, value: 'SEV4' },
          ],
        },
      },
      {
        type: 'input',
        block_id: PRIVATE_BLOCK,
        optional: true,
        label: { type: 'plain_text', text: 'Visibility' },
        element: {
          type: 'checkboxes',
          action_id: PRIVATE_BLOCK,
          options: [
            {
              text: { type: 'plain_text', text: 'Private incident' },
              description: {
                type: 'plain_text',
                text: 'A private channel; the announce channel only hears that one was declared.',
              },
              value: 'private',
            },
          ],
        },
      },
      {
        type: 'input',
        block_id: 'summary',
        optional: true,
        label: { type: 'plain_text', text: 'What do you see?' },
        element: { type: 'plain_text_input', action_id: 'summary', multiline: true, max_length: 2900 },
      },
    ],
  };
}

/**
 * A closable notice shown in place of the start form (a `response_action: update` view, then
 * views.update): `text` is mrkdwn, at most 3,000 characters (https://docs.slack.dev/reference/block-kit/blocks/section-block).
 */
export function startNoticeView(text: string): View {
  return {
    type: 'modal',
    callback_id: `${START_MODAL_ID}_notice`,
    title: { type: 'plain_text', text: 'Declare an incident' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: text.slice(0, 3000) } }],
  };
}
